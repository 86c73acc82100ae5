//! Injected faults through a real host: damaged model files, and a panic inside the analysis
//! worker. The audio must stay bit-exact, the model status the editor shows must say what went
//! wrong, and the analysis must come back (with a good model, or at the next activation).
//!
//! The missing and the too-old ONNX Runtime have test binaries of their own
//! (`host_without_runtime.rs`, `host_old_runtime.rs`): a process loads ONNX Runtime once.

mod harness;

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::{assert_bit_exact, assert_worker_threads, process, process_paced, PluginUnderTest};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const WORKER_TIMEOUT: Duration = Duration::from_secs(120);
const RATE: f64 = 48_000.0;

fn noise(rng: &mut SmallRng, seconds: f64) -> Vec<Vec<f32>> {
    let frames = (RATE * seconds) as usize;
    (0..2)
        .map(|_| (0..frames).map(|_| rng.random_range(-0.3..0.3)).collect())
        .collect()
}

/// How a test damages a model: its ONNX bytes and its metadata JSON bytes.
type Damage = Box<dyn FnOnce(&mut Vec<u8>, &mut Vec<u8>)>;

/// Writes a copy of the repository's `mfcc-cnn` model and its metadata into `dir` as
/// `<name>.onnx` and `<name>.json`, after `damage` changed them. Returns the `.onnx` path.
fn damaged_model(dir: &Path, name: &str, damage: Damage) -> PathBuf {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut onnx = std::fs::read(models.join("mfcc-cnn.onnx")).unwrap();
    let mut json = std::fs::read(models.join("mfcc-cnn.json")).unwrap();
    damage(&mut onnx, &mut json);
    let path = dir.join(format!("{name}.onnx"));
    std::fs::write(&path, onnx).unwrap();
    std::fs::write(path.with_extension("json"), json).unwrap();
    path
}

/// A [`Damage`] that edits the metadata as JSON.
fn edit_metadata(edit: impl FnOnce(&mut serde_json::Value) + 'static) -> Damage {
    Box::new(|_, json| {
        let mut value = serde_json::from_slice(json).unwrap();
        edit(&mut value);
        *json = serde_json::to_vec(&value).unwrap();
    })
}

/// Points the plugin's analysis settings at `model` (a model file, or a built-in model's kind).
fn choose_model(plugin: &mut PluginUnderTest, model: serde_json::Value) {
    let settings = serde_json::json!({ "model": model, "provider": "cpu" }).to_string();
    plugin
        .edit_state(|state| state["fields"]["analysis-settings"] = settings.into())
        .expect("load the edited state");
}

#[test]
fn damaged_model_files_are_reported_and_a_good_model_recovers() {
    let _exclusive = harness::exclusive();
    let temporary = tempfile::Builder::new()
        .prefix("genrescope-faults-")
        .tempdir()
        .unwrap();
    let dir = temporary.path();
    let faults: Vec<(&str, Damage, &[&str])> = vec![
        (
            "truncated",
            Box::new(|onnx, _| onnx.truncate(onnx.len() / 2)),
            &["not a usable ONNX model"],
        ),
        (
            "corrupt",
            Box::new(|onnx, _| onnx.iter_mut().step_by(7).for_each(|b| *b ^= 0xa5)),
            &["not a usable ONNX model"],
        ),
        (
            "wrong-shape",
            edit_metadata(|json| json["input"]["features"]["frames"] = 100.into()),
            &[
                "model input is [-1, 130, 13]",
                "the metadata describes [batch, [100, 13]]",
            ],
        ),
        (
            "wrong-label-count",
            edit_metadata(|json| {
                json["labels"].as_array_mut().unwrap().pop();
            }),
            &["model output is [-1, 14]", "the metadata has 13 labels"],
        ),
        (
            "truncated-metadata",
            Box::new(|_, json| json.truncate(json.len() / 2)),
            &["truncated-metadata.json: bad metadata"],
        ),
    ];

    let mut plugin = PluginUnderTest::load();
    let mut rng = SmallRng::seed_from_u64(11);
    for (name, damage, expected) in faults {
        let path = damaged_model(dir, name, damage);
        choose_model(
            &mut plugin,
            serde_json::json!({ "kind": "file", "path": path }),
        );
        let input = noise(&mut rng, 2.0);
        let processor = plugin.activate(RATE, 4096);
        let (processor, output) = process(processor, &input, &[4096, 1, 313]);
        assert_bit_exact(&input, &output, name);
        let report = plugin.wait_for(WORKER_TIMEOUT, |r| {
            r.stats.received == 2 * 48_000 && r.message().contains(name)
        });
        plugin.deactivate(processor);
        let message = report.message();
        println!("{name}: {message}");
        assert_eq!(report.model_state, 2, "{name}: {report:?}");
        assert_eq!(report.windows, 0, "{name}: {report:?}");
        assert!(
            !report.stats.worker_failed && report.stats.dropped == 0,
            "{report:?}"
        );
        for part in expected {
            assert!(message.contains(part), "{name}: {message:?} lacks {part:?}");
        }
    }
    drop(temporary);

    // Choosing a good model again analyses without a restart.
    choose_model(&mut plugin, serde_json::json!({ "kind": "mfcc_cnn" }));
    let input = noise(&mut rng, 4.0);
    let processor = plugin.activate(RATE, 4096);
    let (processor, _) = process(processor, &input, &[4096]);
    let report = plugin.wait_for(WORKER_TIMEOUT, |r| r.stats.received == 4 * 48_000);
    plugin.deactivate(processor);
    assert_eq!(report.model_state, 1, "{report:?}");
    assert!(report.windows >= 1, "{report:?}");
}

#[test]
fn a_worker_panic_leaves_the_audio_alone_shows_the_error_and_reactivation_recovers() {
    let _exclusive = harness::exclusive();
    let mut plugin = PluginUnderTest::load();
    choose_model(&mut plugin, serde_json::json!({ "kind": "mfcc_cnn" }));
    let mut rng = SmallRng::seed_from_u64(12);
    let blocks = [512, 1, 4096, 77];

    // Analysis runs...
    let processor = plugin.activate(RATE, 4096);
    let warm_up = noise(&mut rng, 4.0);
    let (processor, output) = process_paced(processor, &warm_up, &blocks, &plugin.pacer(96_000));
    assert_bit_exact(&warm_up, &output, "before the panic");
    let before = plugin.wait_for(WORKER_TIMEOUT, |r| r.stats.received == 4 * 48_000);
    assert_eq!(before.model_state, 1, "{before:?}");
    assert!(before.windows >= 1, "{before:?}");

    // ...until the worker panics. 12 s more: longer than the 10-s ring, which nobody drains now.
    plugin.panic_worker_once();
    let after_panic = noise(&mut rng, 12.0);
    let (processor, output) = process(processor, &after_panic, &blocks);
    assert_bit_exact(&after_panic, &output, "after the panic");
    let failed = plugin.wait_for(WORKER_TIMEOUT, |r| {
        r.stats.worker_failed && r.model_state == 2
    });
    let message = failed.message();
    assert!(
        message.contains("internal error")
            && message.contains("injected by genrescope_test_panic_worker")
            && message.contains("Re-activate"),
        "{message}"
    );
    assert_eq!(
        failed.labels, 0,
        "the failed view shows no stale distribution"
    );
    let frames = 16 * 48_000;
    assert_eq!(
        failed.stats.pushed + failed.stats.dropped,
        frames,
        "{failed:?}"
    );
    assert!(
        failed.stats.dropped > 0,
        "the full ring drops, counted: {failed:?}"
    );
    plugin.deactivate(processor);
    assert_worker_threads(0, "the panicked worker is joined");

    // The next activation starts a fresh analysis.
    let processor = plugin.activate(RATE, 4096);
    let again = noise(&mut rng, 4.0);
    let (processor, output) = process_paced(processor, &again, &blocks, &plugin.pacer(96_000));
    assert_bit_exact(&again, &output, "after re-activation");
    let recovered = plugin.wait_for(WORKER_TIMEOUT, |r| {
        r.stats.received == 4 * 48_000 && r.windows >= 1
    });
    plugin.deactivate(processor);
    assert_eq!(recovered.model_state, 1, "{recovered:?}");
    assert!(recovered.message().is_empty(), "{}", recovered.message());
    assert!(
        !recovered.stats.worker_failed && recovered.stats.dropped == 0,
        "{recovered:?}"
    );
}
