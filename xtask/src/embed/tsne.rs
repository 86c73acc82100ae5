//! Seeded 2-D t-SNE with the `bhtsne` crate's exact algorithm (van der Maaten & Hinton 2008).
//!
//! Exact t-SNE costs O(n²) time and memory per epoch, a few seconds for the ~1,000 clips of our
//! corpus. It is deterministic here: the starting layout comes from our seeded generator (the
//! crate's own default draws from the thread RNG), and the fit runs in a one-thread rayon pool,
//! because the crate's parallel sums would otherwise add in an order that depends on thread
//! timing. (The crate's Barnes–Hut path is not used: its vantage-point tree draws from the
//! thread RNG.)

use anyhow::ensure;
use bhtsne::tSNE;
use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Settings of a run.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Settings {
    /// Effective number of neighbours each point's Gaussian spans.
    pub perplexity: f32,
    pub seed: u64,
    pub epochs: usize,
}

/// A fitted map.
pub struct Map {
    /// `[rows, 2]` coordinates (arbitrary units).
    pub coordinates: Array2<f32>,
    /// The perplexity used: the requested one, lowered to `(rows - 1) / 3` when there are
    /// too few rows for it.
    pub perplexity: f32,
    /// Kullback–Leibler divergence of the final map (lower: more faithful neighbourhoods).
    pub kl_divergence: f32,
}

/// The 2-D t-SNE map of the rows of `x` (squared Euclidean distances); at least 4 rows.
pub fn tsne(x: ArrayView2<f32>, settings: Settings) -> anyhow::Result<Map> {
    let (rows, columns) = x.dim();
    ensure!(rows >= 4, "t-SNE needs at least 4 clips, there are {rows}");
    let perplexity = settings.perplexity.min(((rows - 1) / 3) as f32);
    let data = x.as_standard_layout().into_owned();
    let samples: Vec<&[f32]> = data
        .as_slice()
        .expect("standard layout")
        .chunks(columns)
        .collect();
    // Uniform in ±1e-4: the tiny random start of the original algorithm.
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let start: Vec<f32> = (0..rows * 2)
        .map(|_| rng.random_range(-1e-4..1e-4))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let (coordinates, kl_divergence) = pool.install(|| {
        let mut fit: tSNE<f32, &[f32], 2> = tSNE::new(&samples);
        fit.perplexity(perplexity)
            .epochs(settings.epochs)
            .initial_embedding(start)
            .exact(|a, b| a.iter().zip(*b).map(|(p, q)| (p - q) * (p - q)).sum());
        (fit.embedding(), fit.kl_divergence().unwrap_or(f32::NAN))
    });
    Ok(Map {
        coordinates: Array2::from_shape_vec((rows, 2), coordinates)?,
        perplexity,
        kl_divergence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tight blobs of 15 points in 5-D, far apart.
    fn blobs() -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        Array2::from_shape_fn((30, 5), |(i, _)| {
            (if i < 15 { 0.0 } else { 10.0 }) + rng.random_range(-0.5..0.5)
        })
    }

    #[test]
    fn seeded_tsne_is_deterministic_and_keeps_blobs_apart() {
        let settings = Settings {
            perplexity: 30.0,
            seed: 1,
            epochs: 1000,
        };
        let x = blobs();
        let a = tsne(x.view(), settings).unwrap();
        let b = tsne(x.view(), settings).unwrap();
        assert_eq!(a.coordinates, b.coordinates);
        // 30 points allow a perplexity of at most 29 / 3.
        assert_eq!(a.perplexity, 9.0);
        assert!(a.kl_divergence.is_finite());
        // Every point is nearer its own blob's centre than the other's.
        let centre = |range: std::ops::Range<usize>| {
            let rows = a.coordinates.slice(ndarray::s![range, ..]);
            rows.mean_axis(ndarray::Axis(0)).unwrap()
        };
        let (c0, c1) = (centre(0..15), centre(15..30));
        for (i, p) in a.coordinates.rows().into_iter().enumerate() {
            let d = |c: &ndarray::Array1<f32>| (&p - c).mapv(|v| v * v).sum();
            assert_eq!(d(&c0) < d(&c1), i < 15, "point {i}: {}", a.coordinates);
        }
        let other = tsne(
            x.view(),
            Settings {
                seed: 2,
                ..settings
            },
        )
        .unwrap();
        assert_ne!(a.coordinates, other.coordinates);
    }
}
