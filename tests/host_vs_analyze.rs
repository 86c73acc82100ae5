//! Real clips from `../shared/music` through the built plugin in a CLAP host: the track summary
//! the plugin publishes must name the same top genre as `genrescope analyze` on the same file
//! and model, with the same distribution.

mod harness;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use genrescope::decode::decode_mono;
use harness::{assert_bit_exact, process_paced, provide_onnx_runtime, PluginUnderTest};

/// Clips from several sources and genres of the shared corpus.
const CLIPS: &[&str] = &[
    "gtzan/blues/blues.00000.ogg",
    "gtzan/classical/classical.00000.ogg",
    "gtzan/reggae/reggae.00002.ogg",
    "gtzan/hiphop/hiphop.00001.ogg",
    "emotify/classical/emotify_009.ogg",
];

fn clip(path: &str) -> PathBuf {
    harness::shared_music().join(path)
}

/// `genrescope analyze --json` on the clips, as a user would run it, with the model the
/// plugin starts with (`analyze` defaults to the fast one).
fn analyze(paths: &[PathBuf]) -> serde_json::Value {
    provide_onnx_runtime();
    let output = Command::new(env!("CARGO_BIN_EXE_genrescope"))
        .arg("analyze")
        .args(paths)
        .args(["--json", "--threads", "2", "--model", "accurate"])
        .output()
        .expect("run genrescope analyze");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("analyze --json prints JSON")
}

#[test]
fn the_plugin_publishes_the_top_genre_analyze_reports() {
    let paths: Vec<PathBuf> = CLIPS.iter().map(|c| clip(c)).collect();
    let offline = analyze(&paths);
    let labels: Vec<String> = serde_json::from_value(offline["labels"].clone()).unwrap();

    for (path, file) in paths.iter().zip(offline["files"].as_array().unwrap()) {
        let tags = &file["tags"];
        let expected_top = tags["genres"][0]["label"].as_str().unwrap();
        let expected_windows = tags["windows"].as_u64().unwrap();

        // A host at the file's rate, fed the file as it is decoded, gives each of the model's
        // networks the samples `analyze` gives it: the plugin resamples the stream to each
        // network's rate (16 and 32 kHz) as `analyze` resamples the file. The summary must
        // equal the offline one, not just agree on the top genre.
        let audio = decode_mono(path).unwrap();
        let rate = audio.sample_rate;
        let input = vec![audio.samples.clone(), audio.samples];
        let mut plugin = PluginUnderTest::load();
        let processor = plugin.activate(f64::from(rate), 4096);
        let pacer = plugin.pacer(u64::from(rate) * 2);
        let (processor, output) = process_paced(processor, &input, &[512, 77, 4096, 1], &pacer);
        assert_bit_exact(&input, &output, &path.display().to_string());
        let frames = input[0].len() as u64;
        let report = plugin.wait_for(Duration::from_secs(120), |r| r.stats.received == frames);
        plugin.deactivate(processor);

        assert_eq!(report.model_state, 1, "{report:?}");
        assert_eq!(
            report.summary_windows,
            expected_windows,
            "{}",
            path.display()
        );
        let plugin_top = &labels[report.summary_top as usize];
        assert_eq!(plugin_top, expected_top, "{}: {report:?}", path.display());
        for genre in tags["genres"].as_array().unwrap() {
            let label = genre["label"].as_str().unwrap();
            let index = labels.iter().position(|l| l == label).unwrap();
            let expected = genre["probability"].as_f64().unwrap() as f32;
            assert!(
                (report.summary[index] - expected).abs() < 1e-4,
                "{}: {label} {} vs {expected}",
                path.display(),
                report.summary[index]
            );
        }
        println!(
            "{}: plugin and analyze agree: {expected_top} ({} windows)",
            path.display(),
            expected_windows
        );
    }
}
