//! The orthonormal DCT-II of `scipy.fft.dct(x, type=2, norm="ortho")`, truncated to the first
//! coefficients, as a precomputed matrix (a few thousand multiply-adds per frame).

use super::linalg::dot;

/// Maps `n_in` values to their first `n_out` DCT-II coefficients.
#[derive(Debug, Clone)]
pub struct Dct {
    /// `n_out` rows of `n_in` basis values.
    basis: Vec<f32>,
    n_in: usize,
}

impl Dct {
    pub fn new(n_in: usize, n_out: usize) -> Self {
        let n = n_in as f64;
        let basis = (0..n_out)
            .flat_map(|k| {
                let scale = if k == 0 {
                    (1.0 / n).sqrt()
                } else {
                    (2.0 / n).sqrt()
                };
                (0..n_in).map(move |i| {
                    let angle = std::f64::consts::PI * k as f64 * (i as f64 + 0.5) / n;
                    (scale * angle.cos()) as f32
                })
            })
            .collect();
        Self { basis, n_in }
    }

    pub fn apply(&self, input: &[f32], output: &mut [f32]) {
        for (out, row) in output.iter_mut().zip(self.basis.chunks_exact(self.n_in)) {
            *out = dot(row, input);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_input_has_only_a_dc_coefficient() {
        let dct = Dct::new(8, 4);
        let mut out = [0.0; 4];
        dct.apply(&[2.0; 8], &mut out);
        assert!((out[0] - 2.0 * 8f32.sqrt()).abs() < 1e-5, "{out:?}");
        assert!(out[1..].iter().all(|c| c.abs() < 1e-5), "{out:?}");
    }

    #[test]
    fn the_full_transform_is_orthonormal() {
        let dct = Dct::new(16, 16);
        let input: Vec<f32> = (0..16).map(|i| (i as f32 * 0.7).sin()).collect();
        let mut out = vec![0.0; 16];
        dct.apply(&input, &mut out);
        let energy_in: f32 = input.iter().map(|x| x * x).sum();
        let energy_out: f32 = out.iter().map(|x| x * x).sum();
        assert!((energy_in - energy_out).abs() < 1e-4);
    }
}
