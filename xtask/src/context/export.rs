//! The chosen candidate as a pooled model: the window graph (each network's trunk → the chosen
//! layer, plus the tag probabilities of the first network), the head graph, and metadata that
//! records the corpus, the folds and the whole cross-validation table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use genrescope::genres::{LabelKind, Vocabulary};
use genrescope::inference::context::{Companion, Pool, PooledContext, WindowHead};
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{
    Calibration, GenreModel, ModelInput, ModelMetadata, OutputKind, Provider, Runtime,
};
use ndarray::{Array2, ArrayView2, Axis};
use serde::Serialize;
use serde_json::json;

use super::corpus::Corpus;
use super::cv::{self, Settings};
use super::head::{self, Head};
use super::summary::{summary, Exploration};
use super::windows::{self, Layer, Network};
use super::Args;
use crate::efficientat;
use crate::metrics::mean_std;
use crate::musicnn::graph::{EMBEDDING, TAGS};
use crate::onnx::{layers, Graph};
use crate::train::calibrate;
use genrescope::inference::runtime::repository_dirs;

/// Calibration of the chosen candidate: a temperature fitted on its out-of-fold answers for
/// single-genre clips (NLL), judged out of fold (each fold calibrated by a temperature fitted
/// on the other folds), and kept only where that lowers the 15-bin ECE of the answers as they
/// are.
#[derive(Debug, Clone, Serialize)]
pub struct Fitted {
    /// The temperature the model ships: [`Self::nll_temperature`] where it is kept, else 1.
    pub temperature: f32,
    /// Whether the NLL temperature lowered the ECE out of fold, and so is shipped.
    pub kept: bool,
    /// The temperature that minimises the NLL of every out-of-fold answer.
    pub nll_temperature: f32,
    /// ECE of the out-of-fold answers as they are.
    pub ece_before: f64,
    /// Cross-fitted ECE with the NLL temperature, over every single-genre clip.
    pub ece_after: f64,
    /// The same per fold (about 100 clips each: noisier), mean and std.
    pub ece_fold_mean: f64,
    pub ece_fold_std: f64,
    /// What a perfectly calibrated model with the shipped confidences (cross-fitted where the
    /// temperature is kept) would show on the same clips (`calibrate::ece_floor`), mean and
    /// std: no ECE can be read below it.
    pub ece_floor: (f64, f64),
}

/// Draws of labels for the ECE floor, and their seed.
const FLOOR_DRAWS: usize = 1000;
const FLOOR_SEED: u64 = 0;

/// The out-of-fold answers of the single-genre clips (one row each), their genres and folds.
fn single_clips(corpus: &Corpus, result: &cv::Result) -> (Array2<f32>, Vec<usize>, Vec<usize>) {
    let picked: Vec<usize> = (0..corpus.clips.len())
        .filter(|&c| corpus.clips[c].kind == LabelKind::Single)
        .collect();
    let classes = corpus.classes.len();
    let values: Vec<f32> = picked
        .iter()
        .flat_map(|&c| result.out_of_fold[c].clone())
        .collect();
    (
        Array2::from_shape_vec((picked.len(), classes), values).expect("one row per clip"),
        picked.iter().map(|&c| corpus.clips[c].genres[0]).collect(),
        picked.iter().map(|&c| corpus.folds[c]).collect(),
    )
}

pub fn calibration(corpus: &Corpus, result: &cv::Result) -> Fitted {
    let (p, labels, folds) = single_clips(corpus, result);
    fit_out_of_fold(p.view(), &labels, &folds, corpus.k)
}

/// [`calibration`] of out-of-fold answers `p` (one row per clip), their labels and folds.
fn fit_out_of_fold(p: ArrayView2<f32>, labels: &[usize], folds: &[usize], k: usize) -> Fitted {
    let all = calibrate::fit(p, labels);
    let rows = |keep: &dyn Fn(usize) -> bool| {
        let picked: Vec<usize> = (0..labels.len()).filter(|&c| keep(folds[c])).collect();
        let y: Vec<usize> = picked.iter().map(|&c| labels[c]).collect();
        (p.select(Axis(0), &picked), y)
    };
    // Every fold calibrated by the temperature of the other folds, then one ECE over all clips
    // (15 bins over ~100 clips of one fold would mostly measure their sampling noise).
    let mut calibrated = Array2::zeros((0, p.ncols()));
    let (mut calibrated_labels, mut per_fold) = (Vec::new(), Vec::new());
    for fold in 0..k {
        let (fit_p, fit_y) = rows(&|f| f != fold);
        let t = calibrate::fit(fit_p.view(), &fit_y).temperature;
        let (fold_p, fold_y) = rows(&|f| f == fold);
        let fold_p = genrescope::inference::model::calibrate(fold_p, t);
        per_fold.push(calibrate::ece(fold_p.view(), &fold_y));
        calibrated
            .append(Axis(0), fold_p.view())
            .expect("rows of the same width");
        calibrated_labels.extend(fold_y);
    }
    let (ece_fold_mean, ece_fold_std) = mean_std(&per_fold);
    let ece_after = calibrate::ece(calibrated.view(), &calibrated_labels);
    // The NLL weighs a few confident mistakes heavily and can flatten answers that were already
    // as well calibrated as 15 bins over these clips can tell (Accurate: ECE 0.045 as they are,
    // 0.106 with its NLL temperature of 1.36).
    let kept = ece_after < all.ece_before;
    let shipped = if kept { calibrated.view() } else { p };
    Fitted {
        temperature: if kept { all.temperature } else { 1.0 },
        kept,
        nll_temperature: all.temperature,
        ece_before: all.ece_before,
        ece_after,
        ece_fold_mean,
        ece_fold_std,
        ece_floor: calibrate::ece_floor(shipped, FLOOR_DRAWS, FLOOR_SEED),
    }
}

/// The networks the exported window graph runs: the chosen candidate's, or with `--narrow`
/// their narrowed copies, checked on every window of the corpus.
#[derive(Debug, Serialize)]
pub struct Shipped {
    pub networks: Vec<Network>,
    /// Largest difference between a narrowed and a full network's value of the chosen layer,
    /// over every window of every clip (0 without narrowing).
    pub max_difference: f32,
    /// CPU time of one window through each shipped network and, where `--narrow` narrowed it,
    /// through its full original (one thread, ms), measured in this run.
    pub ms_per_window: Vec<(f64, Option<f64>)>,
}

impl Shipped {
    /// One sentence for the report.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .networks
            .iter()
            .zip(&self.ms_per_window)
            .map(|(n, &(ms, full_ms))| match full_ms {
                None if n.percent == 100 => format!(
                    "{} as trained by its author ({ms:.2} ms per window on one thread)",
                    n.name()
                ),
                None => format!(
                    "{} (keeping {} % of its front-end filters, `xtask/src/musicnn/narrow.rs`, \
                     and cross-validated as such), {ms:.2} ms per window on one thread",
                    n.name(),
                    n.percent
                ),
                Some(full_ms) => {
                    format!(
                        "{} (`--narrow {}`: the front-end filters that matter least taken out, \
                         `xtask/src/musicnn/narrow.rs`), {ms:.2} ms per window on one thread \
                         against {full_ms:.2} ms for the full network ({:.1}×); its values differ \
                         from the full network's by at most {:.1e} over every window of the \
                         corpus, so the cross-validation above holds for it",
                        n.name(),
                        n.percent,
                        full_ms / ms,
                        self.max_difference
                    )
                }
            })
            .collect();
        format!("{}.", parts.join("; "))
    }
}

/// What `args.narrow` makes of the chosen candidate's networks: every window of the corpus
/// through each narrowed network, compared with the full network's cached values. `ms` holds
/// the CPU time per window of every measured network, timed once by the caller.
pub fn shipped(
    args: &Args,
    spec: &cv::Candidate,
    probes: &BTreeMap<Network, Vec<Array2<f32>>>,
    ms: &BTreeMap<Network, f64>,
    corpus: &Corpus,
) -> anyhow::Result<Shipped> {
    let mut networks = Vec::new();
    let mut max_difference = 0.0_f32;
    let mut ms_per_window = Vec::new();
    for &full in &spec.networks {
        let full_ms = ms[&full];
        let Some(percent) = args
            .narrow
            .filter(|_| full.percent == 100 && full.is_musicnn())
        else {
            networks.push(full);
            ms_per_window.push((full_ms, None));
            continue;
        };
        let narrow = full.narrowed(percent);
        let rows = windows::probe_rows(
            narrow,
            false,
            &args.corpus.weights,
            &corpus.clips,
            &args.cache,
            args.threads,
        )?;
        for (a, b) in probes[&full].iter().zip(&rows) {
            let (a, b) = (
                a.slice(ndarray::s![.., spec.layer.range(full, a.ncols())]),
                b.slice(ndarray::s![.., spec.layer.range(narrow, b.ncols())]),
            );
            anyhow::ensure!(a.dim() == b.dim(), "{}: another layer width", narrow.name());
            let worst = a
                .iter()
                .zip(b)
                .fold(0.0_f32, |m, (x, y)| m.max((x - y).abs()));
            max_difference = max_difference.max(worst);
        }
        anyhow::ensure!(
            max_difference <= args.narrow_tolerance,
            "{} changes the {} values by up to {max_difference:e} (tolerance {:e}): keep more \
             filters (a larger --narrow)",
            narrow.name(),
            spec.layer.name(),
            args.narrow_tolerance
        );
        networks.push(narrow);
        ms_per_window.push((
            windows::window_ms(narrow, &args.corpus.weights)?,
            Some(full_ms),
        ));
    }
    Ok(Shipped {
        networks,
        max_difference,
        ms_per_window,
    })
}

/// The exported window graph and what its metadata says of it.
struct WindowGraph {
    onnx: Vec<u8>,
    /// Values per window before the tags: the chosen layers, side by side.
    values: usize,
    tags: Vec<String>,
    /// Weights of the networks (their tag layers included).
    parameters: usize,
}

/// One network's values in a window graph: the chosen layer and the tag probabilities.
struct NetworkValues {
    layer: String,
    layer_width: usize,
    tags: String,
    tag_names: Vec<String>,
    parameters: usize,
}

/// Appends `network` (reading `"input"`) to `g`.
fn network_values(
    g: &mut Graph,
    network: Network,
    layer: Layer,
    weights_root: &Path,
) -> anyhow::Result<NetworkValues> {
    let weights = network.weights(weights_root)?;
    let parameters = weights.parameters();
    if !network.is_musicnn() {
        let values = efficientat::net::export(g, &weights, "input")?;
        let tags = g.node("Sigmoid", &[&values.logits], vec![]);
        let (layer, layer_width) = match layer {
            Layer::PreDense => anyhow::bail!("mn04 has no pre-dense layer"),
            Layer::Penultimate => (values.embedding, efficientat::net::EMBEDDING),
            Layer::Tags => (tags.clone(), efficientat::net::CLASSES),
        };
        return Ok(NetworkValues {
            layer,
            layer_width,
            tags,
            tag_names: efficientat::class_names(&efficientat::network_dir())?,
            parameters,
        });
    }
    let (values, tags) = windows::exported_values(g, &weights, "input")?;
    let (layer, layer_width) = match layer {
        Layer::PreDense => (values.pooled, values.pooled_width),
        Layer::Penultimate => (values.embedding, EMBEDDING),
        Layer::Tags => (tags.clone(), TAGS),
    };
    let tag_names = serde_json::from_str(&std::fs::read_to_string(
        network.weights_dir(weights_root).join("tags.json"),
    )?)?;
    Ok(NetworkValues {
        layer,
        layer_width,
        tags,
        tag_names,
        parameters,
    })
}

/// The networks in window graphs by the input they read: runs of consecutive networks on the
/// same input (musicnn's patches, or mn04's windows), in order. The first is the model's own
/// window graph, the others its window head's companions.
fn by_input(networks: &[Network]) -> anyhow::Result<Vec<&[Network]>> {
    let runs: Vec<&[Network]> = networks
        .chunk_by(|a, b| a.is_musicnn() == b.is_musicnn())
        .collect();
    anyhow::ensure!(
        runs.len() <= 2,
        "{}: list the networks on each input together",
        windows::joined(networks)
    );
    Ok(runs)
}

/// The window graph: `[B, frames, bands]` (musicnn's patches, or mn04's windows) →
/// `[B, values + tags]`: the chosen layer of every network, side by side, then the first
/// network's tag probabilities. The networks share one input ([`by_input`]). A per-window head
/// is a graph of its own (the model's window head), so every model on the same networks and
/// layer ships the same window graph and can share its runs.
fn window_graph(
    networks: &[Network],
    layer: Layer,
    weights_root: &Path,
) -> anyhow::Result<WindowGraph> {
    let first = *networks
        .first()
        .ok_or_else(|| anyhow::anyhow!("no network"))?;
    let mut g = Graph::new();
    let mut values = Vec::new();
    for &network in networks {
        values.push(network_values(&mut g, network, layer, weights_root)?);
    }
    let mut parts: Vec<String> = values.iter().map(|v| v.layer.clone()).collect();
    let widths: usize = values.iter().map(|v| v.layer_width).sum();
    let parameters = values.iter().map(|v| v.parameters).sum::<usize>();
    let NetworkValues {
        tags, tag_names, ..
    } = values.swap_remove(0);
    parts.push(tags);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let row = layers::concat(&mut g, &parts, 1);
    let width = widths + tag_names.len();
    let ModelInput::Frames { features, .. } = windows::window_metadata(first, width).input else {
        unreachable!("window graphs read frames");
    };
    Ok(WindowGraph {
        onnx: g.finish(
            (
                "input",
                &[None, Some(features.frames), Some(features.feature_width())],
            ),
            (&row, &[None, Some(width)]),
            "probabilities",
            "genrescope pooled model: window graph",
        ),
        values: widths,
        tags: tag_names,
        parameters,
    })
}

/// The window graphs of a window head's companions (each a run of [`by_input`]), as files
/// `<name>.<networks>.onnx`, and how the metadata describes them.
fn companions(
    name: &str,
    inputs: &[&[Network]],
    layer: Layer,
    weights_root: &Path,
) -> anyhow::Result<Vec<(Companion, WindowGraph)>> {
    inputs
        .iter()
        .map(|networks| {
            let graph = window_graph(networks, layer, weights_root)?;
            let described = Companion {
                graph: format!("{name}.{}.onnx", windows::joined(networks)),
                input: windows::window_metadata(networks[0], 0).input,
                inputs: graph.values,
            };
            Ok((described, graph))
        })
        .collect()
}

/// The licence line of a model on `networks`: each network's, then the heads'.
fn licence(networks: &[Network]) -> String {
    let mut parts = Vec::new();
    if networks.iter().any(|n| n.is_musicnn()) {
        parts.push(
            "musicnn 0.1.0 (ISC, Copyright (c) 2019 Music Technology Group, UPF; see \
             models/LICENCE-musicnn.md), trained by its author (MSD: Million Song Dataset; MTT: \
             MagnaTagATune)",
        );
    }
    if networks.iter().any(|n| !n.is_musicnn()) {
        parts.push(
            "EfficientAT mn04_as (MIT, Copyright (c) 2022 Florian Schmid; see \
             models/LICENCE-efficientat.md), trained by its authors on AudioSet",
        );
    }
    format!(
        "Networks: {}. Heads: trained by genrescope's xtask on ../shared/music clips, which are \
         for research and evaluation use.",
        parts.join("; ")
    )
}

/// This run as the documented `cargo xtask` command (not the path of the binary that ran it),
/// arguments with spaces quoted: what a reader pastes to reproduce the model.
fn command_line() -> String {
    let args = std::env::args().skip(1).map(|a| {
        if a.contains(' ') {
            format!("\"{a}\"")
        } else {
            a
        }
    });
    std::iter::once("cargo xtask".to_owned())
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

#[allow(clippy::too_many_arguments)]
pub fn write(
    args: &Args,
    corpus: &Corpus,
    vocabulary: &Vocabulary,
    settings: &Settings,
    results: &[cv::Result],
    chosen: usize,
    head: &Head,
    weight_decay: f64,
    (calibration, shipped): (&Fitted, &Shipped),
    exploration: Option<&Exploration>,
) -> anyhow::Result<PathBuf> {
    let result = &results[chosen];
    let spec = &result.spec;
    let per_window = spec.pools.is_empty();
    let inputs = by_input(&shipped.networks)?;
    let window = window_graph(inputs[0], spec.layer, &args.corpus.weights)?;
    let companions = companions(&args.name, &inputs[1..], spec.layer, &args.corpus.weights)?;
    anyhow::ensure!(
        per_window || companions.is_empty(),
        "{}: a pooled head on networks of two inputs cannot ship (only a per-window head reads \
         companions)",
        result.candidate
    );
    let head_file = format!("{}.head.onnx", args.name);
    let doc = "genrescope pooled genre model: head";
    let classes = corpus.classes.len();
    let (head_onnx, pools, window_head) = if per_window {
        let file = format!("{}.window.onnx", args.name);
        let onnx = head.to_onnx(classes, "genrescope pooled genre model: window head");
        let described = WindowHead {
            file,
            inputs: window.values,
            with: companions.iter().map(|(c, _)| c.clone()).collect(),
        };
        let mean = head::mean_answer_onnx(classes, doc);
        (mean, vec![Pool::Mean], Some((described, onnx)))
    } else {
        (head.to_onnx(classes, doc), spec.pools.clone(), None)
    };
    let embedding = match &window_head {
        Some(_) => classes,
        None => window.values,
    };
    let parameters = window.parameters
        + companions.iter().map(|(_, g)| g.parameters).sum::<usize>()
        + if per_window { head.parameters() } else { 0 };
    let networks: Vec<String> = spec.networks.iter().map(|n| n.name()).collect();
    let cv_table: Vec<serde_json::Value> = results.iter().map(summary).collect();
    let metadata = ModelMetadata {
        format: FORMAT_VERSION,
        name: args.name.clone(),
        family: match inputs[..] {
            [own] if own[0].is_musicnn() => "musicnn-pooled",
            [_] => "efficientat-pooled",
            _ => "musicnn+efficientat-pooled",
        }
        .into(),
        labels: corpus.classes.clone(),
        input: windows::window_metadata(shipped.networks[0], 0).input,
        output: OutputKind::Softmax,
        calibration: Calibration {
            temperature: calibration.temperature,
        },
        context: Some(PooledContext {
            head: head_file.clone(),
            embedding,
            pools,
            windows: args.live_windows,
            tags: window.tags,
            window_head: window_head.as_ref().map(|(described, _)| described.clone()),
        }),
        training: json!({
            "command": command_line(),
            "data": args.corpus.data.display().to_string(),
            "vocabulary": { "file": args.corpus.vocabulary.display().to_string(), "version": vocabulary.version },
            "thresholds": { "single_genre_clips": args.corpus.min_single, "clips": args.corpus.min_clips },
            "clips": corpus.clips.len(),
            "left_out": corpus.dropped,
            "folds": { "k": corpus.k, "seed": args.corpus.seed, "grouping": "artist (clips without one: each its own group)" },
            "method": if per_window {
                format!(
                    "frozen pre-trained networks ({}); a {} head on their standardised {} layer answers each window (a window head of its own) (partial-label loss, weight decay {weight_decay:e} chosen inside the training folds); the context's answer is the mean of its windows' answers",
                    networks.join(" + "),
                    spec.classifier.name(),
                    spec.layer.name()
                )
            } else {
                format!(
                    "frozen pre-trained networks ({}); {} of their {} layer over the context's windows; {} head on standardised pooled statistics, partial-label loss, weight decay {weight_decay:e} (chosen inside the training folds)",
                    networks.join(" + "),
                    spec.pools.iter().map(|p| p.name()).collect::<Vec<_>>().join(", "),
                    spec.layer.name(),
                    spec.classifier.name()
                )
            },
            "settings": settings,
            "chosen": result.candidate,
            "shipped_networks": shipped,
            "parameters": parameters,
            "cross_validation": cv_table,
            "exploration": exploration,
        }),
        metrics: json!({
            "split": "5-fold artist-grouped cross-validation on the whole corpus (out-of-fold, whole clips)",
            "cv": summary(result),
            "calibration": calibration,
        }),
        licence: licence(&shipped.networks),
    };
    metadata
        .validate()
        .map_err(|e| anyhow::anyhow!("metadata: {e}"))?;
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join(format!("{}.onnx", args.name));
    std::fs::write(args.out.join(&head_file), &head_onnx)?;
    if let Some((described, onnx)) = &window_head {
        std::fs::write(args.out.join(&described.file), onnx)?;
    }
    for (described, graph) in &companions {
        std::fs::write(args.out.join(&described.graph), &graph.onnx)?;
    }
    crate::train::write_model(&path, &window.onnx, &metadata)?;
    // The written files load as the plugin loads them.
    let runtime = Runtime::find(&repository_dirs())?;
    GenreModel::load(&runtime, &path, Provider::Cpu)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` clips over three classes in five folds, each answer a softmax of random logits
    /// scaled by `sharpness`; labels drawn from the softmax at scale `truth`.
    fn answers(n: usize, sharpness: f32, truth: f32) -> (Array2<f32>, Vec<usize>, Vec<usize>) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let softmax = |z: &[f32], scale: f32| {
            let e: Vec<f32> = z.iter().map(|v| (v * scale).exp()).collect();
            let sum: f32 = e.iter().sum();
            e.into_iter().map(|v| v / sum).collect::<Vec<f32>>()
        };
        let (mut p, mut labels) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let z: Vec<f32> = (0..3).map(|_| rng.random_range(-2.0..2.0)).collect();
            let true_p = softmax(&z, truth);
            let u: f32 = rng.random();
            let label = if u < true_p[0] {
                0
            } else if u < true_p[0] + true_p[1] {
                1
            } else {
                2
            };
            p.extend(softmax(&z, sharpness));
            labels.push(label);
        }
        let folds = (0..n).map(|i| i % 5).collect();
        (Array2::from_shape_vec((n, 3), p).unwrap(), labels, folds)
    }

    /// Overconfident answers get a temperature above 1 that lowers their ECE out of fold.
    #[test]
    fn a_temperature_that_lowers_the_ece_out_of_fold_ships() {
        let (p, labels, folds) = answers(2000, 3.0, 1.0);
        let fitted = fit_out_of_fold(p.view(), &labels, &folds, 5);
        assert!(fitted.kept, "{fitted:?}");
        assert!(fitted.nll_temperature > 2.0, "{fitted:?}");
        assert_eq!(fitted.temperature, fitted.nll_temperature);
        assert!(fitted.ece_after < fitted.ece_before / 2.0, "{fitted:?}");
    }

    /// Calibrated answers with a few confident mistakes: the NLL's temperature flattens them
    /// and raises their ECE, so they ship as they are.
    #[test]
    fn a_temperature_that_raises_the_ece_out_of_fold_does_not_ship() {
        let (mut p, mut labels, folds) = answers(1000, 1.0, 1.0);
        for c in (0..1000).step_by(25) {
            let top = (labels[c] + 1) % 3;
            p.row_mut(c).fill(0.0005);
            p[[c, top]] = 0.999;
            labels[c] = (top + 1) % 3;
        }
        let fitted = fit_out_of_fold(p.view(), &labels, &folds, 5);
        assert!(!fitted.kept, "{fitted:?}");
        assert!(fitted.nll_temperature > 1.1, "{fitted:?}");
        assert_eq!(fitted.temperature, 1.0);
        assert!(fitted.ece_after > fitted.ece_before, "{fitted:?}");
    }

    /// Networks on one input make one window graph; musicnn's and mn04's make two, the second
    /// the model's companion; an input listed twice apart is an error.
    #[test]
    fn networks_group_into_one_window_graph_per_input() {
        let msd12 = Network::MSD.narrowed(12);
        let networks = [msd12, Network::MTT, Network::MN04];
        let runs = by_input(&networks).unwrap();
        assert_eq!(runs, vec![&[msd12, Network::MTT][..], &[Network::MN04][..]]);
        assert_eq!(by_input(&[Network::MN04]).unwrap().len(), 1);
        assert!(by_input(&[Network::MSD, Network::MN04, Network::MTT]).is_err());
    }

    #[test]
    fn the_report_says_what_ships_and_what_it_saves() {
        let shipped = Shipped {
            networks: vec![Network::MSD.narrowed(12), Network::MTT],
            max_difference: 5.2e-6,
            ms_per_window: vec![(4.0, Some(20.0)), (21.0, None)],
        };
        let text = shipped.describe();
        assert!(text.starts_with("msd@12 (`--narrow 12`"), "{text}");
        assert!(text.contains("(5.0×)") && text.contains("5.2e-6"), "{text}");
        assert!(text.ends_with("mtt as trained by its author (21.00 ms per window on one thread)."));
        // A network narrowed in `--networks` was cross-validated itself: nothing to compare.
        let chosen = Shipped {
            networks: vec![Network::MSD.narrowed(10)],
            max_difference: 0.0,
            ms_per_window: vec![(3.5, None)],
        };
        assert_eq!(
            chosen.describe(),
            "msd@10 (keeping 10 % of its front-end filters, `xtask/src/musicnn/narrow.rs`, and \
             cross-validated as such), 3.50 ms per window on one thread."
        );
    }
}
