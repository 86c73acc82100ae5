//! First-order pre-emphasis, `y[n] = x[n] - c·x[n-1]`, streamed: EfficientAT's front end
//! convolves the waveform with `[-c, 1]` (`torch.nn.functional.conv1d`, no padding), so its
//! output starts at the second sample and is one sample shorter than its input.

/// Samples filtered per step of [`PreEmphasis::push`], from a buffer allocated once.
const BLOCK: usize = 1024;

/// The filter's state between pieces of a stream. Allocates only in [`PreEmphasis::new`] (and
/// in `clone()`).
#[derive(Debug, Clone)]
pub struct PreEmphasis {
    coefficient: f32,
    /// The last input sample (`None` before the first).
    previous: Option<f32>,
    out: Vec<f32>,
}

impl PreEmphasis {
    pub fn new(coefficient: f32) -> Self {
        Self {
            coefficient,
            previous: None,
            out: Vec::with_capacity(BLOCK),
        }
    }

    /// Filters `samples` (any length, in pieces of a stream) and hands the output to `emit`
    /// in pieces of at most 1024 samples. The stream's first sample only primes the filter.
    pub fn push(&mut self, samples: &[f32], mut emit: impl FnMut(&[f32])) {
        let c = self.coefficient;
        for block in samples.chunks(BLOCK) {
            self.out.clear();
            if let Some(previous) = self.previous {
                self.out.push(block[0] - c * previous);
            }
            // One loop over pairs of neighbours, without a branch: it vectorises.
            let pairs = block[1..].iter().zip(block);
            self.out
                .extend(pairs.map(|(&x, &previous)| x - c * previous));
            self.previous = block.last().copied();
            if !self.out.is_empty() {
                emit(&self.out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_valid_convolution_in_any_pieces() {
        let signal: Vec<f32> = (0..3000)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let expected: Vec<f32> = signal.windows(2).map(|w| w[1] - 0.97 * w[0]).collect();
        for piece in [1, 2, 999, 1024, 5000] {
            let mut filter = PreEmphasis::new(0.97);
            let mut out = Vec::new();
            for chunk in signal.chunks(piece) {
                filter.push(chunk, |y| out.extend_from_slice(y));
            }
            assert_eq!(out, expected, "piece {piece}");
        }
    }
}
