//! genrescope: a real-time genre analyzer plugin.
//!
//! The audio thread only downmixes each block into a lock-free ring ([`tap`]) and leaves the
//! audio untouched. A worker thread ([`analysis::worker`]) started on activation drains the ring,
//! resamples to the model's rate and runs the genre model ([`analysis::genre`]) through ONNX
//! Runtime, publishing probabilities, history and the track summary lock-free to the editor.

pub mod analysis;
pub mod audioset;
#[cfg(feature = "standalone")]
pub mod cli;
pub mod decode;
pub mod editor;
pub mod error;
pub mod features;
pub mod genres;
pub mod inference;
pub mod moods;
pub mod params;
pub mod resample;
pub mod research;
pub mod stats;
#[cfg(feature = "standalone")]
pub mod tagging;
pub mod tags;
pub mod tap;
#[cfg(feature = "test-hooks")]
pub mod test_hooks;

pub use error::{Error, Result};

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use nice_plug::prelude::*;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiNiceSettings, RepaintNotifier};

use analysis::genre::{GenreAnalyzer, GenreView};
use analysis::worker::{self, Published, Publisher, Worker, WorkerInputs};
use editor::EditorApp;
use features::limit::{MAX_RATE_HZ, MIN_RATE_HZ};
use params::GenrescopeParams;
use stats::Stats;
use tap::AudioTap;

pub struct Genrescope {
    params: Arc<GenrescopeParams>,
    stats: Arc<Stats>,
    published: Published<GenreView>,
    /// Write side of `published` while no worker holds it.
    publisher: Option<Publisher<GenreView>>,
    /// `None` while inactive, or when analysis could not start (audio still passes through).
    tap: Option<AudioTap>,
    worker: Option<Worker<GenreAnalyzer>>,
    /// The analysis step between activations: its model, history and summary carry over.
    analyzer: Option<GenreAnalyzer>,
    /// Why analysis is off after the last activation, for the editor; `None` when it runs.
    analysis_error: Arc<Mutex<Option<String>>>,
    repaint: RepaintNotifier,
    /// Whether the host transport was playing in the previous block.
    was_playing: bool,
}

impl Default for Genrescope {
    fn default() -> Self {
        let (publisher, published) = worker::published();
        let stats = Arc::new(Stats::default());
        #[cfg(feature = "test-hooks")]
        test_hooks::register(&stats, &published);
        Self {
            params: Arc::new(GenrescopeParams::default()),
            stats,
            published,
            publisher: Some(publisher),
            tap: None,
            worker: None,
            analyzer: None,
            analysis_error: Arc::default(),
            repaint: RepaintNotifier::new(),
            was_playing: false,
        }
    }
}

impl Genrescope {
    /// Stops and joins the worker, if any, and drops the ring.
    fn stop_analysis(&mut self) {
        self.tap = None;
        if let Some(worker) = self.worker.take() {
            (self.publisher, self.analyzer) = match worker.stop() {
                Some(stopped) => (Some(stopped.publisher), stopped.step),
                None => (None, None),
            };
        }
    }

    /// Starts the ring and worker for `buffer_config`. On failure analysis stays off, which
    /// never affects the audio.
    fn start_analysis(&mut self, buffer_config: &BufferConfig) -> Result<(), String> {
        let host_rate_hz = buffer_config.sample_rate.round() as u32;
        self.stats.reset(host_rate_hz);
        if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&host_rate_hz) {
            return Err(format!(
                "sample rate {host_rate_hz} Hz is outside {MIN_RATE_HZ}..={MAX_RATE_HZ} Hz"
            ));
        }

        let (audio_tap, consumer) = tap::ring(
            buffer_config.sample_rate,
            buffer_config.max_buffer_size as usize,
            self.stats.clone(),
        );
        // A worker that panicked took its publisher with it: start a fresh pair.
        let publisher = self
            .publisher
            .take()
            .unwrap_or_else(|| worker::republish(&self.published));
        let repaint = self.repaint.clone();
        let worker = Worker::spawn(WorkerInputs {
            consumer,
            host_rate_hz,
            step: self.analyzer.take().map_or_else(
                || GenreAnalyzer::new(self.params.clone(), self.stats.clone()),
                GenreAnalyzer::resume,
            ),
            publisher,
            stats: self.stats.clone(),
            notify: Box::new(move || repaint.request_repaint()),
        })
        .map_err(|err| format!("could not start the analysis worker: {err}"))?;

        self.tap = Some(audio_tap);
        self.worker = Some(worker);
        Ok(())
    }
}

impl Plugin for Genrescope {
    const NAME: &'static str = "genrescope";
    const VENDOR: &'static str = "genrescope";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type Editor = EguiEditor<EditorApp>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn filter_state(state: &mut PluginState) {
        params::clamp_saved_values(state);
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        create_egui_editor(
            editor::state(&self.params),
            self.repaint.clone(),
            EguiNiceSettings::new()
                .with_tile(Self::NAME)
                .with_resize_hint(ResizeHint::resizable()),
            EditorApp::new(
                self.params.clone(),
                self.published.clone(),
                self.stats.clone(),
                self.analysis_error.clone(),
            ),
        )
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // Hosts may activate again without deactivating first.
        self.stop_analysis();
        let result = self.start_analysis(buffer_config);
        if let Err(err) = &result {
            nice_error!("analysis disabled: {err}");
        }
        if let Ok(mut slot) = self.analysis_error.lock() {
            *slot = result.err();
        }
        true
    }

    fn deactivate(&mut self) {
        self.stop_analysis();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let playing = context.transport().playing;
        if playing && !self.was_playing {
            // NOTE: a relaxed atomic add: no lock, no syscall. The worker starts a new summary.
            self.stats.transport_starts.fetch_add(1, Ordering::Relaxed);
        }
        self.was_playing = playing;

        // The output buffers already hold the input: passing audio through means not touching it.
        if self.params.analyze.value() {
            if let Some(audio_tap) = &mut self.tap {
                audio_tap.push(buffer.as_slice_immutable());
            }
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Genrescope {
    const CLAP_ID: &'static str = "io.github.genrescope";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("Live music genre analyzer");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for Genrescope {
    const VST3_CLASS_ID: [u8; 16] = *b"GenrescopeAnalyz";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Analyzer];
}

nice_export_clap!(Genrescope);
nice_export_vst3!(Genrescope);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(sample_rate: f32) -> BufferConfig {
        BufferConfig {
            sample_rate,
            min_buffer_size: None,
            max_buffer_size: 512,
            process_mode: ProcessMode::Realtime,
        }
    }

    #[test]
    fn unsupported_rates_leave_analysis_off_with_a_reason() {
        let mut plugin = Genrescope::default();
        for rate in [4_000.0, 768_000.0] {
            let err = plugin.start_analysis(&config(rate)).unwrap_err();
            assert!(err.contains("outside 8000..=384000 Hz"), "{err}");
            assert!(plugin.tap.is_none() && plugin.worker.is_none());
        }
        plugin.start_analysis(&config(44_100.0)).unwrap();
        assert!(plugin.tap.is_some() && plugin.worker.is_some());
        plugin.stop_analysis();
        assert!(
            plugin.publisher.is_some() && plugin.analyzer.is_some(),
            "the publisher and the analyzer come back for the next run"
        );
    }
}
