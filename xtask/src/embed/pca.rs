//! Standardisation and principal component analysis of clip embeddings.
//!
//! PCA is the singular value decomposition of the standardised data matrix, computed by
//! `burn::linalg::svd` (pure Rust, deterministic, already part of our burn dependency), so no
//! system BLAS/LAPACK is needed. `linfa-reduction` would pull a second `ndarray` and `rand`
//! generation for a 2-component projection of at most a few thousand rows.

use burn::tensor::{Device, Tensor, TensorData};
use ndarray::{Array2, ArrayView2, Axis};

/// QR sweeps per singular value the SVD may take (it panics past that; LAPACK's limit is 6·n
/// sweeps in total, far above what a Golub–Kahan iteration needs per value).
const SWEEPS: usize = 100;

/// Centres every column on its mean and divides it by its (population) standard deviation;
/// constant columns (units that never vary, e.g. ReLUs that never fire) become 0. Returns how
/// many columns were constant.
pub fn standardise(x: &mut Array2<f32>) -> usize {
    let mut constant = 0;
    for mut column in x.axis_iter_mut(Axis(1)) {
        let n = column.len() as f64;
        let mean = column.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = column
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let std = var.sqrt();
        if std <= 1e-12 * mean.abs().max(1.0) {
            constant += 1;
            column.fill(0.0);
        } else {
            column.mapv_inplace(|v| ((v as f64 - mean) / std) as f32);
        }
    }
    constant
}

/// The principal components of the rows of a centred matrix.
pub struct Pca {
    /// `[rows, components]`: each row's coordinates along the components, largest first.
    pub coordinates: Array2<f32>,
    /// Share of the total variance along each component (0–1), for the components kept.
    pub explained: Vec<f64>,
}

/// The first `components` (at most `min(rows, columns)`) principal components of `x`, whose
/// columns must be centred (see [`standardise`]). Each component's sign is fixed so that its
/// largest-magnitude loading is positive, so the result does not depend on the SVD's sign
/// choices.
pub fn pca(x: ArrayView2<f32>, components: usize) -> Pca {
    let (rows, columns) = x.dim();
    let components = components.min(rows).min(columns);
    let device = Device::flex();
    let data: Vec<f32> = x.iter().copied().collect();
    let tensor = Tensor::<2>::from_data(TensorData::new(data, [rows, columns]), &device);
    let (u, s, vt) = burn::linalg::svd::<2, 1>(tensor, SWEEPS);
    let k = s.dims()[0];
    let u = Array2::from_shape_vec((rows, k), u.into_data().try_to_vec::<f32>().unwrap()).unwrap();
    let s = s.into_data().try_to_vec::<f32>().unwrap();
    let vt =
        Array2::from_shape_vec((k, columns), vt.into_data().try_to_vec::<f32>().unwrap()).unwrap();
    let total: f64 = s.iter().map(|&v| (v as f64).powi(2)).sum();
    let mut coordinates = Array2::zeros((rows, components));
    for (c, &singular) in s.iter().enumerate().take(components) {
        let loading = vt.row(c);
        let largest = loading
            .iter()
            .fold(0.0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        coordinates
            .column_mut(c)
            .assign(&u.column(c).mapv(|v| sign * v * singular));
    }
    Pca {
        coordinates,
        explained: s[..components]
            .iter()
            .map(|&v| (v as f64).powi(2) / total.max(f64::MIN_POSITIVE))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn standardise_gives_zero_mean_unit_variance_and_zeroes_constant_columns() {
        let mut x = array![[1.0f32, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]];
        assert_eq!(standardise(&mut x), 1);
        for c in [0, 2] {
            let column = x.column(c);
            assert!(column.mean().unwrap().abs() < 1e-6);
            assert!((column.mapv(|v| v * v).mean().unwrap() - 1.0).abs() < 1e-5);
        }
        assert!(x.column(1).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn pca_of_two_equal_columns_and_an_independent_one() {
        // Columns a = b = t and c = s with t ⟂ s: correlation matrix [[1,1,0],[1,1,0],[0,0,1]],
        // eigenvalues 2, 1, 0, so the components explain 2/3 and 1/3; PC1 = (a + b)/√2 = √2·t,
        // PC2 = ±s.
        let t = [1.0f32, -1.0, 1.0, -1.0];
        let s = [1.0f32, 1.0, -1.0, -1.0];
        let mut x = Array2::from_shape_fn((4, 3), |(i, j)| if j < 2 { t[i] } else { s[i] });
        standardise(&mut x);
        let p = pca(x.view(), 2);
        assert_eq!(p.coordinates.dim(), (4, 2));
        assert!(
            (p.explained[0] - 2.0 / 3.0).abs() < 1e-5,
            "{:?}",
            p.explained
        );
        assert!(
            (p.explained[1] - 1.0 / 3.0).abs() < 1e-5,
            "{:?}",
            p.explained
        );
        for i in 0..4 {
            // The largest loading of PC1 is positive, so PC1 = +√2·t exactly.
            assert!((p.coordinates[[i, 0]] - 2f32.sqrt() * t[i]).abs() < 1e-4);
            assert!((p.coordinates[[i, 1]].abs() - 1.0).abs() < 1e-4);
            assert!((p.coordinates[[i, 1]] * s[i] - p.coordinates[[0, 1]] * s[0]).abs() < 1e-4);
        }
    }
}
