//! The plugin in a real third-party host: pedalboard (PyPI), which hosts VST3 plugins through
//! JUCE. The tests assemble `genrescope.vst3` from the plugin library Cargo built for this run,
//! with ONNX Runtime beside it as the bundler puts it, and run `tests/hosts/pedalboard_host.py`:
//! a real clip at 44.1/48/96 kHz, mono and stereo, blocks of 64–8192 samples and NaN/Inf/denormal
//! samples must come back bit-exact, and unloading an instance must leave none of its threads;
//! and at each of those rates and layouts the track summary the plugin publishes must be the
//! one `genrescope analyze` gives for the same audio as a file.
//!
//! pedalboard lives in a virtual environment that `bash .ci/hosts` creates in `.venv-hosts/`
//! (or set `GENRESCOPE_HOST_PYTHON` to a Python that has it).

#![cfg(target_os = "linux")]

mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python that has pedalboard, or a panic that says how to get one.
fn host_python() -> PathBuf {
    let python = std::env::var_os("GENRESCOPE_HOST_PYTHON").map_or_else(
        || repository().join(".venv-hosts/bin/python"),
        PathBuf::from,
    );
    assert!(
        python.is_file(),
        "{} is missing: run `bash .ci/hosts` (a virtual environment with pedalboard) first, \
         as the README's test command does",
        python.display()
    );
    python
}

/// `genrescope.vst3` in `dir` as `cargo xtask bundle` lays it out on Linux: the plugin library
/// and ONNX Runtime side by side in `Contents/<arch>-linux/`.
fn assemble_bundle(dir: &Path) -> PathBuf {
    harness::provide_onnx_runtime();
    let bundle = dir.join("genrescope.vst3");
    let binaries = bundle
        .join("Contents")
        .join(format!("{}-linux", std::env::consts::ARCH));
    std::fs::create_dir_all(&binaries).expect("bundle folder");
    std::fs::copy(harness::library_path(), binaries.join("genrescope.so")).expect("plugin");
    let runtime = PathBuf::from(std::env::var_os("ORT_DYLIB_PATH").expect("provided above"));
    std::fs::copy(
        &runtime,
        binaries.join(runtime.file_name().expect("file name")),
    )
    .expect("ONNX Runtime");
    bundle
}

/// Runs `tests/hosts/pedalboard_host.py` with `args` on a freshly assembled bundle; returns
/// its standard output once it succeeded.
fn run_host(args: impl FnOnce(&Path) -> Vec<std::ffi::OsString>) -> String {
    let python = host_python();
    let dir = tempfile::Builder::new()
        .prefix("genrescope-pedalboard-")
        .tempdir()
        .expect("temporary folder");
    let bundle = assemble_bundle(dir.path());
    let output = Command::new(python)
        .arg(repository().join("tests/hosts/pedalboard_host.py"))
        .args(args(&bundle))
        // The plugin must find ONNX Runtime beside itself, as an installed one does.
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .expect("run the pedalboard host");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the pedalboard host failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

#[test]
fn pedalboard_passes_real_audio_through_bit_exact_and_unloads_cleanly() {
    let clip = harness::shared_music().join("gtzan/blues/blues.00000.ogg");
    let stdout = run_host(|bundle| vec![bundle.into(), clip.into()]);
    assert!(stdout.contains("passthrough checks bit-exact"), "{stdout}");
}

#[test]
fn pedalboard_track_summaries_equal_analyze_at_every_rate_and_layout() {
    let clip = harness::shared_music().join("emotify/electronic/emotify_202.ogg");
    let files = tempfile::tempdir().expect("temporary folder");
    let stdout = run_host(|bundle| {
        vec![
            "--summaries".into(),
            bundle.into(),
            clip.into(),
            files.path().into(),
        ]
    });
    let live: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("summary "))
        .map(|json| serde_json::from_str(json).expect("a summary line is JSON"))
        .collect();
    assert_eq!(live.len(), 6, "3 rates × mono and stereo: {stdout}");

    harness::provide_onnx_runtime();
    for played in live {
        let file = played["file"].as_str().expect("file");
        let output = Command::new(env!("CARGO_BIN_EXE_genrescope"))
            .args(["analyze", file, "--json", "--model", "accurate"])
            .output()
            .expect("run genrescope analyze");
        assert!(output.status.success(), "{file}: {output:?}");
        let offline: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let labels: Vec<String> = serde_json::from_value(offline["labels"].clone()).unwrap();
        let tags = &offline["files"][0]["tags"];
        assert_eq!(played["windows"], tags["windows"], "{file}");
        for genre in tags["genres"].as_array().expect("genres") {
            let index = labels
                .iter()
                .position(|l| l == genre["label"].as_str().unwrap())
                .unwrap();
            let (live, offline) = (
                played["summary"][index].as_f64().unwrap(),
                genre["probability"].as_f64().unwrap(),
            );
            assert!(
                (live - offline).abs() < 1e-4,
                "{file}: {} live {live}, analyze {offline}",
                labels[index]
            );
        }
    }
}
