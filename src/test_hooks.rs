//! C symbols through which host-harness tests read a loaded plugin's analysis state and inject
//! faults into it. Only built with the `test-hooks` feature; hosts never see them in release
//! bundles.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::analysis::genre::{GenreView, ModelStatus};
use crate::analysis::worker::Published;
use crate::inference::decision::ranked;
use crate::stats::{Stats, StatsSnapshot};

/// Labels a [`TestReport`] can carry (the built-in models have 14 and 50).
pub const MAX_LABELS: usize = 64;

/// Bytes of the model status message a [`TestReport`] carries.
pub const MESSAGE_BYTES: usize = 512;

/// What [`genrescope_test_report`] writes: the instance's counters and its latest analysis.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct TestReport {
    pub stats: StatsSnapshot,
    /// Number of the latest published snapshot (0: none yet).
    pub snapshot: u64,
    /// 0 loading, 1 ready, 2 failed.
    pub model_state: u32,
    /// Input level since the previous window.
    pub rms_dbfs: f32,
    pub peak_dbfs: f32,
    /// Windows classified since the model was loaded, and how many are in the track summary.
    pub windows: u64,
    pub summary_windows: u64,
    /// Number of labels; index of the summary's top label (`u32::MAX`: no summary yet).
    pub labels: u32,
    pub summary_top: u32,
    /// The track summary, the first `labels` values (at most [`MAX_LABELS`]).
    pub summary: [f32; MAX_LABELS],
    /// Why the model is not running (`model_state` 2) or its provider notice, UTF-8, NUL-padded.
    pub message: [u8; MESSAGE_BYTES],
    /// The mood model beside the genre model: 0 loading, 1 ready, 2 none or failed; windows it
    /// classified since it was loaded; labels of its latest (context) answer, 0 before one.
    pub mood_state: u32,
    pub mood_windows: u64,
    pub mood_labels: u32,
}

impl Default for TestReport {
    fn default() -> Self {
        Self {
            stats: StatsSnapshot::default(),
            snapshot: 0,
            model_state: 0,
            rms_dbfs: 0.0,
            peak_dbfs: 0.0,
            windows: 0,
            summary_windows: 0,
            labels: 0,
            summary_top: u32::MAX,
            summary: [0.0; MAX_LABELS],
            message: [0; MESSAGE_BYTES],
            mood_state: 0,
            mood_windows: 0,
            mood_labels: 0,
        }
    }
}

/// 0 loading, 1 ready, 2 failed (see [`TestReport::model_state`]).
fn state_code(status: &ModelStatus) -> u32 {
    match status {
        ModelStatus::Loading => 0,
        ModelStatus::Ready { .. } => 1,
        ModelStatus::Failed(_) => 2,
    }
}

impl TestReport {
    /// The status message as text.
    pub fn message(&self) -> String {
        let end = self
            .message
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(MESSAGE_BYTES);
        String::from_utf8_lossy(&self.message[..end]).into_owned()
    }
}

struct Instance {
    id: u32,
    stats: Weak<Stats>,
    published: Published<GenreView>,
}

static INSTANCES: Mutex<Vec<Instance>> = Mutex::new(Vec::new());
/// Id of the most recently created instance; ids start at 1 and are never reused.
static LAST_ID: AtomicU32 = AtomicU32::new(0);

/// Records a new plugin instance; instances whose stats were dropped are forgotten.
pub fn register(stats: &Arc<Stats>, published: &Published<GenreView>) {
    let mut instances = INSTANCES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    instances.retain(|i| i.stats.strong_count() > 0);
    let id = LAST_ID.fetch_add(1, Ordering::SeqCst) + 1;
    instances.push(Instance {
        id,
        stats: Arc::downgrade(stats),
        published: published.clone(),
    });
}

/// Makes the analysis worker of the live instance with id `id` panic once, the next time it
/// analyses audio. Returns false if there is no such instance.
#[no_mangle]
pub extern "C" fn genrescope_test_panic_worker(id: u32) -> bool {
    let instances = INSTANCES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(stats) = instances
        .iter()
        .filter(|i| i.id == id)
        .find_map(|i| i.stats.upgrade())
    else {
        return false;
    };
    stats.panic_armed.store(true, Ordering::Release);
    true
}

/// Id of the most recently created plugin instance (0: none yet).
#[no_mangle]
pub extern "C" fn genrescope_test_last_instance() -> u32 {
    LAST_ID.load(Ordering::SeqCst)
}

/// Writes the report of the live instance with id `id` to `out`. Returns false if there is no
/// such instance.
///
/// # Safety
/// `out` must be valid for a write of one [`TestReport`].
#[no_mangle]
pub unsafe extern "C" fn genrescope_test_report(id: u32, out: *mut TestReport) -> bool {
    let instances = INSTANCES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((stats, published)) = instances
        .iter()
        .filter(|i| i.id == id)
        .find_map(|i| Some((i.stats.upgrade()?, &i.published)))
    else {
        return false;
    };
    let snapshot = match published.lock() {
        Ok(mut reader) => reader.read().clone(),
        Err(_) => return false,
    };
    let view = &snapshot.output;
    let summary = view.rolling.summary();
    let mut report = TestReport {
        stats: stats.snapshot(),
        snapshot: snapshot.number,
        model_state: state_code(&view.status),
        rms_dbfs: view.level.rms_dbfs,
        peak_dbfs: view.level.peak_dbfs,
        windows: view.windows,
        summary_windows: view.rolling.summary_windows,
        labels: view.labels.len() as u32,
        summary_top: ranked(&summary).first().map_or(u32::MAX, |&i| i as u32),
        summary: [0.0; MAX_LABELS],
        message: [0; MESSAGE_BYTES],
        mood_state: state_code(&view.mood.status),
        mood_windows: view.mood.windows,
        mood_labels: view.mood.latest.len() as u32,
    };
    for (dst, src) in report.summary.iter_mut().zip(&summary) {
        *dst = *src;
    }
    let message = match &view.status {
        ModelStatus::Failed(message) => message.as_str(),
        ModelStatus::Ready {
            notice: Some(notice),
            ..
        } => notice.as_str(),
        _ => "",
    };
    let bytes = &message.as_bytes()[..message.len().min(MESSAGE_BYTES - 1)];
    report.message[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: the caller guarantees `out` is valid for writes.
    unsafe { out.write(report) };
    true
}
