//! The rolling analysis window: the last `len` samples, handed out every `hop` samples.

/// Keeps the most recent `len` samples of a stream and yields them, oldest first, each time the
/// stream reaches position `len + k * hop` (k = 0, 1, ...). Positions count samples since the
/// window was created. Allocates only in [`RollingWindow::new()`].
pub struct RollingWindow {
    ring: Vec<f32>,
    /// Index in `ring` where the next sample goes.
    write: usize,
    /// The window handed to the callback, oldest sample first.
    linear: Vec<f32>,
    hop: usize,
    /// Samples pushed so far.
    position: u64,
    /// Position at which the next window is due.
    next_emit: u64,
}

impl RollingWindow {
    /// `len` and `hop` are in samples; both are clamped to at least 1.
    pub fn new(len: usize, hop: usize) -> Self {
        let len = len.max(1);
        Self {
            ring: vec![0.0; len],
            write: 0,
            linear: vec![0.0; len],
            hop: hop.max(1),
            position: 0,
            next_emit: len as u64,
        }
    }

    /// Appends `input`; for every window that becomes due, calls `on_window(end, window)` where
    /// `end` is the stream position just past the window's last sample.
    pub fn push(&mut self, mut input: &[f32], mut on_window: impl FnMut(u64, &[f32])) {
        while !input.is_empty() {
            let until_due = (self.next_emit - self.position) as usize;
            let n = until_due.min(input.len());
            self.write_samples(&input[..n]);
            input = &input[n..];
            self.position += n as u64;

            if self.position == self.next_emit {
                let (newer, older) = self.ring.split_at(self.write);
                self.linear[..older.len()].copy_from_slice(older);
                self.linear[older.len()..].copy_from_slice(newer);
                on_window(self.position, &self.linear);
                self.next_emit += self.hop as u64;
            }
        }
    }

    /// Writes up to one ring's worth of samples; longer input keeps only its tail.
    fn write_samples(&mut self, samples: &[f32]) {
        let len = self.ring.len();
        let samples = &samples[samples.len().saturating_sub(len)..];
        let first = samples.len().min(len - self.write);
        self.ring[self.write..self.write + first].copy_from_slice(&samples[..first]);
        self.ring[..samples.len() - first].copy_from_slice(&samples[first..]);
        self.write = (self.write + samples.len()) % len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows_of(len: usize, hop: usize, input: &[f32], piece: usize) -> Vec<(u64, Vec<f32>)> {
        let mut window = RollingWindow::new(len, hop);
        let mut got = Vec::new();
        for chunk in input.chunks(piece) {
            window.push(chunk, |end, w| got.push((end, w.to_vec())));
        }
        got
    }

    #[test]
    fn emits_the_latest_samples_every_hop_whatever_the_push_sizes() {
        let input: Vec<f32> = (0..20).map(|i| i as f32).collect();
        for piece in [1, 2, 3, 7, 20] {
            let got = windows_of(4, 3, &input, piece);
            let ends: Vec<u64> = got.iter().map(|(end, _)| *end).collect();
            assert_eq!(ends, vec![4, 7, 10, 13, 16, 19], "piece {piece}");
            for (end, w) in &got {
                let expected: Vec<f32> = (*end as usize - 4..*end as usize)
                    .map(|i| i as f32)
                    .collect();
                assert_eq!(w, &expected, "piece {piece}");
            }
        }
    }

    #[test]
    fn hop_longer_than_the_window_skips_samples() {
        let input: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let got = windows_of(2, 5, &input, 12);
        assert_eq!(
            got,
            vec![
                (2, vec![0.0, 1.0]),
                (7, vec![5.0, 6.0]),
                (12, vec![10.0, 11.0])
            ]
        );
    }
}
