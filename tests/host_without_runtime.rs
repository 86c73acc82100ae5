//! A plugin whose ONNX Runtime is not a usable library (here: a junk file where the library
//! should be). Its own test binary, because a process loads ONNX Runtime once.

mod harness;

use std::time::Duration;

use harness::{assert_bit_exact, process, PluginUnderTest};

#[test]
fn audio_passes_and_the_analysis_says_why_it_is_off() {
    let junk = std::env::temp_dir().join(format!(
        "genrescope-junk-{}/{}",
        std::process::id(),
        genrescope::inference::runtime::library_file_name()
    ));
    std::fs::create_dir_all(junk.parent().unwrap()).unwrap();
    std::fs::write(&junk, b"not a shared library").unwrap();
    // Set before the harness would point at the real library.
    std::env::set_var("ORT_DYLIB_PATH", &junk);

    let mut plugin = PluginUnderTest::load();
    let input: Vec<Vec<f32>> = (0..2)
        .map(|ch| {
            (0..48_000 * 4)
                .map(|i| 0.3 * ((i + ch) as f32 * 0.01).sin())
                .collect()
        })
        .collect();
    let processor = plugin.activate(48_000.0, 1024);
    let (processor, output) = process(processor, &input, &[1024, 3, 700]);
    assert_bit_exact(&input, &output, "no ONNX Runtime");
    let report = plugin.wait_for(Duration::from_secs(60), |r| {
        r.stats.received == 4 * 48_000 && r.model_state == 2
    });
    plugin.deactivate(processor);
    std::fs::remove_dir_all(junk.parent().unwrap()).unwrap();
    assert_eq!(report.windows, 0, "{report:?}");
    let message = report.message();
    assert!(
        message.contains("cannot load ONNX Runtime") && message.contains("restart the host"),
        "{message}"
    );
    assert!(!report.stats.worker_failed, "{report:?}");
    assert_eq!(report.stats.dropped, 0, "{report:?}");
}
