//! The plugin in a real host with the mood model beside the genre model (`models/mood.onnx`,
//! found through `GENRESCOPE_MOOD_MODEL`; 32 kHz against the genre model's 16 kHz, so the worker
//! runs two resamplers): the audio passes through bit-exact and allocation-free
//! (`assert_process_allocs`), and both models classify the music.

mod harness;

use std::time::Duration;

use genrescope::decode::decode_mono_at;
use harness::{assert_bit_exact, process_paced, provide_onnx_runtime, PluginUnderTest, MAX_BLOCK};

#[test]
fn the_mood_model_runs_at_its_own_rate_beside_the_genre_model() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mood.onnx");
    // The only test of this binary: no other thread reads the environment yet.
    std::env::set_var(genrescope::inference::catalog::MOOD_MODEL_ENV, shipped);
    provide_onnx_runtime();

    let rate = 44_100;
    let clip = harness::shared_music().join("gtzan/disco/disco.00000.ogg");
    let mut samples = decode_mono_at(&clip, rate).unwrap().samples;
    samples.truncate(rate as usize * 10);
    let input = vec![samples.clone(), samples];
    let mut plugin = PluginUnderTest::load();
    plugin.select_channels(2);
    let processor = plugin.activate(f64::from(rate), MAX_BLOCK as u32);
    let blocks = vec![512; input[0].len() / 512 + 1];
    let pacer = plugin.pacer(u64::from(rate) * 2);
    let (processor, output) = process_paced(processor, &input, &blocks, &pacer);
    assert_bit_exact(&input, &output, "with a mood model");
    let frames = input[0].len() as u64;
    let report = plugin.wait_for(Duration::from_secs(120), |r| r.stats.received == frames);
    plugin.deactivate(processor);
    assert_eq!(
        (report.model_state, report.mood_state),
        (1, 1),
        "{report:?}"
    );
    // 10 s: 3 windows of about 3 s for each model, less what each resampler still holds.
    assert!((2..=3).contains(&report.windows), "{report:?}");
    assert!((2..=3).contains(&report.mood_windows), "{report:?}");
    assert_eq!(report.mood_labels, 4, "the four quadrants");
}
