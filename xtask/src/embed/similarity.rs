//! The genre × genre mean cosine-similarity matrix of clip embeddings.

use std::fmt::Write as _;

use ndarray::{Array1, ArrayView2};

/// `m[a][b]`: the mean of cos(xᵢ, xⱼ) over clips i of genre a and j of genre b, i ≠ j, for the
/// rows of `x` (`genre_of[i]`: row i's genre index below `genres`, `None`: not counted). NaN
/// where no pair exists (a genre with one clip, on the diagonal; an empty genre). Zero rows have
/// no direction and count as similarity 0.
///
/// With unit rows uᵢ and genre sums S_a = Σ uᵢ: off the diagonal m = S_a·S_b / (n_a n_b), on
/// it m = (|S_a|² − n_a) / (n_a (n_a − 1)) (the n_a self-pairs, each 1, removed): O(rows ·
/// columns) instead of O(rows²).
pub fn genre_cosine(
    x: ArrayView2<f32>,
    genre_of: &[Option<usize>],
    genres: usize,
) -> Vec<Vec<f64>> {
    let mut sums = vec![Array1::<f64>::zeros(x.ncols()); genres];
    let mut counts = vec![0usize; genres];
    // Rows of each genre with a direction: each adds a self-pair of 1 to |S_a|².
    let mut units = vec![0usize; genres];
    for (row, genre) in x.rows().into_iter().zip(genre_of) {
        let Some(g) = *genre else { continue };
        let row = row.mapv(|v| v as f64);
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            sums[g] += &(row / norm);
            units[g] += 1;
        }
        counts[g] += 1;
    }
    (0..genres)
        .map(|a| {
            (0..genres)
                .map(|b| {
                    let (na, nb) = (counts[a] as f64, counts[b] as f64);
                    let dot = sums[a].dot(&sums[b]);
                    if a == b {
                        (dot - units[a] as f64) / (na * (na - 1.0))
                    } else {
                        dot / (na * nb)
                    }
                })
                .map(|m| if m.is_finite() { m } else { f64::NAN })
                .collect()
        })
        .collect()
}

/// The matrix as CSV: a header `genre,<labels...>`, then one row per genre; 4 decimals, empty
/// for NaN.
pub fn to_csv(labels: &[String], matrix: &[Vec<f64>]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut csv = String::from("genre");
    for l in labels {
        let _ = write!(csv, ",{}", quote(l));
    }
    csv.push('\n');
    for (l, row) in labels.iter().zip(matrix) {
        csv += &quote(l);
        for v in row {
            if v.is_nan() {
                csv.push(',');
            } else {
                let _ = write!(csv, ",{v:.4}");
            }
        }
        csv.push('\n');
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn genre_means_match_known_and_brute_force_values() {
        // Genre 0 points along +x, genre 1 along +y (any length), genre 2 is one clip along -x;
        // row 5 belongs to no genre.
        let x = array![
            [1.0f32, 0.0],
            [3.0, 0.0],
            [0.0, 2.0],
            [0.0, 0.5],
            [-1.0, 0.0],
            [1.0, 1.0]
        ];
        let genre_of = [Some(0), Some(0), Some(1), Some(1), Some(2), None];
        let m = genre_cosine(x.view(), &genre_of, 3);
        assert!((m[0][0] - 1.0).abs() < 1e-12);
        assert!((m[1][1] - 1.0).abs() < 1e-12);
        assert!(m[0][1].abs() < 1e-12 && m[1][0].abs() < 1e-12);
        assert!((m[0][2] + 1.0).abs() < 1e-12);
        assert!(m[2][2].is_nan(), "one clip has no pair");

        // A mixed case against the pairwise definition.
        let y = array![[1.0f32, 2.0], [2.0, -1.0], [0.5, 0.5], [-3.0, 1.0]];
        let genre_of = [Some(0), Some(0), Some(0), Some(1)];
        let m = genre_cosine(y.view(), &genre_of, 2);
        let cos = |i: usize, j: usize| {
            let (a, b) = (y.row(i).mapv(|v| v as f64), y.row(j).mapv(|v| v as f64));
            a.dot(&b) / (a.dot(&a).sqrt() * b.dot(&b).sqrt())
        };
        let diagonal = (cos(0, 1) + cos(0, 2) + cos(1, 2)) / 3.0;
        let across = (cos(0, 3) + cos(1, 3) + cos(2, 3)) / 3.0;
        assert!((m[0][0] - diagonal).abs() < 1e-12);
        assert!((m[0][1] - across).abs() < 1e-12 && (m[1][0] - across).abs() < 1e-12);

        let csv = to_csv(&["a".into(), "b,c".into()], &m);
        assert_eq!(csv.lines().next(), Some("genre,a,\"b,c\""));
        assert_eq!(csv.lines().nth(2).unwrap().split(',').count(), 4);
        assert!(csv.lines().nth(2).unwrap().ends_with(','), "NaN is empty");
    }
}
