//! The chosen candidate as a pooled model: the window graph (each network's trunk → the chosen
//! layer, plus the tag probabilities of the first network), the head graph, and metadata that
//! records the corpus, the folds and the whole cross-validation table.

use std::path::{Path, PathBuf};

use genrescope::genres::{LabelKind, Vocabulary};
use genrescope::inference::context::{Pool, PooledContext};
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{
    Calibration, GenreModel, ModelMetadata, OutputKind, Provider, Runtime,
};
use ndarray::Array2;
use serde::Serialize;
use serde_json::json;

use super::corpus::Corpus;
use super::cv::{self, Settings};
use super::head::{self, Head};
use super::windows::{self, Layer, Network};
use super::Args;
use crate::musicnn::graph::{self, EMBEDDING, TAGS};
use crate::onnx::{layers, Graph};
use crate::train::calibrate;
use genrescope::inference::runtime::repository_dirs;

/// Temperature of the chosen candidate, fitted on its out-of-fold answers for single-genre
/// clips; the ECE after calibration is cross-fitted (each fold calibrated by a temperature
/// fitted on the other folds).
#[derive(Debug, Clone, Serialize)]
pub struct Fitted {
    pub temperature: f32,
    pub ece_before: f64,
    /// Cross-fitted ECE over every single-genre clip.
    pub ece_after: f64,
    /// The same per fold (about 100 clips each: noisier), mean and std.
    pub ece_fold_mean: f64,
    pub ece_fold_std: f64,
}

fn single_clips(
    corpus: &Corpus,
    result: &cv::Result,
    keep: impl Fn(usize) -> bool,
) -> (Array2<f32>, Vec<usize>) {
    let picked: Vec<usize> = (0..corpus.clips.len())
        .filter(|&c| corpus.clips[c].kind == LabelKind::Single && keep(c))
        .collect();
    let classes = corpus.classes.len();
    let values: Vec<f32> = picked
        .iter()
        .flat_map(|&c| result.out_of_fold[c].clone())
        .collect();
    (
        Array2::from_shape_vec((picked.len(), classes), values).expect("one row per clip"),
        picked.iter().map(|&c| corpus.clips[c].genres[0]).collect(),
    )
}

pub fn calibration(corpus: &Corpus, result: &cv::Result) -> Fitted {
    let (p, y) = single_clips(corpus, result, |_| true);
    let all = calibrate::fit(p.view(), &y);
    // Every fold calibrated by the temperature of the other folds, then one ECE over all clips
    // (15 bins over ~100 clips of one fold would mostly measure their sampling noise).
    let (mut calibrated, mut labels) = (Vec::new(), Vec::new());
    let mut per_fold = Vec::new();
    for fold in 0..corpus.k {
        let (fit_p, fit_y) = single_clips(corpus, result, |c| corpus.folds[c] != fold);
        let t = calibrate::fit(fit_p.view(), &fit_y).temperature;
        let (p, y) = single_clips(corpus, result, |c| corpus.folds[c] == fold);
        let p = genrescope::inference::model::calibrate(p, t);
        per_fold.push(calibrate::ece(p.view(), &y));
        calibrated.extend(p.iter().copied());
        labels.extend(y);
    }
    let calibrated = Array2::from_shape_vec((labels.len(), corpus.classes.len()), calibrated)
        .expect("one row per clip");
    let (ece_fold_mean, ece_fold_std) = cv::mean_std(&per_fold);
    Fitted {
        temperature: all.temperature,
        ece_before: all.ece_before,
        ece_after: calibrate::ece(calibrated.view(), &labels),
        ece_fold_mean,
        ece_fold_std,
    }
}

/// The window graph: `[B, 187, 96]` → `[B, embedding + 50]`: the chosen layer of every network,
/// side by side (or, with a per-window head, that head's answer for the window), then the first
/// network's tag probabilities. Returns the graph, the embedding width and the tag names.
fn window_graph(
    networks: &[Network],
    layer: Layer,
    per_window: Option<&Head>,
    weights_root: &Path,
) -> anyhow::Result<(Vec<u8>, usize, Vec<String>)> {
    let mut g = Graph::new();
    let mut parts = Vec::new();
    let mut tags = None;
    let mut embedding = 0;
    for &network in networks {
        let dir = network.weights_dir(weights_root);
        let weights = network.weights(weights_root)?;
        let (values, tag_values) = windows::exported_values(&mut g, &weights, "input")?;
        embedding += match layer {
            Layer::PreDense => values.pooled_width,
            Layer::Penultimate => EMBEDDING,
            Layer::Tags => TAGS,
        };
        parts.push(match layer {
            Layer::PreDense => values.pooled,
            Layer::Penultimate => values.embedding,
            Layer::Tags => tag_values.clone(),
        });
        if tags.is_none() {
            let names: Vec<String> =
                serde_json::from_str(&std::fs::read_to_string(dir.join("tags.json"))?)?;
            tags = Some((tag_values, names));
        }
    }
    let (tag_values, names) = tags.ok_or_else(|| anyhow::anyhow!("no network"))?;
    if let Some(head) = per_window {
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let values = layers::concat(&mut g, &refs, 1);
        parts = vec![head.export(&mut g, &values)];
        embedding = head.classes();
    }
    parts.push(tag_values);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let row = layers::concat(&mut g, &parts, 1);
    let width = embedding + names.len();
    Ok((
        graph::finish(
            g,
            &row,
            width,
            "genrescope pooled genre model: window graph",
        ),
        embedding,
        names,
    ))
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
    calibration: &Fitted,
) -> anyhow::Result<PathBuf> {
    let result = &results[chosen];
    let spec = &result.spec;
    let per_window = spec.pools.is_empty();
    let (window_onnx, embedding, tags) = window_graph(
        &spec.networks,
        spec.layer,
        per_window.then_some(head),
        &args.corpus.weights,
    )?;
    let head_file = format!("{}.head.onnx", args.name);
    let doc = "genrescope pooled genre model: head";
    let (head_onnx, pools) = if per_window {
        (
            head::mean_answer_onnx(corpus.classes.len(), doc),
            vec![Pool::Mean],
        )
    } else {
        (head.to_onnx(corpus.classes.len(), doc), spec.pools.clone())
    };
    let networks: Vec<String> = spec.networks.iter().map(|n| n.name()).collect();
    let cv_table: Vec<serde_json::Value> = results.iter().map(super::report::summary).collect();
    let metadata = ModelMetadata {
        format: FORMAT_VERSION,
        name: args.name.clone(),
        family: "musicnn-pooled".into(),
        labels: corpus.classes.clone(),
        input: windows::window_metadata(0).input,
        output: OutputKind::Softmax,
        calibration: Calibration {
            temperature: calibration.temperature,
        },
        context: Some(PooledContext {
            head: head_file.clone(),
            embedding,
            pools,
            windows: args.live_windows,
            tags,
        }),
        training: json!({
            "command": std::env::args().collect::<Vec<_>>().join(" "),
            "data": args.corpus.data.display().to_string(),
            "vocabulary": { "file": args.corpus.vocabulary.display().to_string(), "version": vocabulary.version },
            "thresholds": { "single_genre_clips": args.corpus.min_single, "clips": args.corpus.min_clips },
            "clips": corpus.clips.len(),
            "left_out": corpus.dropped,
            "folds": { "k": corpus.k, "seed": args.corpus.seed, "grouping": "artist (clips without one: each its own group)" },
            "method": if per_window {
                format!(
                    "frozen pre-trained musicnn ({}); a {} head on its standardised {} layer answers each window (partial-label loss, weight decay {weight_decay:e} chosen inside the training folds); the context's answer is the mean of its windows' answers",
                    networks.join(" + "),
                    spec.classifier.name(),
                    spec.layer.name()
                )
            } else {
                format!(
                    "frozen pre-trained musicnn ({}); {} of its {} layer over the context's windows; {} head on standardised pooled statistics, partial-label loss, weight decay {weight_decay:e} (chosen inside the training folds)",
                    networks.join(" + "),
                    spec.pools.iter().map(|p| p.name()).collect::<Vec<_>>().join(", "),
                    spec.layer.name(),
                    spec.classifier.name()
                )
            },
            "settings": settings,
            "chosen": result.candidate,
            "cross_validation": cv_table,
        }),
        metrics: json!({
            "split": "5-fold artist-grouped cross-validation on the whole corpus (out-of-fold, whole clips)",
            "cv": super::report::summary(result),
            "calibration": calibration,
        }),
        licence: "Networks: musicnn 0.1.0 (ISC, Copyright (c) 2019 Music Technology Group, UPF; \
                  see models/LICENCE-musicnn.md), trained by its author (MSD: Million Song \
                  Dataset; MTT: MagnaTagATune). Head: trained by genrescope's xtask on \
                  ../shared/music clips, which are for research and evaluation use."
            .into(),
    };
    metadata
        .validate()
        .map_err(|e| anyhow::anyhow!("metadata: {e}"))?;
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join(format!("{}.onnx", args.name));
    std::fs::write(args.out.join(&head_file), &head_onnx)?;
    crate::train::write_model(&path, &window_onnx, &metadata)?;
    // The written files load as the plugin loads them.
    let runtime = Runtime::find(&repository_dirs())?;
    GenreModel::load(&runtime, &path, Provider::Cpu)?;
    Ok(path)
}
