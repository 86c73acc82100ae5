//! Drives the built CLAP plugin through a real host (`clack-host`): passthrough, analysis
//! delivery, hostile input and state round trips.

mod harness;

use std::time::Duration;

use harness::{
    assert_bit_exact, decode_state, encode_state, process, process_paced, random_block_sizes,
    PluginUnderTest, MAX_BLOCK,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const WORKER_TIMEOUT: Duration = Duration::from_secs(120);

/// `seconds` of a 0.5-amplitude 440 Hz sine with a little noise, identical in every channel.
fn music_like(
    rng: &mut SmallRng,
    sample_rate: f64,
    seconds: f64,
    channels: usize,
) -> Vec<Vec<f32>> {
    let frames = (sample_rate * seconds) as usize;
    let signal: Vec<f32> = (0..frames)
        .map(|i| {
            let t = i as f64 / sample_rate;
            (0.5 * (std::f64::consts::TAU * 440.0 * t).sin()) as f32 + rng.random_range(-1e-3..1e-3)
        })
        .collect();
    vec![signal; channels]
}

/// How the harness host feeds the plugin.
#[derive(Clone, Copy, PartialEq)]
enum Host {
    /// Faster than real time, but never more than 2 s ahead of the worker (half the ring at the
    /// lowest rate): what a real-time host does, only quicker.
    KeepsUp,
    /// As fast as the harness can go, overflowing the ring.
    Floods,
}

/// Runs `input` through a fresh instance at `sample_rate` and checks passthrough and that every
/// sample either reached the worker or was counted as dropped.
fn run_and_check(
    sample_rate: f64,
    input: &[Vec<f32>],
    rng: &mut SmallRng,
    host: Host,
) -> harness::TestReport {
    let context = format!("{} ch at {sample_rate} Hz", input.len());
    let mut plugin = PluginUnderTest::load();
    plugin.select_channels(input.len() as u32);
    let processor = plugin.activate(sample_rate, MAX_BLOCK as u32);
    let blocks = random_block_sizes(rng, 4096, MAX_BLOCK);
    let (processor, output) = match host {
        Host::KeepsUp => {
            let pacer = plugin.pacer((2.0 * sample_rate) as u64);
            process_paced(processor, input, &blocks, &pacer)
        }
        Host::Floods => process(processor, input, &blocks),
    };
    assert_bit_exact(input, &output, &context);

    let frames = input[0].len() as u64;
    let report = plugin.wait_for(WORKER_TIMEOUT, |r| {
        r.stats.pushed + r.stats.dropped == frames && r.stats.received == r.stats.pushed
    });
    plugin.deactivate(processor);
    assert_eq!(report.stats.host_rate_hz, sample_rate as u32, "{context}");
    assert!(!report.stats.worker_failed, "{context}: {report:?}");
    if host == Host::KeepsUp {
        assert_eq!(report.stats.dropped, 0, "{context}: {report:?}");
    }
    report
}

#[test]
fn reports_zero_latency() {
    let mut plugin = PluginUnderTest::load();
    assert_eq!(plugin.latency(), 0);
}

#[test]
fn stereo_passes_through_bit_exact_and_every_sample_reaches_the_worker() {
    let mut rng = SmallRng::seed_from_u64(0x6e72);
    for sample_rate in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        let input = music_like(&mut rng, sample_rate, 60.0, 2);
        let report = run_and_check(sample_rate, &input, &mut rng, Host::KeepsUp);
        assert_eq!(report.stats.nonfinite, 0);
        // 60 s with the built-in model (non-overlapping windows of 187 frames of 256 samples
        // at 16 kHz, 2.99 s): 20 windows, less one still inside the resampler.
        assert_eq!(report.model_state, 1, "{report:?}");
        assert!(
            (19..=20).contains(&report.windows),
            "{sample_rate} Hz: {report:?}"
        );
        // A 0.5-amplitude sine: RMS -9.03 dBFS, peak -6.02 dBFS.
        // Measured after resampling to the model's 16 kHz, which attenuates by up to 0.15 dB
        // at the highest ratios (384 kHz → 16 kHz).
        assert!((report.rms_dbfs - -9.031).abs() < 0.2, "{report:?}");
        assert!((report.peak_dbfs - -6.021).abs() < 0.2, "{report:?}");
    }
}

#[test]
fn a_flooding_host_loses_samples_only_as_counted_drops() {
    let mut rng = SmallRng::seed_from_u64(0xf100d);
    let input = music_like(&mut rng, 192_000.0, 60.0, 2);
    let report = run_and_check(192_000.0, &input, &mut rng, Host::Floods);
    println!("{report:?}");
    // run_and_check proved pushed + dropped == every frame and received == pushed.
    assert!(report.snapshot > 0, "{report:?}");
}

#[test]
fn mono_passes_through_at_the_extreme_sample_rates() {
    let mut rng = SmallRng::seed_from_u64(7);
    for sample_rate in [8_000.0, 44_100.0, 384_000.0] {
        let input = music_like(&mut rng, sample_rate, 10.0, 1);
        let report = run_and_check(sample_rate, &input, &mut rng, Host::KeepsUp);
        // 10 s: 3 windows of the built-in model, less what the resampler still holds.
        assert!(
            (2..=3).contains(&report.windows),
            "{sample_rate} Hz: {report:?}"
        );
        assert!((report.rms_dbfs - -9.031).abs() < 0.2, "{report:?}");
    }
}

#[test]
fn nan_inf_and_denormals_pass_through_and_never_reach_the_analysis() {
    let mut rng = SmallRng::seed_from_u64(99);
    let special = [
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fa0_0001), // signalling NaN with a payload
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE / 2.0, // subnormal
        -1e-45,
        -0.0,
        f32::MAX,
    ];
    let frames = 48_000 * 5;
    let input: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            (0..frames)
                .map(|_| {
                    if rng.random_bool(0.3) {
                        special[rng.random_range(0..special.len())]
                    } else {
                        // Arbitrary bit patterns: every class of float shows up.
                        f32::from_bits(rng.random())
                    }
                })
                .collect()
        })
        .collect();

    let report = run_and_check(48_000.0, &input, &mut rng, Host::KeepsUp);
    assert!(report.stats.nonfinite > 0, "{report:?}");
    assert!(report.windows > 0, "{report:?}");
    assert!(
        report.summary[..report.labels as usize]
            .iter()
            .all(|p| p.is_finite()),
        "{report:?}"
    );
    assert!(
        report.rms_dbfs.is_finite() && report.peak_dbfs.is_finite(),
        "{report:?}"
    );
}

/// Analysis settings that pick one of the repository's model files.
fn file_model_settings(file: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    serde_json::Value::String(
        serde_json::json!({"model": {"kind": "file", "path": path}, "provider": "cpu"}).to_string(),
    )
}

#[test]
fn state_round_trips_and_drives_the_analysis() {
    let mut source = PluginUnderTest::load();
    let mut state: serde_json::Value = decode_state(&source.save_state());
    state["fields"]["analysis-settings"] = file_model_settings("models/crnn.onnx");
    state["fields"]["editor-size"] = serde_json::Value::String("[900,600]".into());
    state["params"]["smoothing"] = serde_json::json!({ "f32": 2.5 });
    let edited = encode_state(&serde_json::to_vec(&state).unwrap());

    let mut restored = PluginUnderTest::load();
    restored.load_state(&edited).expect("load edited state");
    let saved = decode_state(&restored.save_state());
    assert_eq!(saved["fields"], state["fields"]);
    assert_eq!(saved["params"], state["params"]);

    // The restored model (crnn: 6-s windows every 3 s) is what the worker now runs: 10 s of
    // audio give 2 windows (the built-in model would give 3).
    let mut rng = SmallRng::seed_from_u64(1);
    let input = music_like(&mut rng, 48_000.0, 10.0, 2);
    let processor = restored.activate(48_000.0, MAX_BLOCK as u32);
    let (processor, _) = process_paced(processor, &input, &[512], &restored.pacer(96_000));
    let report = restored.wait_for(WORKER_TIMEOUT, |r| r.stats.received == 480_000);
    restored.deactivate(processor);
    assert_eq!(report.model_state, 1, "{report:?}");
    assert_eq!(report.windows, 2, "{report:?}");
}

#[test]
fn history_and_summary_carry_over_a_reactivation() {
    let mut plugin = PluginUnderTest::load();
    let mut rng = SmallRng::seed_from_u64(4);
    let mut windows = 0;
    for rate in [48_000.0, 44_100.0] {
        let input = music_like(&mut rng, rate, 10.0, 2);
        let processor = plugin.activate(rate, MAX_BLOCK as u32);
        let (processor, _) = process_paced(processor, &input, &[512], &plugin.pacer(rate as u64));
        let frames = input[0].len() as u64;
        let report = plugin.wait_for(WORKER_TIMEOUT, |r| r.stats.received == frames);
        plugin.deactivate(processor);
        // The second run adds its windows to the first run's (the model is not reloaded, and
        // without a transport start the track summary goes on).
        assert!(report.windows >= windows + 2, "{rate} Hz: {report:?}");
        assert_eq!(report.summary_windows, report.windows, "{report:?}");
        windows = report.windows;
    }
}

#[test]
fn disabling_analysis_through_state_stops_the_ring_push() {
    let mut plugin = PluginUnderTest::load();
    plugin
        .edit_state(|state| state["params"]["analyze"] = serde_json::json!({ "bool": false }))
        .unwrap();

    let mut rng = SmallRng::seed_from_u64(2);
    let input = music_like(&mut rng, 48_000.0, 1.0, 2);
    let processor = plugin.activate(48_000.0, MAX_BLOCK as u32);
    let (processor, output) = process(processor, &input, &[256]);
    assert_bit_exact(&input, &output, "analysis off");
    let report = plugin.report();
    plugin.deactivate(processor);
    assert_eq!(report.stats.pushed + report.stats.dropped, 0, "{report:?}");
}

#[test]
fn garbage_state_is_rejected_and_the_plugin_keeps_its_settings() {
    let mut plugin = PluginUnderTest::load();
    let before = plugin.save_state();
    let framed_junk = [
        &b"{\"params\": 12}"[..],
        b"{{{{",
        b"\x00\xff\x13garbage",
        b"[]",
    ];
    let huge_length = u64::MAX.to_le_bytes();
    let garbage = [&b""[..], b"\x00\xff\x13garbage", &huge_length]
        .into_iter()
        .map(<[u8]>::to_vec)
        .chain(framed_junk.iter().map(|junk| encode_state(junk)));
    for junk in garbage {
        assert!(plugin.load_state(&junk).is_err(), "{junk:?} was accepted");
    }
    assert_eq!(plugin.save_state(), before);

    // A well-formed state naming a model that is not there loads; the analysis reports the
    // missing file and the audio still passes bit-exact.
    plugin
        .edit_state(|state| {
            state["fields"]["analysis-settings"] = file_model_settings("models/nonexistent.onnx");
        })
        .unwrap();
    let mut rng = SmallRng::seed_from_u64(3);
    let input = music_like(&mut rng, 48_000.0, 4.0, 2);
    let processor = plugin.activate(48_000.0, MAX_BLOCK as u32);
    let (processor, output) = process(processor, &input, &[1024]);
    assert_bit_exact(&input, &output, "missing model");
    let report = plugin.wait_for(WORKER_TIMEOUT, |r| r.stats.received == 4 * 48_000);
    plugin.deactivate(processor);
    assert_eq!(report.model_state, 2, "{report:?}");
    assert!(
        report.message().contains("nonexistent.onnx not found"),
        "{}",
        report.message()
    );
    assert_eq!(report.windows, 0, "{report:?}");
    assert!(!report.stats.worker_failed, "{report:?}");
}
