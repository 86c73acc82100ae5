//! What a host may do to the plugin besides streaming audio, through a real CLAP host
//! (`clack-host`): state save/load round trips (current, older and garbage states), parameter
//! get/set/flush, activate/deactivate/reset cycles at changing sample rates and block sizes,
//! transport starts and jumps, and processing while the editor exists.
//!
//! Everything nice-plug logs in this process goes to one file ([`log_file()`]), so that tests can
//! check that rejected input was reported.

mod harness;

use std::path::PathBuf;
use std::time::Duration;

use clack_host::prelude::ClapId;
use harness::{
    assert_bit_exact, assert_worker_threads, decode_state, encode_state, process,
    random_block_sizes, BlockRunner, PluginUnderTest,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const WORKER_TIMEOUT: Duration = Duration::from_secs(120);

/// The log file of this test process; set before the first plugin loads, because nice-plug
/// sets up its logger once, when the CLAP entry is first initialised.
fn log_file() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("genrescope-conformance-{}.log", std::process::id()));
        // SAFETY (edition 2021: safe fn): set once, before any plugin is loaded.
        std::env::set_var("NICE_LOG", &path);
        path
    })
    .clone()
}

fn load() -> PluginUnderTest {
    log_file();
    PluginUnderTest::load()
}

/// Waits until the log file contains `needle` (the logger writes through a buffer).
fn assert_logged(needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(log_file()).unwrap_or_default();
        if log.contains(needle) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{needle:?} was never logged; the log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `seconds` of noise at -12 dBFS in `channels` channels (independent per channel).
fn noise(rng: &mut SmallRng, rate: f64, seconds: f64, channels: usize) -> Vec<Vec<f32>> {
    let frames = (rate * seconds) as usize;
    (0..channels)
        .map(|_| (0..frames).map(|_| rng.random_range(-0.25..0.25)).collect())
        .collect()
}

fn param_id(plugin: &mut PluginUnderTest, name: &str) -> ClapId {
    plugin
        .params()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .id
}

#[test]
fn parameters_read_back_what_flush_and_process_set() {
    let _exclusive = harness::exclusive();
    let mut plugin = load();
    let params = plugin.params();
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Analyze", "Smoothing"], "{params:?}");
    for param in &params {
        assert_eq!(plugin.param_value(param.id), param.default, "{param:?}");
        assert!(param.min <= param.default && param.default <= param.max);
    }
    // nice-plug shows hosts every parameter normalised to 0..1; the plain value is in the
    // text and the state. Defaults: analysis on, 4 s of smoothing.
    assert_eq!(
        (params[0].min, params[0].max, params[0].default),
        (0.0, 1.0, 1.0)
    );
    assert_eq!((params[1].min, params[1].max), (0.0, 1.0));
    let (analyze, smoothing) = (params[0].id, params[1].id);
    assert_eq!(
        plugin.param_text_round_trip(smoothing, params[1].default).0,
        "4.0 s"
    );

    // Flush while inactive: get_value, the text conversion and the state all agree.
    plugin.flush_params(&[(smoothing, 0.8), (analyze, 0.0)]);
    let value = plugin.param_value(smoothing);
    // Smoothing moves in steps of 0.1 s, so the value may snap to the nearest step.
    assert!((value - 0.8).abs() < 0.01, "{value}");
    assert_eq!(plugin.param_value(analyze), 0.0);
    let (text, parsed) = plugin.param_text_round_trip(smoothing, value);
    assert_eq!(parsed, Some(value), "{text:?}");
    let seconds: f64 = text.trim_end_matches(" s").parse().expect("seconds");
    let state = decode_state(&plugin.save_state());
    assert_eq!(
        state["params"]["smoothing"]["f32"].as_f64().unwrap(),
        seconds
    );
    assert_eq!(
        state["params"]["analyze"],
        serde_json::json!({ "bool": false })
    );
    plugin.flush_params(&[(smoothing, value)]);
    assert_eq!(
        plugin.param_value(smoothing),
        value,
        "setting the value read is a no-op"
    );

    // A host outside the range gets the nearest valid value, never garbage.
    plugin.flush_params(&[(smoothing, 1e6)]);
    assert_eq!(plugin.param_value(smoothing), 1.0);
    assert_eq!(plugin.param_text_round_trip(smoothing, 1.0).0, "30.0 s");
    plugin.flush_params(&[(smoothing, -3.0)]);
    assert_eq!(plugin.param_value(smoothing), 0.0);

    // In process(): analysis off until the event that turns it on, then every sample pushed.
    let mut rng = SmallRng::seed_from_u64(5);
    let input = noise(&mut rng, 48_000.0, 1.0, 2);
    let processor = plugin.activate(48_000.0, 512);
    let mut runner = BlockRunner::start(processor, 2);
    let mut output = vec![vec![0.0f32; input[0].len()]; 2];
    let mut scratch = input.clone();
    let switch_at = 10 * 480;
    for start in (0..input[0].len()).step_by(480) {
        if start == switch_at {
            runner.queue_param(analyze, 1.0);
            runner.queue_param(smoothing, 0.5);
        }
        // This thread is the audio thread: the counter is exact after every block.
        let pushed = plugin.report().stats.pushed;
        assert_eq!(pushed, start.saturating_sub(switch_at) as u64, "at {start}");
        let end = (start + 480).min(input[0].len());
        runner.run(
            scratch.iter_mut().map(|c| &mut c[start..end]),
            output.iter_mut().map(|c| &mut c[start..end]),
        );
    }
    let processor = runner.stop();
    assert_bit_exact(&input, &output, "parameter events");
    let report = plugin.report();
    assert_eq!(
        report.stats.pushed,
        (input[0].len() - switch_at) as u64,
        "{report:?}"
    );
    plugin.deactivate(processor);
    assert_eq!(plugin.param_value(analyze), 1.0);
    assert!((plugin.param_value(smoothing) - 0.5).abs() < 0.01);
}

#[test]
fn state_round_trips_byte_for_byte_and_restores_every_value() {
    let _exclusive = harness::exclusive();
    let mut source = load();
    let (analyze, smoothing) = (
        param_id(&mut source, "Analyze"),
        param_id(&mut source, "Smoothing"),
    );
    source.flush_params(&[(smoothing, 0.9), (analyze, 0.0)]);
    let smoothing_value = source.param_value(smoothing);
    source
        .edit_state(|state| {
            state["fields"]["analysis-settings"] =
                serde_json::json!(r#"{"model":{"kind":"mfcc_cnn"},"provider":"cpu"}"#);
            state["fields"]["editor-size"] = serde_json::json!("[1024,700]");
        })
        .unwrap();
    let saved = source.save_state();

    let mut restored = load();
    restored.load_state(&saved).expect("load a saved state");
    assert_eq!(
        restored.save_state(),
        saved,
        "save → load → save changes nothing"
    );
    assert_eq!(restored.param_value(smoothing), smoothing_value);
    assert_eq!(restored.param_value(analyze), 0.0);
    // nice-plug sizes the editor when the plugin is created, before any state: the host is
    // told the default size, and the window asks for the saved one once it opens (see
    // `audio_and_analysis_are_unaffected_by_the_editor`).
    let size = restored.editor_size();
    assert_eq!((size.width, size.height), (760, 520));

    // Loading while active (hosts recall presets during playback) takes effect live.
    let processor = restored.activate(48_000.0, 1024);
    restored
        .load_state(&source_state_with_analysis(&saved))
        .unwrap();
    restored.main_thread_callback();
    let mut rng = SmallRng::seed_from_u64(6);
    let input = noise(&mut rng, 48_000.0, 4.0, 2);
    let (processor, output) = process(processor, &input, &[1024, 17, 333]);
    assert_bit_exact(&input, &output, "after a state load");
    // mfcc-cnn runs at 22.05 kHz (the default model at 16 kHz).
    let report = restored.wait_for(WORKER_TIMEOUT, |r| {
        r.stats.received == 4 * 48_000 && r.model_state == 1
    });
    assert_eq!(report.stats.analysis_rate_hz, 22_050, "{report:?}");
    restored
        .edit_state(|state| {
            state["fields"]["analysis-settings"] =
                serde_json::json!(r#"{"model":{"kind":"builtin"}}"#);
        })
        .unwrap();
    let report = restored.wait_for(WORKER_TIMEOUT, |r| r.stats.analysis_rate_hz == 16_000);
    restored.deactivate(processor);
    assert_eq!(report.model_state, 1, "{report:?}");
}

/// `saved` with the *Analyze* switch on.
fn source_state_with_analysis(saved: &[u8]) -> Vec<u8> {
    let mut state = decode_state(saved);
    state["params"]["analyze"] = serde_json::json!({ "bool": true });
    encode_state(&serde_json::to_vec(&state).unwrap())
}

#[test]
fn an_older_state_loads_with_defaults_for_what_it_lacks() {
    let _exclusive = harness::exclusive();
    let mut plugin = load();
    let defaults = decode_state(&plugin.save_state());
    // Version 0.1 wrote no editor size and no smoothing, kept window and hop in the analysis
    // settings, and had a `gain` parameter.
    let old = serde_json::json!({
        "version": "0.1.0",
        "params": { "analyze": { "bool": false }, "gain": { "f32": -6.0 } },
        "fields": { "analysis-settings": r#"{"window_seconds":3.0,"hop_seconds":0.5}"# }
    });
    plugin
        .load_state(&encode_state(&serde_json::to_vec(&old).unwrap()))
        .expect("an older state loads");
    let loaded = decode_state(&plugin.save_state());
    assert_eq!(
        loaded["params"]["analyze"],
        serde_json::json!({ "bool": false })
    );
    assert_eq!(
        loaded["params"]["smoothing"],
        defaults["params"]["smoothing"]
    );
    assert!(loaded["params"].get("gain").is_none(), "{loaded}");
    assert_eq!(loaded["fields"], defaults["fields"]);
    assert_eq!(loaded["version"], defaults["version"]);
}

#[test]
fn garbage_leaves_a_fresh_instance_at_its_defaults_and_is_logged() {
    let _exclusive = harness::exclusive();
    let mut plugin = load();
    let defaults = plugin.save_state();
    // Rejected as a whole: the framing or the JSON is broken.
    let truncated_length = [0x10u8, 0, 0];
    let mut length_past_the_end = 100u64.to_le_bytes().to_vec();
    length_past_the_end.extend(b"{\"par");
    let not_json = encode_state(b"\x89PNG\r\n\x1a\n garbage");
    for junk in [&truncated_length[..], &length_past_the_end, &not_json] {
        assert!(plugin.load_state(junk).is_err(), "{junk:?} was accepted");
        assert_eq!(plugin.save_state(), defaults);
    }
    assert_logged("Failed to load state");
    assert_logged("Error while deserializing state");

    // Well-formed JSON with garbage inside: the broken field and values are ignored (and
    // logged), the rest loads, and nothing leaves its range.
    let mixed = serde_json::json!({
        "params": {
            "smoothing": { "f32": 1.0e9 },
            "analyze": { "f32": 0.5 },
        },
        "fields": {
            "analysis-settings": r#"{"model":{"kind":"quantum"}}"#,
            "editor-size": "[-5, \"tall\"]",
        }
    });
    plugin
        .load_state(&encode_state(&serde_json::to_vec(&mixed).unwrap()))
        .expect("a state with bad values still loads");
    assert_logged("Could not deserialize 'analysis-settings'");
    assert_logged("Could not deserialize 'editor-size'");
    let loaded = decode_state(&plugin.save_state());
    assert_eq!(loaded["fields"], decode_state(&defaults)["fields"]);
    let smoothing = loaded["params"]["smoothing"]["f32"].as_f64().unwrap();
    assert!((0.0..=30.0).contains(&smoothing), "smoothing {smoothing} s");
    let analyze = param_id(&mut plugin, "Analyze");
    assert_eq!(plugin.param_value(analyze), 1.0);
}

#[test]
fn activation_cycles_at_changing_rates_and_block_sizes_with_resets() {
    let _exclusive = harness::exclusive();
    let mut plugin = load();
    let mut rng = SmallRng::seed_from_u64(8);
    let mut windows = 0;
    for (cycle, (rate, max_block)) in [
        (44_100.0, 64),
        (96_000.0, 16_384),
        (22_050.0, 1),
        (48_000.0, 4_096),
        (192_000.0, 777),
    ]
    .into_iter()
    .enumerate()
    {
        let context = format!("cycle {cycle}: {rate} Hz, blocks ≤ {max_block}");
        let seconds = if max_block == 1 { 0.5 } else { 4.0 };
        let input = noise(&mut rng, rate, seconds, 2);
        let processor = plugin.activate(rate, max_block);
        assert_worker_threads(1, &context);
        // Halfway through, the host resets the plugin (CLAP `reset()`, e.g. after a seek).
        let half = input[0].len() / 2;
        let (first, second): (Vec<_>, Vec<_>) = input
            .iter()
            .map(|c| (c[..half].to_vec(), c[half..].to_vec()))
            .unzip();
        let sizes = random_block_sizes(&mut rng, 256, max_block as usize);
        let (mut processor, mut output) = process(processor, &first, &sizes);
        processor.reset();
        let (processor, rest) = process(processor, &second, &sizes);
        for (out, more) in output.iter_mut().zip(rest) {
            out.extend(more);
        }
        assert_bit_exact(&input, &output, &context);

        let frames = input[0].len() as u64;
        let report = plugin.wait_for(WORKER_TIMEOUT, |r| {
            r.stats.received == frames && r.model_state == 1
        });
        plugin.deactivate(processor);
        assert_worker_threads(0, &context);
        assert_eq!(report.stats.host_rate_hz, rate as u32, "{context}");
        assert_eq!(report.stats.pushed, frames, "{context}: {report:?}");
        assert_eq!(report.stats.dropped, 0, "{context}: {report:?}");
        assert_eq!(report.stats.analysis_rate_hz, 16_000, "{context}");
        // The model, its history and summary carry over every re-activation; each run starts
        // a new feature stream, so a run of `seconds` adds floor(seconds / 3 s) windows.
        windows += (seconds / 3.0).floor() as u64;
        assert_eq!(report.windows, windows, "{context}: {report:?}");
        assert_eq!(report.summary_windows, windows, "{context}: {report:?}");
    }
}

#[test]
fn transport_starts_begin_a_new_summary_and_jumps_do_not() {
    let _exclusive = harness::exclusive();
    let mut plugin = load();
    let mut rng = SmallRng::seed_from_u64(9);
    let rate = 48_000.0;
    let processor = plugin.activate(rate, 512);
    let mut runner = BlockRunner::start(processor, 2);
    let mut frames = 0u64;
    // Plays `seconds` of noise at `position_s`, then waits until the worker analysed it all.
    let mut play = |runner: &mut BlockRunner, playing: bool, position_s: f64, seconds: f64| {
        runner.set_transport(playing, position_s);
        let mut input = noise(&mut rng, rate, seconds, 2);
        let expected = input.clone();
        let mut output = vec![vec![0.0f32; input[0].len()]; 2];
        for start in (0..input[0].len()).step_by(512) {
            let end = (start + 512).min(input[0].len());
            runner.run(
                input.iter_mut().map(|c| &mut c[start..end]),
                output.iter_mut().map(|c| &mut c[start..end]),
            );
        }
        assert_bit_exact(&expected, &output, "transport");
        frames += expected[0].len() as u64;
        plugin.wait_for(WORKER_TIMEOUT, |r| r.stats.received == frames)
    };

    let stopped = play(&mut runner, false, 0.0, 7.0);
    assert!(stopped.windows >= 1, "{stopped:?}");
    assert_eq!(stopped.summary_windows, stopped.windows);
    // Play: a new summary.
    // The worker had analysed everything before the start, so the reset precedes every window
    // of the new summary.
    let playing = play(&mut runner, true, 30.0, 7.0);
    assert!(playing.windows >= stopped.windows + 2, "{playing:?}");
    assert_eq!(playing.summary_windows, playing.windows - stopped.windows);
    // Jumps while playing (backwards, far forwards, into a loop) keep the summary going.
    let mut report = playing;
    for position in [2.0, 3600.0, 0.0] {
        let before = report;
        report = play(&mut runner, true, position, 3.5);
        assert!(report.windows > before.windows, "{report:?}");
        assert_eq!(
            report.summary_windows - before.summary_windows,
            report.windows - before.windows,
            "a jump to {position} s reset the summary"
        );
    }
    // Stop, then play again: a new summary once more.
    let before = play(&mut runner, false, 5.0, 1.0);
    let restarted = play(&mut runner, true, 5.0, 7.0);
    assert!(restarted.windows > before.windows, "{restarted:?}");
    assert_eq!(
        restarted.summary_windows,
        restarted.windows - before.windows
    );
    assert_eq!(restarted.stats.dropped, 0);
    plugin.deactivate(runner.stop());
}

/// Opens the default X11 display through `libX11` loaded at run time, so the test needs no X11
/// crate; `None` without a display (CI machines have none).
struct XDisplay {
    library: libloading::Library,
    display: *mut std::ffi::c_void,
}

impl XDisplay {
    fn open() -> Option<Self> {
        std::env::var_os("DISPLAY")?;
        // SAFETY: libX11's documented C API with its declared signatures.
        unsafe {
            let library = libloading::Library::new("libX11.so.6").ok()?;
            type OpenFn = unsafe extern "C" fn(*const std::ffi::c_char) -> *mut std::ffi::c_void;
            let open = *library.get::<OpenFn>(b"XOpenDisplay\0").ok()?;
            let display = open(std::ptr::null());
            (!display.is_null()).then_some(Self { library, display })
        }
    }

    fn root_window(&self) -> std::ffi::c_ulong {
        // SAFETY: `display` is open; XDefaultRootWindow only reads it.
        unsafe {
            let root: libloading::Symbol<
                unsafe extern "C" fn(*mut std::ffi::c_void) -> std::ffi::c_ulong,
            > = self.library.get(b"XDefaultRootWindow\0").unwrap();
            root(self.display)
        }
    }
}

impl Drop for XDisplay {
    fn drop(&mut self) {
        // SAFETY: closes the display this value opened.
        unsafe {
            let close: libloading::Symbol<unsafe extern "C" fn(*mut std::ffi::c_void) -> i32> =
                self.library.get(b"XCloseDisplay\0").unwrap();
            close(self.display);
        }
    }
}

/// The editor reads the analysis through a lock only it and the tests take; the audio thread
/// must never notice it. nice-plug opens the editor window as soon as the host creates the
/// editor, which needs an X display: CI machines have none, so there the instance with the
/// editor only reports its size, and the window is opened where `DISPLAY` is set (for example
/// under `xvfb-run`), embedded in the root window and drawn while audio runs.
#[test]
fn audio_and_analysis_are_unaffected_by_the_editor() {
    let _exclusive = harness::exclusive();
    let mut rng = SmallRng::seed_from_u64(10);
    let input = noise(&mut rng, 48_000.0, 8.0, 2);
    let display = XDisplay::open();
    let mut reports = Vec::new();
    for editor in [false, true] {
        let mut plugin = load();
        if editor {
            plugin
                .edit_state(|state| state["fields"]["editor-size"] = "[900,640]".into())
                .unwrap();
            match &display {
                // SAFETY: the root window outlives the editor.
                Some(display) => unsafe { plugin.open_editor(display.root_window()) },
                None => println!("no X display: the editor window is not opened"),
            }
        }
        let processor = plugin.activate(48_000.0, 2048);
        let (processor, output) = process(processor, &input, &[2048, 1, 999]);
        assert_bit_exact(&input, &output, &format!("editor {editor}"));
        let report = plugin.wait_for(WORKER_TIMEOUT, |r| r.stats.received == 8 * 48_000);
        plugin.deactivate(processor);
        if editor && display.is_some() {
            // The open window took the size saved with the state.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while plugin.editor_size().width != 900 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{:?}",
                    plugin.editor_size()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(plugin.editor_size().height, 640);
            plugin.destroy_editor();
        }
        assert_eq!(report.stats.dropped, 0, "{report:?}");
        reports.push(report);
    }
    // Same audio, same analysis, with or without the editor.
    assert_eq!(reports[0].windows, reports[1].windows);
    assert_eq!(reports[0].summary, reports[1].summary);
}
