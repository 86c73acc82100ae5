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
}

impl Stats {
    /// Zeroes every counter; called from `activate()` while no worker is running.
    pub fn reset(&self, host_rate_hz: u32) {
        for counter in [
            &*self.pushed,
            &*self.dropped,
            &self.received,
            &self.nonfinite,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.host_rate_hz.store(host_rate_hz, Ordering::Relaxed);
        self.worker_failed.store(false, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            pushed: self.pushed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            nonfinite: self.nonfinite.load(Ordering::Relaxed),
            host_rate_hz: self.host_rate_hz.load(Ordering::Relaxed),
            worker_failed: self.worker_failed.load(Ordering::Acquire),
        }
    }
}
