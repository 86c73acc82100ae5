//! A plugin whose ONNX Runtime is too old for this build (`ort` needs the 1.31 API). The old
//! library is faked: a small C library, compiled by the test with the system C compiler (the one
//! Rust links with), that exports ONNX Runtime's entry point `OrtGetApiBase` and reports version
//! 1.20.0. `ort` reads that version before it asks for any API table and refuses the library,
//! so the fake never has to provide one (its `GetApi` returns NULL, as a real 1.20 library does
//! for API 31). Its own test binary, because a process loads ONNX Runtime once.

mod harness;

use std::process::Command;

/// ONNX Runtime's `OrtApiBase`: the API table getter and the version string.
const FAKE_RUNTIME: &str = r#"
#include <stddef.h>
#include <stdint.h>
typedef struct { const void *(*GetApi)(uint32_t); const char *(*GetVersionString)(void); } OrtApiBase;
static const void *get_api(uint32_t version) { (void)version; return NULL; }
static const char *version_string(void) { return "1.20.0"; }
static const OrtApiBase base = { get_api, version_string };
const OrtApiBase *OrtGetApiBase(void) { return &base; }
"#;

#[test]
fn audio_passes_and_the_analysis_names_the_version_it_needs() {
    let temporary = tempfile::Builder::new()
        .prefix("genrescope-old-ort-")
        .tempdir()
        .unwrap();
    let dir = temporary.path();
    let source = dir.join("fake_onnxruntime.c");
    std::fs::write(&source, FAKE_RUNTIME).unwrap();
    let library = dir.join(genrescope::inference::runtime::library_file_name());
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
    assert!(
        status.success(),
        "{cc} failed to build the fake ONNX Runtime"
    );

    let report = harness::run_with_unusable_runtime(&library);
    drop(temporary);
    let message = report.message();
    assert!(
        message.contains("cannot load ONNX Runtime")
            && message.contains("expected version >= '1.31.x', but got '1.20.0'")
            && message.contains("restart the host"),
        "{message}"
    );
}
