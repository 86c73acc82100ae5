//! A minimal CLAP host built on `clack-host`: loads the built plugin library the way a DAW does
//! and drives it through activation, processing and state calls.
//!
//! The library must be built with the `test-hooks` feature (the README's test command does this)
//! so that [`PluginUnderTest::report()`] can read the analysis worker's counters.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::ffi::CStr;
use std::path::PathBuf;

use clack_extensions::audio_ports_config::PluginAudioPortsConfig;
use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGui, HostGuiImpl, PluginGui,
};
use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::{EventFlags, EventHeader, Pckn};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
pub use genrescope::test_hooks::TestReport;

const PLUGIN_ID: &CStr = c"io.github.genrescope";

pub struct TestHostShared;

impl SharedHandler<'_> for TestHostShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

/// The host side of the GUI extension, which nice-plug needs to create an editor. The editor's
/// window is the plugin's to size and show; this host accepts every request.
impl HostGuiImpl for TestHostShared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = TestHostShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostGui>();
    }
}

pub type Processor = StoppedPluginAudioProcessor<TestHost>;

/// Path of the plugin library that Cargo built for this test run. Cargo compiles the package's
/// `cdylib` into `target/<profile>/deps/` next to the test binary, with the same features.
pub fn library_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe
        .parent()
        .expect("test binaries live in target/<profile>/deps");
    let name = format!(
        "{}genrescope{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let path = deps.join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests through Cargo (see the README's test command)",
        path.display()
    );
    path
}

/// The research corpus the tests read clips from ([`genrescope::research::music_dir`]).
/// Panics with what to do when it is not there.
pub fn shared_music() -> PathBuf {
    let music = genrescope::research::music_dir();
    assert!(
        music.is_dir(),
        "{} is missing: these tests read clips of the research corpus there. Link the `shared` \
         folder that holds `music/labels.tsv` beside the repository \
         (`ln -s /path/to/shared {}/../shared`) or set GENRESCOPE_MUSIC to the corpus folder",
        music.display(),
        env!("CARGO_MANIFEST_DIR")
    );
    music
}

/// Points `ORT_DYLIB_PATH` at the repository's `.ort/` library (`cargo xtask ort`) unless the
/// caller set it, so the plugin under test (and any `genrescope` process the test starts) finds
/// ONNX Runtime the way an installed plugin finds the copy beside itself.
pub fn provide_onnx_runtime() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("ORT_DYLIB_PATH").is_some() {
            return;
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".ort")
            .join(genrescope::inference::runtime::library_file_name());
        assert!(
            path.is_file(),
            "{} is missing: run `cargo xtask ort` first (see the README's test command)",
            path.display()
        );
        // SAFETY (edition 2021: safe fn): set once, before any plugin or runtime is loaded.
        std::env::set_var("ORT_DYLIB_PATH", path);
    });
}

type LastInstanceFn = unsafe extern "C" fn() -> u32;
type ReportFn = unsafe extern "C" fn(u32, *mut TestReport) -> bool;
type PanicFn = unsafe extern "C" fn(u32) -> bool;

/// Serialises instance creation in this process, so that the id read right after creating an
/// instance is that instance's even when tests run in parallel.
static CREATE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The test-hook symbols of the loaded library.
struct Hooks {
    // Keeps the library mapped; the plugin entry holds its own reference to the same mapping.
    _library: libloading::Library,
    last_instance: LastInstanceFn,
    report: ReportFn,
    panic_worker: PanicFn,
}

impl Hooks {
    fn load(path: &PathBuf) -> Self {
        // SAFETY: the library is our own plugin, and the symbols have the declared signatures.
        unsafe {
            let library = libloading::Library::new(path).expect("load plugin library");
            let last_instance = *library
                .get::<LastInstanceFn>(b"genrescope_test_last_instance\0")
                .expect("the plugin was built without the `test-hooks` feature");
            let report = *library
                .get::<ReportFn>(b"genrescope_test_report\0")
                .expect("the plugin was built without the `test-hooks` feature");
            let panic_worker = *library
                .get::<PanicFn>(b"genrescope_test_panic_worker\0")
                .expect("the plugin was built without the `test-hooks` feature");
            Self {
                _library: library,
                last_instance,
                report,
                panic_worker,
            }
        }
    }
}

/// Reads one instance's [`TestReport`]; valid while its [`PluginUnderTest`] is alive.
#[derive(Clone, Copy)]
pub struct Reporter {
    report: ReportFn,
    id: u32,
}

impl Reporter {
    pub fn report(&self) -> TestReport {
        let mut report = TestReport::default();
        // SAFETY: the hook comes from our own library and matches its declaration.
        let found = unsafe { (self.report)(self.id, &mut report) };
        assert!(found, "plugin instance {} is gone", self.id);
        report
    }
}

/// What the host learns about one parameter.
#[derive(Debug, Clone)]
pub struct ParamDescription {
    pub id: ClapId,
    pub name: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

/// One loaded plugin instance.
pub struct PluginUnderTest {
    // Field order matters: the instance must be dropped before the entry and the library.
    instance: PluginInstance<TestHost>,
    _entry: PluginEntry,
    reporter: Reporter,
    _hooks: Hooks,
}

impl PluginUnderTest {
    pub fn load() -> Self {
        provide_onnx_runtime();
        let path = library_path();
        let hooks = Hooks::load(&path);
        // SAFETY: loading our own CLAP plugin library.
        let entry = unsafe { PluginEntry::load(&path) }.expect("load CLAP entry");
        let host_info = HostInfo::new("genrescope-harness", "genrescope", "", "0.1.0").unwrap();
        let (instance, id) = {
            let _serial = CREATE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let instance = PluginInstance::<TestHost>::new(
                |_| TestHostShared,
                |_| (),
                &entry,
                PLUGIN_ID,
                &host_info,
            )
            .expect("instantiate plugin");
            // SAFETY: the hook comes from our own library and matches its declaration.
            (instance, unsafe { (hooks.last_instance)() })
        };
        Self {
            instance,
            _entry: entry,
            reporter: Reporter {
                report: hooks.report,
                id,
            },
            _hooks: hooks,
        }
    }

    /// Selects the stereo (2) or mono (1) layout; the plugin must be inactive.
    pub fn select_channels(&mut self, channels: u32) {
        let handle = self.instance.plugin_handle();
        let configs = handle
            .get_extension::<PluginAudioPortsConfig>()
            .expect("audio-ports-config extension");
        let id = match channels {
            2 => 0,
            1 => 1,
            _ => panic!("the plugin offers mono and stereo only"),
        };
        configs
            .select(&handle, ClapId::new(id))
            .expect("select audio ports config");
    }

    pub fn latency(&mut self) -> u32 {
        let handle = self.instance.plugin_handle();
        let latency = handle
            .get_extension::<PluginLatency>()
            .expect("latency extension");
        latency.get(&handle)
    }

    pub fn activate(&mut self, sample_rate: f64, max_block: u32) -> Processor {
        self.instance
            .activate(
                |_, _| (),
                PluginAudioConfiguration {
                    sample_rate,
                    min_frames_count: 1,
                    max_frames_count: max_block,
                },
            )
            .expect("activate")
    }

    pub fn deactivate(&mut self, processor: Processor) {
        self.instance.deactivate(processor);
    }

    /// Runs the callbacks the plugin asked the host to run on the main thread (nice-plug posts
    /// its GUI-thread tasks, e.g. after a state load, this way).
    pub fn main_thread_callback(&mut self) {
        self.instance.call_on_main_thread_callback();
    }

    /// Makes this instance's analysis worker panic once, the next time it analyses audio.
    pub fn panic_worker_once(&self) {
        // SAFETY: the hook comes from our own library and matches its declaration.
        let armed = unsafe { (self._hooks.panic_worker)(self.reporter.id) };
        assert!(armed, "plugin instance {} is gone", self.reporter.id);
    }

    /// Every parameter the plugin exposes, in index order.
    pub fn params(&mut self) -> Vec<ParamDescription> {
        let handle = self.instance.plugin_handle();
        let params = handle
            .get_extension::<PluginParams>()
            .expect("params extension");
        (0..params.count(&handle))
            .map(|index| {
                let mut buffer = ParamInfoBuffer::new();
                let info = params
                    .get_info(&handle, index, &mut buffer)
                    .expect("parameter info");
                ParamDescription {
                    id: info.id,
                    name: String::from_utf8_lossy(info.name).into_owned(),
                    min: info.min_value,
                    max: info.max_value,
                    default: info.default_value,
                }
            })
            .collect()
    }

    /// The parameter's current plain value, as the host reads it.
    pub fn param_value(&mut self, id: ClapId) -> f64 {
        let handle = self.instance.plugin_handle();
        let params = handle
            .get_extension::<PluginParams>()
            .expect("params extension");
        params.get_value(&handle, id).expect("known parameter")
    }

    /// The plugin's text for `value` of the parameter, and that text parsed back.
    pub fn param_text_round_trip(&mut self, id: ClapId, value: f64) -> (String, Option<f64>) {
        let handle = self.instance.plugin_handle();
        let params = handle
            .get_extension::<PluginParams>()
            .expect("params extension");
        let mut buffer = [0u8; 256];
        let text = params
            .value_to_text(&handle, id, value, &mut buffer)
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .expect("value to text");
        let c_text = std::ffi::CString::new(text.clone()).unwrap();
        (text, params.text_to_value(&handle, id, &c_text))
    }

    /// Sends parameter changes through `params.flush()` while the plugin is inactive.
    pub fn flush_params(&mut self, changes: &[(ClapId, f64)]) {
        let mut events = EventBuffer::new();
        for &(id, value) in changes {
            events.push(&ParamValueEvent::new(0, id, Pckn::match_all(), value));
        }
        let mut handle = self
            .instance
            .inactive_plugin_handle()
            .expect("flush_params needs an inactive plugin");
        let params = handle
            .get_extension::<PluginParams>()
            .expect("params extension");
        params.flush(
            &mut handle,
            &InputEvents::from_buffer(&events),
            &mut OutputEvents::void(),
        );
    }

    /// The size the editor asks the host for, before the host creates it.
    pub fn editor_size(&mut self) -> GuiSize {
        let handle = self.instance.plugin_handle();
        let gui = handle.get_extension::<PluginGui>().expect("gui extension");
        gui.get_size(&handle).expect("editor size")
    }

    /// Creates the editor for an embedded X11 window and opens it inside `parent`, as a host
    /// does. nice-plug opens the window on creation, so this needs an X display.
    ///
    /// # Safety
    /// `parent` must stay a valid window until [`Self::destroy_editor()`].
    pub unsafe fn open_editor(&mut self, parent: std::ffi::c_ulong) {
        let handle = self.instance.plugin_handle();
        let gui = handle.get_extension::<PluginGui>().expect("gui extension");
        let x11 = GuiConfiguration {
            api_type: GuiApiType::X11,
            is_floating: false,
        };
        assert!(gui.is_api_supported(&handle, x11), "embedded X11 editor");
        gui.create(&handle, x11).expect("create the editor");
        let window = clack_extensions::gui::Window::from_x11_handle(parent);
        // SAFETY: the caller keeps `parent` alive.
        unsafe { gui.set_parent(&handle, window) }.expect("embed the editor");
        gui.show(&handle).expect("show the editor");
    }

    pub fn destroy_editor(&mut self) {
        let handle = self.instance.plugin_handle();
        let gui = handle.get_extension::<PluginGui>().expect("gui extension");
        gui.destroy(&handle);
    }

    pub fn save_state(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let state = handle
            .get_extension::<PluginState>()
            .expect("state extension");
        let mut bytes = Vec::new();
        state.save(&handle, &mut bytes).expect("save state");
        bytes
    }

    pub fn load_state(
        &mut self,
        mut bytes: &[u8],
    ) -> Result<(), clack_extensions::state::StateError> {
        let handle = self.instance.plugin_handle();
        let state = handle
            .get_extension::<PluginState>()
            .expect("state extension");
        state.load(&handle, &mut bytes)
    }

    /// Saves the state, lets `edit` change its JSON, and loads the result back.
    pub fn edit_state(
        &mut self,
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Result<(), clack_extensions::state::StateError> {
        let mut state = decode_state(&self.save_state());
        edit(&mut state);
        self.load_state(&encode_state(&serde_json::to_vec(&state).unwrap()))
    }

    /// This instance's counters and latest analysis.
    pub fn report(&self) -> TestReport {
        self.reporter.report()
    }

    /// A handle that reads this instance's report from any thread.
    pub fn reporter(&self) -> Reporter {
        self.reporter
    }

    /// A pacer for [`process_paced()`] that holds the host back while more than `max_backlog`
    /// samples wait in this instance's analysis ring: a host that outruns real time, but not
    /// the worker.
    pub fn pacer(&self, max_backlog: u64) -> impl Fn() + Send + Sync {
        let reporter = self.reporter;
        move || {
            while {
                let stats = reporter.report().stats;
                stats.pushed - stats.received > max_backlog && !stats.worker_failed
            } {
                std::thread::sleep(std::time::Duration::from_micros(500));
            }
        }
    }

    /// Polls [`Self::report()`] until `done` holds, for at most `timeout`.
    pub fn wait_for(
        &self,
        timeout: std::time::Duration,
        mut done: impl FnMut(&TestReport) -> bool,
    ) -> TestReport {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let report = self.report();
            if done(&report) {
                return report;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for the worker: {report:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// Largest block the harness's hosts send, in frames.
pub const MAX_BLOCK: usize = 16_384;

/// `count` block sizes from 1 to `max`, log-uniform so tiny and huge blocks are both common.
pub fn random_block_sizes(rng: &mut impl rand::Rng, count: usize, max: usize) -> Vec<usize> {
    (0..count)
        .map(|_| {
            let log = rng.random_range(0.0..=(max as f64).ln());
            (log.exp() as usize).clamp(1, max)
        })
        .collect()
}

/// Processes `input` (one `Vec` per channel) block by block on a separate audio thread, with
/// block sizes drawn from `block_sizes` (cycled), as fast as possible. Returns the processor and
/// the output.
pub fn process(
    processor: Processor,
    input: &[Vec<f32>],
    block_sizes: &[usize],
) -> (Processor, Vec<Vec<f32>>) {
    process_paced(processor, input, block_sizes, &|| {})
}

/// [`process()`], calling `pace` between blocks (outside the plugin's process call).
pub fn process_paced(
    processor: Processor,
    input: &[Vec<f32>],
    block_sizes: &[usize],
    pace: &(dyn Fn() + Sync),
) -> (Processor, Vec<Vec<f32>>) {
    let frames = input[0].len();
    let max_block = block_sizes.iter().copied().max().unwrap_or(1);
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let mut output = vec![vec![0.0f32; frames]; input.len()];
                let mut runner = BlockRunner::start(processor, input.len());
                // Host-side scratch copies: the plugin never sees the test's own buffers.
                let mut in_block = vec![vec![0.0f32; max_block]; input.len()];

                let mut position = 0;
                let mut sizes = block_sizes.iter().copied().cycle();
                while position < frames {
                    let n = sizes.next().unwrap().min(frames - position);
                    for (scratch, channel) in in_block.iter_mut().zip(input) {
                        scratch[..n].copy_from_slice(&channel[position..position + n]);
                    }
                    runner.run(
                        in_block.iter_mut().map(|b| &mut b[..n]),
                        output.iter_mut().map(|b| &mut b[position..position + n]),
                    );
                    position += n;
                    pace();
                }
                (runner.stop(), output)
            })
            .join()
            .expect("audio thread panicked")
    })
}

/// A started audio processor that processes one block per call, on the calling thread.
pub struct BlockRunner {
    started: StartedPluginAudioProcessor<TestHost>,
    inputs: AudioPorts,
    outputs: AudioPorts,
    steady_time: u64,
    /// Events for the next block only.
    events: EventBuffer,
    /// The transport sent with every block (`None`: the host has no transport).
    transport: Option<TransportEvent>,
}

impl BlockRunner {
    pub fn start(processor: Processor, channels: usize) -> Self {
        Self {
            started: processor.start_processing().expect("start processing"),
            inputs: AudioPorts::with_capacity(channels, 1),
            outputs: AudioPorts::with_capacity(channels, 1),
            steady_time: 0,
            events: EventBuffer::with_capacity(16),
            transport: None,
        }
    }

    /// Sends a parameter change at the start of the next block.
    pub fn queue_param(&mut self, id: ClapId, value: f64) {
        self.events
            .push(&ParamValueEvent::new(0, id, Pckn::match_all(), value));
    }

    /// From the next block on, sends a transport that is `playing` (or stopped) at
    /// `position_s` seconds (120 BPM, 4/4) with every block, until changed. The position is the
    /// caller's to choose, so it may jump anywhere.
    pub fn set_transport(&mut self, playing: bool, position_s: f64) {
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE;
        flags.set(TransportFlags::IS_PLAYING, playing);
        let beats = position_s * 2.0;
        self.transport = Some(TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_float(beats),
            song_pos_seconds: SecondsTime::from_float(position_s),
            tempo: 120.0,
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_int(0),
            loop_end_beats: BeatTime::from_int(0),
            loop_start_seconds: SecondsTime::from_int(0),
            loop_end_seconds: SecondsTime::from_int(0),
            bar_start: BeatTime::from_float((beats / 4.0).floor() * 4.0),
            bar_number: (beats / 4.0) as i32,
            time_signature_numerator: 4,
            time_signature_denominator: 4,
        });
    }

    /// Processes one block: one slice per channel, all of the same length. The plugin's
    /// process call allocates nothing on this side (queued events were allocated before).
    pub fn run<'a>(
        &'a mut self,
        input: impl Iterator<Item = &'a mut [f32]>,
        output: impl Iterator<Item = &'a mut [f32]>,
    ) {
        let input_buffers = self.inputs.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(input.map(InputChannel::variable)),
        }]);
        let mut output_buffers = self.outputs.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(output),
        }]);
        let frames = input_buffers.min_available_frames_with(&output_buffers);
        self.started
            .process(
                &input_buffers,
                &mut output_buffers,
                &InputEvents::from_buffer(&self.events),
                &mut OutputEvents::void(),
                Some(self.steady_time),
                self.transport.as_ref(),
            )
            .expect("process");
        self.events.clear();
        self.steady_time += u64::from(frames);
    }

    pub fn stop(self) -> Processor {
        self.started.stop_processing()
    }
}

/// Names of this process's live threads, from `/proc/self/task/*/comm`.
#[cfg(target_os = "linux")]
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

/// Live analysis worker threads of this process (of every plugin instance in it).
#[cfg(target_os = "linux")]
pub fn worker_threads() -> usize {
    thread_names()
        .iter()
        .filter(|name| name.as_str() == genrescope::analysis::worker::THREAD_NAME)
        .count()
}

/// Holds the other tests of this test binary off while the caller runs: worker threads are
/// counted per process, so a test that counts them must not share the process with another
/// test's active instance. Every test of a binary that counts them takes this first.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static EXCLUSIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    EXCLUSIVE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits until exactly `expected` worker threads exist. A new thread names itself only once it
/// runs, and a joined one leaves `/proc` a moment after, so the count may lag.
#[cfg(target_os = "linux")]
pub fn assert_worker_threads(expected: usize, context: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while worker_threads() != expected {
        assert!(
            std::time::Instant::now() < deadline,
            "{context}: {} worker threads, expected {expected}",
            worker_threads()
        );
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

/// Resident set size of this process in bytes, from `/proc/self/statm`.
#[cfg(target_os = "linux")]
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm: resident pages");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page as u64
}

/// Decodes a state blob as nice-plug writes it for CLAP: a little-endian `u64` length, then JSON.
pub fn decode_state(bytes: &[u8]) -> serde_json::Value {
    let (length, json) = bytes.split_at(8);
    assert_eq!(
        u64::from_le_bytes(length.try_into().unwrap()) as usize,
        json.len()
    );
    serde_json::from_slice(json).expect("state is JSON")
}

/// Encodes `json` the way [`decode_state()`] reads it.
pub fn encode_state(json: &[u8]) -> Vec<u8> {
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json);
    bytes
}

/// Runs 4 s of stereo audio through a fresh instance whose ONNX Runtime is the file `library`
/// (the test's own process must not have loaded ONNX Runtime yet: it is loaded once per process)
/// and returns the report once the analysis has given up. Checks that the audio passed
/// bit-exact and that nothing was dropped or crashed on the way.
pub fn run_with_unusable_runtime(library: &std::path::Path) -> TestReport {
    // SAFETY (edition 2021: safe fn): set before the first plugin loads, and the harness only
    // points at `.ort/` when the variable is unset.
    std::env::set_var("ORT_DYLIB_PATH", library);
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
    assert_bit_exact(&input, &output, "no usable ONNX Runtime");
    let report = plugin.wait_for(std::time::Duration::from_secs(60), |r| {
        r.stats.received == 4 * 48_000 && r.model_state == 2
    });
    plugin.deactivate(processor);
    assert_eq!(report.windows, 0, "{report:?}");
    assert!(!report.stats.worker_failed, "{report:?}");
    assert_eq!(report.stats.dropped, 0, "{report:?}");
    report
}

/// Compares two signals bit for bit (so NaN payloads and signed zeros count too).
pub fn assert_bit_exact(expected: &[Vec<f32>], actual: &[Vec<f32>], context: &str) {
    assert_eq!(expected.len(), actual.len(), "{context}: channel count");
    for (channel, (e, a)) in expected.iter().zip(actual).enumerate() {
        assert_eq!(e.len(), a.len(), "{context}: channel {channel} length");
        if let Some(i) = (0..e.len()).find(|&i| e[i].to_bits() != a[i].to_bits()) {
            panic!(
                "{context}: channel {channel} differs at sample {i}: {:?} in, {:?} out",
                e[i], a[i]
            );
        }
    }
}
