//! Lock-free counters shared by the audio thread, the analysis worker, the editor and tests.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

/// Counters for one plugin instance. They live as long as the instance and are reset on every
/// activation. Sample counts are mono samples at the host rate unless stated otherwise.
///
/// NOTE: the audio thread's counters sit on cache lines of their own, so the worker's updates
///       never make the audio thread wait for a cache line (false sharing).
#[derive(Debug, Default)]
pub struct Stats {
    /// Samples the audio thread wrote into the analysis ring. Written by the audio thread only.
    pub pushed: CachePadded<AtomicU64>,
    /// Samples the audio thread dropped because the ring was full. Written by the audio thread
    /// only.
    pub dropped: CachePadded<AtomicU64>,
    /// Samples the worker took out of the ring.
    pub received: AtomicU64,
    /// Received samples that were NaN or infinite and were replaced by silence before analysis.
    pub nonfinite: AtomicU64,
    /// Host sample rate of the current activation, in Hz (0 while inactive).
    pub host_rate_hz: AtomicU32,
    /// Set when the analysis step panicked; analysis stays off until the next activation.
    pub worker_failed: AtomicBool,
    /// Times the host transport started playing. Written by the audio thread only; each start
    /// begins a new track summary.
    pub transport_starts: CachePadded<AtomicU64>,
    /// Track-summary resets requested from the editor.
    pub summary_resets: AtomicU64,
    /// Rate the worker resamples to (the model's), in Hz (0 while inactive).
    pub analysis_rate_hz: AtomicU32,
    /// Share of wall time the worker spent busy over its last second, in parts per million.
    pub worker_load_ppm: AtomicU32,
    /// Set by `test_hooks::genrescope_test_panic_worker`; taken by [`Stats::panic_if_armed`].
    #[cfg(feature = "test-hooks")]
    pub panic_armed: AtomicBool,
}

/// A plain copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct StatsSnapshot {
    pub pushed: u64,
    pub dropped: u64,
    pub received: u64,
    pub nonfinite: u64,
    pub host_rate_hz: u32,
    pub worker_failed: bool,
    pub analysis_rate_hz: u32,
    pub worker_load_ppm: u32,
}

impl Stats {
    /// Called by the analysis worker before it analyses a chunk: panics, once, if a test armed
    /// a panic for this instance (`test_hooks::genrescope_test_panic_worker`).
    #[cfg(feature = "test-hooks")]
    pub fn panic_if_armed(&self) {
        if self.panic_armed.swap(false, Ordering::AcqRel) {
            panic!("injected by genrescope_test_panic_worker");
        }
    }

    /// Zeroes every counter; called from `activate()` while no worker is running.
    pub fn reset(&self, host_rate_hz: u32) {
        for counter in [
            &*self.pushed,
            &*self.dropped,
            &self.received,
            &self.nonfinite,
            &*self.transport_starts,
            &self.summary_resets,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.host_rate_hz.store(host_rate_hz, Ordering::Relaxed);
        self.worker_failed.store(false, Ordering::Relaxed);
        self.analysis_rate_hz.store(0, Ordering::Relaxed);
        self.worker_load_ppm.store(0, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            pushed: self.pushed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            nonfinite: self.nonfinite.load(Ordering::Relaxed),
            host_rate_hz: self.host_rate_hz.load(Ordering::Relaxed),
            worker_failed: self.worker_failed.load(Ordering::Acquire),
            analysis_rate_hz: self.analysis_rate_hz.load(Ordering::Relaxed),
            worker_load_ppm: self.worker_load_ppm.load(Ordering::Relaxed),
        }
    }
}
