//! C symbols through which host-harness tests read a loaded plugin's analysis state. Only built
//! with the `test-hooks` feature; hosts never see them in release bundles.

use std::sync::{Arc, Mutex, Weak};

use crate::analysis::levels::Levels;
use crate::analysis::worker::Published;
use crate::stats::{Stats, StatsSnapshot};

/// What [`genrescope_test_report`] writes: the instance's counters and its latest analysis.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
pub struct TestReport {
    pub stats: StatsSnapshot,
    /// Hop number of the latest published snapshot (0: none yet).
    pub hop: u64,
    pub rms_dbfs: f32,
    pub peak_dbfs: f32,
}

struct Instance {
    stats: Weak<Stats>,
    published: Published<Levels>,
}

static INSTANCES: Mutex<Vec<Instance>> = Mutex::new(Vec::new());

/// Records a new plugin instance; instances whose stats were dropped are forgotten.
pub fn register(stats: &Arc<Stats>, published: &Published<Levels>) {
    let mut instances = INSTANCES.lock().unwrap_or_else(|p| p.into_inner());
    instances.retain(|i| i.stats.strong_count() > 0);
    instances.push(Instance {
        stats: Arc::downgrade(stats),
        published: published.clone(),
    });
}

/// Number of plugin instances alive in this process.
#[no_mangle]
pub extern "C" fn genrescope_test_instances() -> u32 {
    let instances = INSTANCES.lock().unwrap_or_else(|p| p.into_inner());
    instances
        .iter()
        .filter(|i| i.stats.strong_count() > 0)
        .count() as u32
}

/// Writes the report of the `index`-th live instance (oldest first) to `out`. Returns false if
/// there is no such instance.
///
/// # Safety
/// `out` must be valid for a write of one [`TestReport`].
#[no_mangle]
pub unsafe extern "C" fn genrescope_test_report(index: u32, out: *mut TestReport) -> bool {
    let instances = INSTANCES.lock().unwrap_or_else(|p| p.into_inner());
    let Some((stats, published)) = instances
        .iter()
        .filter_map(|i| Some((i.stats.upgrade()?, &i.published)))
        .nth(index as usize)
    else {
        return false;
    };
    let snapshot = match published.lock() {
        Ok(mut reader) => reader.read().clone(),
        Err(_) => return false,
    };
    let report = TestReport {
        stats: stats.snapshot(),
        hop: snapshot.hop,
        rms_dbfs: snapshot.output.rms_dbfs,
        peak_dbfs: snapshot.output.peak_dbfs,
    };
    // SAFETY: the caller guarantees `out` is valid for writes.
    unsafe { out.write(report) };
    true
}
