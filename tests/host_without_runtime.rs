//! A plugin whose ONNX Runtime is not a usable library (here: a junk file where the library
//! should be). Its own test binary, because a process loads ONNX Runtime once.

mod harness;

#[test]
fn audio_passes_and_the_analysis_says_why_it_is_off() {
    let junk = std::env::temp_dir().join(format!(
        "genrescope-junk-{}/{}",
        std::process::id(),
        genrescope::inference::runtime::library_file_name()
    ));
    std::fs::create_dir_all(junk.parent().unwrap()).unwrap();
    std::fs::write(&junk, b"not a shared library").unwrap();

    let report = harness::run_with_unusable_runtime(&junk);
    std::fs::remove_dir_all(junk.parent().unwrap()).unwrap();
    let message = report.message();
    assert!(
        message.contains("cannot load ONNX Runtime") && message.contains("restart the host"),
        "{message}"
    );
}
