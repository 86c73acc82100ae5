//! A narrowed musicnn: the original weights with the front-end filters that matter least taken
//! out, for a cheaper network that needs no training of its own (the front end's two timbral
//! branches are ~85 % of musicnn's ~1.3 G multiply-adds per patch).
//!
//! The filters are ranked across branches, and every branch keeps at least one. A filter's
//! importance is how much it moves what reads it, judged from the network's own batch-norm
//! statistics (gathered on the Million Song Dataset): the spread of its output (its norm's
//! scale, shrunk by `√(var / (var + ε))` where the filter hardly ever fires) times the norm of
//! its weights in the first mid-end convolution, plus, for its two pooled values (max and mean
//! over time), their spread after the pooling norm times the norm of their rows in the dense
//! layer. Most of musicnn's front end never fires: in the MSD network 497 of 561 filters have a
//! moving variance below 1e-6 (their output is a constant), so keeping the top ~12 % changes
//! the embedding by rounding error only, at a fraction of the cost. A removed
//! filter's output is replaced by its expected value, folded into the biases of its readers: the
//! mid-end convolution sees the filter's mean over time (the pooling norm's moving mean of that
//! pooled value; the zero padding at the patch edges is ignored), and the dense layer sees the
//! pooling norm's shift (what the norm returns for its moving mean).

use std::collections::HashMap;

use super::net::{BN_EPSILON, DENSE, FRONT, MID, POOL_NORM};
use crate::weights::{Variable, Weights};

/// Batch-norm parts that are indexed by channel.
const NORM_PARTS: [&str; 4] = ["gamma", "beta", "moving_mean", "moving_variance"];

/// `weights` with the most important `percent` % of the front-end filters kept (at least one in
/// every branch).
pub fn narrowed(weights: &Weights, percent: u8) -> anyhow::Result<Weights> {
    anyhow::ensure!(
        (1..=100).contains(&percent),
        "a narrowed musicnn keeps 1-100 % of its filters, not {percent}"
    );
    let widths = branch_widths(weights)?;
    let scores = importance(weights, &widths)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let count = (scores.len() * usize::from(percent)).div_ceil(100);
    let mut chosen = vec![false; scores.len()];
    order[..count].iter().for_each(|&g| chosen[g] = true);
    let mut kept = Vec::new();
    let mut offset = 0;
    for &width in &widths {
        let range = offset..offset + width;
        let mut branch: Vec<usize> = range.clone().filter(|&g| chosen[g]).collect();
        if branch.is_empty() {
            let best = range.max_by(|&a, &b| scores[a].total_cmp(&scores[b]));
            branch.extend(best);
        }
        kept.push(branch);
        offset += width;
    }
    Ok(weights.with_replaced(removed(weights, &widths, &kept)?))
}

/// Filters of every front-end branch, in `FRONT`'s order.
fn branch_widths(w: &Weights) -> anyhow::Result<Vec<usize>> {
    FRONT
        .iter()
        .map(|spec| {
            Ok(*w
                .shape(&format!("{}/bias", spec.conv))?
                .first()
                .unwrap_or(&0))
        })
        .collect()
}

/// The spread of a batch norm's output per channel: its scale, shrunk where the channel's
/// moving variance is small beside the norm's epsilon (a channel that never varies has none).
fn spread(w: &Weights, norm: &str, channels: usize) -> anyhow::Result<Vec<f32>> {
    let scale = &w.get(&format!("{norm}/gamma"), &[channels])?.values;
    let variance = &w
        .get(&format!("{norm}/moving_variance"), &[channels])?
        .values;
    Ok(scale
        .iter()
        .zip(variance)
        .map(|(g, v)| g.abs() * (v / (v + BN_EPSILON)).sqrt())
        .collect())
}

/// Importance of every front-end filter, in concatenation order (branch after branch).
fn importance(w: &Weights, widths: &[usize]) -> anyhow::Result<Vec<f32>> {
    let front: usize = widths.iter().sum();
    let mid = w.get(&format!("{}/kernel", MID[0].0), &mid_shape(w, front)?)?;
    let outputs = mid.shape[3];
    let pooled_width = pooled(w)?;
    let pool_spread = spread(w, POOL_NORM, pooled_width)?;
    let dense = w.get(
        &format!("{DENSE}/kernel"),
        &[pooled_width, w.shape(&format!("{DENSE}/bias"))?[0]],
    )?;
    let dense_row = |r: usize| {
        let n = dense.shape[1];
        dense.values[r * n..(r + 1) * n]
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt()
    };
    let mut scores = Vec::with_capacity(front);
    let mut g = 0;
    for (spec, &width) in FRONT.iter().zip(widths) {
        for s in spread(w, spec.norm, width)? {
            // TensorFlow's mid-end kernel [7, front, 1, outputs]: this filter's 7 × outputs.
            let mid_norm = (0..mid.shape[0])
                .flat_map(|k| {
                    let at = (k * front + g) * outputs;
                    mid.values[at..at + outputs].iter()
                })
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt();
            let pooled_part: f32 = [2 * g, 2 * g + 1]
                .into_iter()
                .map(|r| pool_spread[r] * dense_row(r))
                .sum();
            scores.push(s * mid_norm + pooled_part);
            g += 1;
        }
    }
    Ok(scores)
}

/// Width of the pooled features (the pooling norm's channels).
fn pooled(w: &Weights) -> anyhow::Result<usize> {
    Ok(w.shape(&format!("{POOL_NORM}/gamma"))?[0])
}

fn mid_shape(w: &Weights, front: usize) -> anyhow::Result<[usize; 4]> {
    let shape = w.shape(&format!("{}/kernel", MID[0].0))?;
    anyhow::ensure!(
        shape.len() == 4 && shape[1] == front,
        "mid-end kernel shape {shape:?}"
    );
    Ok([shape[0], front, 1, shape[3]])
}

/// The replaced variables: every front-end branch cut to its `kept` filters (indices in
/// concatenation order), their readers cut to match, the removed filters' expected values in
/// the readers' biases.
fn removed(
    w: &Weights,
    widths: &[usize],
    kept: &[Vec<usize>],
) -> anyhow::Result<HashMap<String, Variable>> {
    let front: usize = widths.iter().sum();
    let keep_front: Vec<usize> = kept.iter().flatten().copied().collect();
    let is_kept = {
        let mut mask = vec![false; front];
        keep_front.iter().for_each(|&g| mask[g] = true);
        mask
    };
    let mut out = HashMap::new();
    let mut offset = 0;
    for ((spec, &width), branch) in FRONT.iter().zip(widths).zip(kept) {
        let local: Vec<usize> = branch.iter().map(|g| g - offset).collect();
        let kernel_name = format!("{}/kernel", spec.conv);
        let kernel = w.variable(&kernel_name)?;
        out.insert(kernel_name, select_last(kernel, &local));
        for name in std::iter::once(format!("{}/bias", spec.conv))
            .chain(NORM_PARTS.iter().map(|p| format!("{}/{p}", spec.norm)))
        {
            out.insert(name.clone(), select_last(w.get(&name, &[width])?, &local));
        }
        offset += width;
    }

    let pooled_width = pooled(w)?;
    let pool_mean = &w
        .get(&format!("{POOL_NORM}/moving_mean"), &[pooled_width])?
        .values;
    let pool_shift = &w.get(&format!("{POOL_NORM}/beta"), &[pooled_width])?.values;

    // First mid-end convolution: kept input channels; removed ones as their mean over time.
    let (mid_conv, _) = MID[0];
    let shape = mid_shape(w, front)?;
    let mid = w.get(&format!("{mid_conv}/kernel"), &shape)?;
    let [taps, _, _, outputs] = shape;
    let mut mid_bias = w
        .get(&format!("{mid_conv}/bias"), &[outputs])?
        .values
        .clone();
    let mut mid_kernel = Vec::with_capacity(taps * keep_front.len() * outputs);
    for k in 0..taps {
        for g in 0..front {
            let row = &mid.values[(k * front + g) * outputs..(k * front + g + 1) * outputs];
            if is_kept[g] {
                mid_kernel.extend_from_slice(row);
            } else {
                let mean = pool_mean[2 * g + 1];
                mid_bias
                    .iter_mut()
                    .zip(row)
                    .for_each(|(b, v)| *b += v * mean);
            }
        }
    }
    out.insert(
        format!("{mid_conv}/kernel"),
        Variable {
            shape: vec![taps, keep_front.len(), 1, outputs],
            values: mid_kernel,
        },
    );
    out.insert(
        format!("{mid_conv}/bias"),
        Variable {
            shape: vec![outputs],
            values: mid_bias,
        },
    );

    // Pooled rows: the front's [max, mean] pairs of kept filters, then every mid-end row.
    let rows: Vec<usize> = keep_front
        .iter()
        .flat_map(|&g| [2 * g, 2 * g + 1])
        .chain(2 * front..pooled_width)
        .collect();
    for part in NORM_PARTS {
        let name = format!("{POOL_NORM}/{part}");
        out.insert(
            name.clone(),
            select_rows(w.get(&name, &[pooled_width])?, &rows),
        );
    }
    let embedding = w.shape(&format!("{DENSE}/bias"))?[0];
    let dense = w.get(&format!("{DENSE}/kernel"), &[pooled_width, embedding])?;
    let mut dense_bias = w
        .get(&format!("{DENSE}/bias"), &[embedding])?
        .values
        .clone();
    for g in (0..front).filter(|&g| !is_kept[g]) {
        for r in [2 * g, 2 * g + 1] {
            let row = &dense.values[r * embedding..(r + 1) * embedding];
            dense_bias
                .iter_mut()
                .zip(row)
                .for_each(|(b, v)| *b += v * pool_shift[r]);
        }
    }
    out.insert(format!("{DENSE}/kernel"), select_rows(dense, &rows));
    out.insert(
        format!("{DENSE}/bias"),
        Variable {
            shape: vec![embedding],
            values: dense_bias,
        },
    );
    Ok(out)
}

/// The entries `keep` of a variable's last dimension.
fn select_last(v: &Variable, keep: &[usize]) -> Variable {
    let last = *v.shape.last().expect("not a scalar");
    let values = v
        .values
        .chunks_exact(last)
        .flat_map(|chunk| keep.iter().map(|&i| chunk[i]))
        .collect();
    let mut shape = v.shape.clone();
    *shape.last_mut().expect("not a scalar") = keep.len();
    Variable { shape, values }
}

/// The rows `keep` of a variable's first dimension.
fn select_rows(v: &Variable, keep: &[usize]) -> Variable {
    let row: usize = v.shape[1..].iter().product();
    let values = keep
        .iter()
        .flat_map(|&r| v.values[r * row..(r + 1) * row].iter().copied())
        .collect();
    let mut shape = v.shape.clone();
    shape[0] = keep.len();
    Variable { shape, values }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tensor};

    use super::*;
    use crate::musicnn::graph::{EMBEDDING, FRAMES, MELS};
    use crate::musicnn::net::Trunk;
    use crate::musicnn::tests::synthetic_weights;

    #[test]
    fn keeping_every_filter_changes_nothing() {
        let weights = synthetic_weights(5);
        let same = narrowed(&weights, 100).unwrap();
        assert_same_embeddings(&weights, &same);
    }

    /// Both networks embed the same random patches alike.
    fn assert_same_embeddings(a: &Weights, b: &Weights) {
        let _device = crate::train::device_lock();
        let device = Device::flex();
        let x = Tensor::<3>::random([2, FRAMES, MELS], Distribution::Uniform(0.0, 3.0), &device);
        let a = Trunk::new(a, &device).unwrap().forward(x.clone());
        let b = Trunk::new(b, &device).unwrap().forward(x);
        a.into_data()
            .assert_approx_eq::<f32>(&b.into_data(), Default::default());
    }

    #[test]
    fn a_narrowed_network_keeps_its_share_of_filters_and_every_branch() {
        let weights = synthetic_weights(6);
        let narrow = narrowed(&weights, 25).unwrap();
        let widths = branch_widths(&narrow).unwrap();
        assert_eq!(widths.iter().sum::<usize>(), (561 * 25_usize).div_ceil(100));
        assert!(widths.iter().all(|&w| w >= 1), "{widths:?}");
        // 1 %: the 6 best filters, and the best of any branch they leave out.
        let tiny = branch_widths(&narrowed(&weights, 1).unwrap()).unwrap();
        let total: usize = tiny.iter().sum();
        assert!(
            tiny.iter().all(|&w| w >= 1) && (6..=10).contains(&total),
            "{tiny:?}"
        );
        let _device = crate::train::device_lock();
        let device = Device::flex();
        let x = Tensor::<3>::random([3, FRAMES, MELS], Distribution::Uniform(0.0, 3.0), &device);
        let out = Trunk::new(&narrow, &device).unwrap().forward(x);
        assert_eq!(out.dims(), [3, EMBEDDING]);
        let values = out.into_data().try_to_vec::<f32>().unwrap();
        assert!(values.iter().all(|v| v.is_finite()));
        assert!(narrowed(&weights, 0).is_err());
        assert!(narrowed(&weights, 101).is_err());
    }

    #[test]
    fn a_filter_that_never_fires_ranks_last_and_leaves_without_a_trace() {
        // A filter whose norm saw no variance outputs a constant: the norm's shift at every
        // step (zero moving mean and variance). With its pooled values as constant, it matters
        // least; with only the centre tap in the
        // mid-end kernel (so the edge padding plays no part) and the pooling norm's moving mean
        // equal to that shift, folding it into the biases is exact.
        let weights = synthetic_weights(7);
        let widths = branch_widths(&weights).unwrap();
        let front: usize = widths.iter().sum();
        let g = widths[0] + widths[1]; // the first temporal filter
        let spec = &FRONT[2];
        let mut changed = HashMap::new();
        let mut edit = |name: String, f: &dyn Fn(&mut Variable)| {
            let mut v = weights.variable(&name).unwrap().clone();
            f(&mut v);
            changed.insert(name, v);
        };
        // Dead: the convolution never passes the ReLU (bias far below zero, no weights).
        edit(format!("{}/kernel", spec.conv), &|v| {
            let n = v.shape[3];
            v.values.iter_mut().step_by(n).for_each(|x| *x = 0.0);
        });
        edit(format!("{}/bias", spec.conv), &|v| v.values[0] = -1.0);
        edit(format!("{}/moving_mean", spec.norm), &|v| v.values[0] = 0.0);
        edit(format!("{}/moving_variance", spec.norm), &|v| {
            v.values[0] = 0.0;
        });
        let shift = weights
            .get(&format!("{}/beta", spec.norm), &[widths[2]])
            .unwrap()
            .values[0];
        for part in ["moving_mean", "moving_variance"] {
            let value = if part == "moving_mean" { shift } else { 0.0 };
            edit(format!("{POOL_NORM}/{part}"), &|v| {
                v.values[2 * g] = value;
                v.values[2 * g + 1] = value;
            });
        }
        edit(format!("{}/kernel", MID[0].0), &|v| {
            let row = v.shape[1] * v.shape[3];
            for k in (0..v.shape[0]).filter(|&k| k != v.shape[0] / 2) {
                v.values[k * row..(k + 1) * row].fill(0.0);
            }
        });
        let weights = weights.with_replaced(changed);

        let scores = importance(&weights, &widths).unwrap();
        let branch = &scores[widths[0] + widths[1]..widths[0] + widths[1] + widths[2]];
        assert!(branch[1..].iter().all(|&s| s > branch[0]), "{branch:?}");

        let mut kept: Vec<Vec<usize>> = Vec::new();
        let mut offset = 0;
        for &width in &widths {
            kept.push((offset..offset + width).filter(|&i| i != g).collect());
            offset += width;
        }
        assert_eq!(kept.iter().map(Vec::len).sum::<usize>(), front - 1);
        let narrow = weights.with_replaced(removed(&weights, &widths, &kept).unwrap());
        assert_same_embeddings(&weights, &narrow);
    }

    #[test]
    fn the_multiply_adds_onnx_runtime_counts_are_those_of_the_narrower_layers() {
        // Front-end widths f: timbral 7×38 and 7×67 (59 and 30 frequency positions), temporal
        // 128, 64, 32 frames over 96 bands; mid-end 7-frame convolutions into 64; dense.
        let expected = |f: &[usize]| -> u64 {
            let front: usize = f.iter().sum();
            let counts = [
                f[0] * 187 * 59 * 7 * 38,
                f[1] * 187 * 30 * 7 * 67,
                (f[2] * 128 + f[3] * 64 + f[4] * 32) * 187 * 96,
                64 * 187 * 7 * (front + 2 * 64),
                2 * (front + 3 * 64) * EMBEDDING,
            ];
            counts.iter().map(|&c| c as u64).sum()
        };
        let weights = synthetic_weights(8);
        let narrow = narrowed(&weights, 25).unwrap();
        let runtime = crate::train::models::tests::test_runtime();
        let device = Device::flex();
        for (w, widths) in [
            (&weights, branch_widths(&weights).unwrap()),
            (&narrow, branch_widths(&narrow).unwrap()),
        ] {
            let mut g = crate::onnx::Graph::new();
            let out = Trunk::new(w, &device)
                .unwrap()
                .export(&mut g, "input")
                .unwrap();
            let onnx = crate::musicnn::graph::finish(g, &out, EMBEDDING, "trunk");
            let counted = crate::flops::multiply_adds(&runtime, &onnx, &[1, FRAMES, MELS]).unwrap();
            assert_eq!(counted, expected(&widths), "{widths:?}");
        }
        assert_eq!(branch_widths(&narrow).unwrap().iter().sum::<usize>(), 141);
    }
}
