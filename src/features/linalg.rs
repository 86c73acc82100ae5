//! Small numeric kernels shared by the filterbank and the DCT.

/// Lanes of independent partial sums: lets the compiler vectorise the loop, which a single
/// running sum (a strict left-to-right order of float additions) forbids.
pub const LANES: usize = 8;

/// `Σ a[i] · b[i]` over the shorter of the two slices. Lengths that are a multiple of [`LANES`]
/// take no scalar tail. Inline: the filterbank calls it once per filter and frame (and a caller
/// compiled for AVX gets it in AVX).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    // Fixed-size chunks (arrays, not slices) so the lane loop has no bounds checks and
    // vectorises.
    let ((a_chunks, a_tail), (b_chunks, b_tail)) =
        (a[..n].as_chunks::<LANES>(), b[..n].as_chunks::<LANES>());
    let mut lanes = [0.0f32; LANES];
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for lane in 0..LANES {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_plain_sum_for_every_length() {
        for n in 0..40 {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32).sin()).collect();
            let plain: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            assert!((f64::from(dot(&a, &b)) - plain).abs() < 1e-4, "n = {n}");
        }
    }
}
