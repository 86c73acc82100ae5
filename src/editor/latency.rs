//! The diagnostics' audio→display latency: how long the latest window's audio took to reach
//! the screen.

use std::time::Instant;

use crate::analysis::genre::GenreView;

/// Measures each published view once, when the editor first draws it: the audio still queued
/// behind its window when it was published plus the time until that drawing. Measured later
/// it would count the time the view has been on screen, which grows without bound while no
/// new window comes (the input stopped) and is no latency.
#[derive(Debug, Default)]
pub struct Latency {
    /// The publication measured last.
    publication: Option<Instant>,
    /// Its latency, in ms.
    ms: Option<f32>,
}

impl Latency {
    /// The latency of `view`'s window, measured the first time it is seen.
    pub fn of(&mut self, view: &GenreView) -> Option<f32> {
        if view.published_at != self.publication {
            self.publication = view.published_at;
            self.ms = view
                .published_at
                .map(|t| view.backlog_ms + t.elapsed().as_secs_f32() * 1e3);
        }
        self.ms
    }
}

/// The diagnostics' latency item: a dash while the input is silent (a silent window is not
/// classified, so no answer is late) or before the first window.
pub fn text(silent: bool, ms: Option<f32>) -> String {
    match ms {
        Some(ms) if !silent => format!("latency {ms:.0} ms"),
        _ => "latency –".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn silent_input_and_no_window_show_no_latency() {
        assert_eq!(text(false, Some(12.4)), "latency 12 ms");
        assert_eq!(text(true, Some(2028.0)), "latency –");
        assert_eq!(text(false, None), "latency –");
    }

    #[test]
    fn a_view_is_measured_once_not_while_it_stays_on_screen() {
        let published = Instant::now() - Duration::from_millis(5);
        let view = GenreView {
            published_at: Some(published),
            backlog_ms: 20.0,
            ..GenreView::default()
        };
        let mut latency = Latency::default();
        let first = latency.of(&view).unwrap();
        assert!((25.0..1000.0).contains(&first), "{first}");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(latency.of(&view), Some(first));
        let next = GenreView {
            published_at: Some(Instant::now()),
            ..view
        };
        assert!(latency.of(&next).unwrap() < first + 30.0);
        assert_eq!(Latency::default().of(&GenreView::default()), None);
    }
}
