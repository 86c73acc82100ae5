//! What the editor shows over time, built from one probability vector per model window: the
//! exponentially smoothed distribution, the history of the last minutes, and the track summary
//! (computed by [`crate::inference::decision::Decision`], kept here with the rest).

use std::collections::VecDeque;

/// How much history is kept, in seconds.
pub const HISTORY_SECONDS: f64 = 600.0;

/// One history entry per analysed window.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// End of the window, in seconds since the analysis started.
    pub time_s: f64,
    /// The smoothed distribution after this window; `None` for a silent window.
    pub probabilities: Option<Vec<f32>>,
}

/// The state behind the live view. All distributions have one value per label and sum to 1.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rolling {
    /// The smoothed distribution; empty until the first non-silent window.
    pub smoothed: Vec<f32>,
    /// Oldest first, at most [`HISTORY_SECONDS`] long.
    pub history: VecDeque<HistoryEntry>,
    /// The track's distribution since the summary was reset (empty before its first window).
    summary: Vec<f32>,
    /// Non-silent windows in the summary.
    pub summary_windows: u64,
}

/// One model window's answer, as the rolling view takes it.
#[derive(Debug, Clone, Copy)]
pub struct WindowAnswer<'a> {
    /// When the window ended, in seconds of analysed audio.
    pub time_s: f64,
    /// Time since the previous window, in seconds.
    pub hop_s: f32,
    /// The window's distribution (the genre's, or the mood's).
    pub probabilities: &'a [f32],
    /// Whether the window was silence: it then only marks the history.
    pub silent: bool,
}

impl Rolling {
    /// Adds one window's answer. `smoothing_s` is the time constant of the exponential
    /// smoothing in seconds (0: none).
    pub fn push(&mut self, window: WindowAnswer, smoothing_s: f32) {
        let WindowAnswer {
            time_s,
            hop_s,
            probabilities,
            silent,
        } = window;
        if !silent {
            let alpha = if smoothing_s > 0.0 && self.smoothed.len() == probabilities.len() {
                1.0 - (-hop_s / smoothing_s).exp()
            } else {
                1.0
            };
            self.smoothed.resize(probabilities.len(), 0.0);
            for (s, &p) in self.smoothed.iter_mut().zip(probabilities) {
                *s += alpha * (p - *s);
            }
        }
        self.history.push_back(HistoryEntry {
            time_s,
            probabilities: (!silent).then(|| self.smoothed.clone()),
        });
        while self
            .history
            .front()
            .is_some_and(|first| time_s - first.time_s > HISTORY_SECONDS)
        {
            self.history.pop_front();
        }
    }

    /// Starts a new track summary (history and smoothing go on).
    pub fn reset_summary(&mut self) {
        self.summary.clear();
        self.summary_windows = 0;
    }

    /// The track's distribution over `windows` non-silent windows since the last reset.
    pub fn set_summary(&mut self, probabilities: Vec<f32>, windows: u64) {
        self.summary = probabilities;
        self.summary_windows = windows;
    }

    /// The track summary (empty if no window since the last reset).
    pub fn summary(&self) -> Vec<f32> {
        self.summary.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(time_s: f64, probabilities: &[f32], silent: bool, hop_s: f32) -> WindowAnswer<'_> {
        WindowAnswer {
            time_s,
            hop_s,
            probabilities,
            silent,
        }
    }

    #[test]
    fn smoothing_follows_the_exponential_time_constant() {
        let mut rolling = Rolling::default();
        rolling.push(answer(1.0, &[1.0, 0.0], false, 1.0), 2.0);
        assert_eq!(
            rolling.smoothed,
            vec![1.0, 0.0],
            "the first window is taken as is"
        );
        rolling.push(answer(2.0, &[0.0, 1.0], false, 1.0), 2.0);
        let alpha = 1.0 - (-0.5f32).exp();
        assert!((rolling.smoothed[1] - alpha).abs() < 1e-6);
        assert!((rolling.smoothed.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        rolling.push(answer(3.0, &[0.0, 1.0], false, 1.0), 0.0);
        assert_eq!(rolling.smoothed, vec![0.0, 1.0], "no smoothing at 0 s");
    }

    #[test]
    fn silent_windows_are_gaps_in_the_history_and_resets_clear_the_summary() {
        let mut rolling = Rolling::default();
        rolling.push(answer(1.0, &[0.9, 0.1], false, 1.0), 0.0);
        rolling.set_summary(vec![0.9, 0.1], 1);
        rolling.reset_summary();
        assert!(rolling.summary().is_empty());
        assert_eq!(rolling.summary_windows, 0);
        rolling.push(answer(2.0, &[0.5, 0.5], true, 1.0), 0.0);
        assert_eq!(
            rolling.smoothed,
            vec![0.9, 0.1],
            "silence does not move the view"
        );
        assert_eq!(rolling.history.len(), 2);
        assert_eq!(rolling.history[1].probabilities, None, "silence is a gap");
    }

    #[test]
    fn history_keeps_the_last_minutes() {
        let mut rolling = Rolling::default();
        for i in 0..2000 {
            rolling.push(answer(f64::from(i), &[1.0], false, 1.0), 0.0);
        }
        assert_eq!(
            rolling.history.front().unwrap().time_s,
            1999.0 - HISTORY_SECONDS
        );
        assert_eq!(rolling.history.len(), HISTORY_SECONDS as usize + 1);
    }
}
