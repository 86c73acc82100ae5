//! `cargo xtask musicnn transfer`: transfer learning with a frozen musicnn. Every patch of every
//! clip goes through the pre-trained network once (ONNX Runtime) to its 200-value penultimate
//! embedding; a new dense head is trained on those embeddings with the usual training loop;
//! the exported model is the frozen network, the embedding standardisation and the new head in
//! one ONNX graph that reads musicnn's input patches.

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::Device;
use genrescope::decode::decode_mono_at;
use genrescope::features::config::standardise;
use genrescope::features::FeatureConfig;
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{
    GenreModel, ModelInput, ModelMetadata, OutputKind, Provider, Runtime, WindowCutter,
};
use ndarray::{Array3, ArrayView3, Axis};
use serde_json::json;

use super::graph::{self, EMBEDDING};
use super::weights::Weights;
use crate::data::args::{DataArgs, Selected};
use crate::data::dataset::Clip;
use crate::eval::clips::map_clips;
use crate::eval::runtime_dirs;
use crate::onnx::{layers, Graph};
use crate::train::calibrate;
use crate::train::data::{feature_statistics, window_set, TrainingData};
use crate::train::fit::{fit, FitConfig, Monitor};
use crate::train::models::{Family, Hyper, Net};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub options: Options,
}

#[derive(clap::Args, Clone, Debug)]
pub struct Options {
    /// Exported weights of the pre-trained network (`tools/musicnn/export_weights.py`).
    #[arg(long, default_value = "cache/musicnn/MSD_musicnn")]
    pub weights: PathBuf,
    #[arg(long, default_value = "musicnn-transfer")]
    pub name: String,
    #[arg(long, default_value = "models")]
    pub out: PathBuf,
    /// Frames between training patches (half-overlapping by default: twice the examples).
    #[arg(long, default_value_t = 93)]
    pub hop_frames: usize,
    /// Frames between patches when the exported model runs (plugin, `analyze`, `eval`): 187,
    /// musicnn's own non-overlapping patches, keeps live analysis near 1 % of a core (one
    /// ~30-ms inference per 3 s).
    #[arg(long, default_value_t = 187)]
    pub run_hop_frames: usize,
    /// Widths of the new head's hidden layers.
    #[arg(long, value_delimiter = ',', default_value = "128")]
    pub dense: Vec<usize>,
    #[arg(long, default_value_t = 0.5)]
    pub dropout: f64,
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f64,
    #[arg(long, default_value_t = 8)]
    pub patience: usize,
    #[arg(long, default_value = "checkpoints")]
    pub checkpoints: PathBuf,
}

impl Default for Options {
    /// The command line's defaults (so `train-all` trains exactly what `musicnn transfer` does).
    fn default() -> Self {
        use clap::{Args as _, FromArgMatches as _};
        let command = Options::augment_args(clap::Command::new("defaults"));
        Options::from_arg_matches(&command.get_matches_from(["defaults"]))
            .expect("every option has a default")
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let selected = args.data.select()?;
    transfer(&args.data, &selected, &args.options).map(|_| ())
}

/// Trains the head on `selected`'s split and writes `<out>/<name>.onnx`; returns its path.
pub fn transfer(
    data_args: &DataArgs,
    selected: &Selected,
    args: &Options,
) -> anyhow::Result<PathBuf> {
    let weights = Weights::load(&args.weights)?;
    let features = FeatureConfig::preset("musicnn").expect("a built-in preset");
    let input = ModelInput::Frames {
        features: features.clone(),
        hop_frames: args.hop_frames,
    };
    let run_input = ModelInput::Frames {
        features,
        hop_frames: args.run_hop_frames,
    };
    let runtime = Runtime::find(&runtime_dirs())?;

    // 1. Embeddings of every training and validation patch through the frozen network.
    let embedder = ModelMetadata {
        format: FORMAT_VERSION,
        name: "musicnn-embeddings".into(),
        family: "musicnn".into(),
        labels: (0..EMBEDDING).map(|i| format!("e{i}")).collect(),
        input: input.clone(),
        output: OutputKind::Sigmoid, // raw values: no calibration applied
        calibration: Default::default(),
        training: json!({}),
        metrics: json!({}),
        licence: "internal".into(),
    };
    let embedder_onnx = graph::embedding_model(&weights)?;
    let clips = &selected.data.clips;
    let wanted: Vec<usize> = selected
        .split
        .train
        .iter()
        .chain(&selected.split.valid)
        .copied()
        .collect();
    let wanted_clips: Vec<Clip> = wanted.iter().map(|&i| clips[i].clone()).collect();
    let embedded = map_clips(
        &wanted_clips,
        None,
        "musicnn embeddings",
        || -> anyhow::Result<_> {
            let model =
                GenreModel::from_memory(&runtime, &embedder_onnx, embedder.clone(), Provider::Cpu)?;
            Ok((model, WindowCutter::new(&embedder.input)?))
        },
        |(model, cutter), clip| -> anyhow::Result<Option<Array3<f32>>> {
            match decode_mono_at(&clip.path, 16_000) {
                Ok(audio) => {
                    let patches = cutter.windows(&audio.samples);
                    if patches.dim().0 == 0 {
                        return Ok(None);
                    }
                    let e = model.probabilities(patches.view())?;
                    Ok(Some(e.insert_axis(Axis(1))))
                }
                Err(e) => {
                    println!("skipped {}: {}", clip.path.display(), e.reason);
                    Ok(None)
                }
            }
        },
    )?;
    let mut embeddings: Vec<Option<Array3<f32>>> = vec![None; clips.len()];
    for (&index, embedding) in wanted.iter().zip(embedded) {
        embeddings[index] = embedding?;
    }

    // 2. The new head, trained on standardised embeddings.
    let classes = &selected.classes;
    let cut = |indices: &[usize]| {
        window_set(clips, classes, indices, (1, EMBEDDING), false, |i| {
            embeddings[i].clone()
        })
    };
    let mut train = cut(&selected.split.train)?;
    let mut valid = cut(&selected.split.valid)?;
    let (mean, std) = feature_statistics(&train);
    standardise(&mut train.x, &mean, &std);
    standardise(&mut valid.x, &mean, &std);
    println!(
        "{}: {} classes, train {} clips / {} patches, valid {} clips / {} patches ({})",
        args.name,
        classes.len(),
        train.clips.len(),
        train.len(),
        valid.clips.len(),
        valid.len(),
        selected.description
    );
    let data = TrainingData {
        train,
        valid,
        input: input.clone(),
        skipped: Vec::new(),
        augmenter: None,
    };
    let hyper = Hyper {
        dense: args.dense.clone(),
        dropout: args.dropout,
        ..Hyper::default_for(Family::DescriptorMlp)
    };
    let device = Device::flex().autodiff();
    device.seed(data_args.seed);
    let net = Net::new(
        Family::DescriptorMlp,
        &hyper,
        1,
        EMBEDDING,
        classes.len(),
        &device,
    )?;
    let head_parameters = net.num_params();
    let config = FitConfig {
        max_epochs: args.epochs,
        batch_size: 32,
        learning_rate: args.learning_rate,
        patience: args.patience,
        lr_patience: 2,
        seed: data_args.seed,
        class_weights: true,
        monitor: Monitor::MacroF1,
        augment: Vec::new(),
    };
    let fitted = fit(
        net,
        &data,
        classes.len(),
        &config,
        &device,
        &args.checkpoints.join(&args.name),
        false,
    )?;
    let head = fitted.net.valid();
    let best = &fitted.history[fitted.best_epoch - 1];

    // 3. Calibration on the validation patches, through the head alone.
    let head_onnx = head.to_onnx(1, EMBEDDING, classes.len(), "head")?;
    let mut head_metadata = embedder.clone();
    head_metadata.labels = classes.clone();
    head_metadata.input = ModelInput::Descriptors {
        sample_rate: 16_000,
        window_seconds: 3.0,
        hop_seconds: 3.0,
        mean: vec![0.0; EMBEDDING],
        std: vec![1.0; EMBEDDING],
    };
    head_metadata.output = OutputKind::Softmax;
    let mut head_model =
        GenreModel::from_memory(&runtime, &head_onnx, head_metadata, Provider::Cpu)?;
    let windows = ArrayView3::from_shape((data.valid.len(), 1, EMBEDDING), &data.valid.x)?;
    let calibration = calibrate::fit(head_model.probabilities(windows)?.view(), &data.valid.y);

    // 4. One graph: frozen network → standardisation → head → softmax.
    let mut g = Graph::new();
    let embedding = graph::trunk(&mut g, &weights, "input")?;
    let mean_value = g.float("embedding_mean", &[EMBEDDING], &mean);
    let std_value = g.float("embedding_std", &[EMBEDDING], &std);
    let centred = g.node("Sub", &[&embedding, &mean_value], vec![]);
    let scaled = g.node("Div", &[&centred, &std_value], vec![]);
    let logits = head.export_logits(&mut g, &scaled)?;
    let probabilities = layers::softmax(&mut g, &logits);
    let onnx = graph::finish(
        g,
        &probabilities,
        classes.len(),
        "musicnn (MSD, frozen) with a genrescope genre head",
    );
    let metadata = ModelMetadata {
        format: FORMAT_VERSION,
        name: args.name.clone(),
        family: "musicnn-transfer".into(),
        labels: classes.clone(),
        input: run_input,
        output: OutputKind::Softmax,
        calibration: genrescope::inference::Calibration {
            temperature: calibration.temperature,
        },
        training: json!({
            "method": "frozen pre-trained musicnn (MSD) up to its 200-value penultimate layer; new dense head trained on standardised embeddings",
            "pretrained": weights.dir.display().to_string(),
            "data": data_args.source.display().to_string(),
            "classes": classes,
            "split": selected.description,
            "train_clips": data.train.clips.len(),
            "train_windows": data.train.len(),
            "train_hop_frames": args.hop_frames,
            "valid_clips": data.valid.clips.len(),
            "valid_windows": data.valid.len(),
            "fit": config,
            "hyper": hyper,
            "parameters": weights.parameters() + head_parameters,
            "head_parameters": head_parameters,
            "best_epoch": fitted.best_epoch,
            "history": fitted.history,
        }),
        metrics: {
            let mut metrics = best.validation_metrics();
            metrics["calibration"] = calibration.to_metrics();
            metrics
        },
        licence: "Network: musicnn 0.1.0 (ISC, Copyright (c) 2019 Music Technology Group, UPF; \
                  see models/LICENCE-musicnn.md), trained by its author on the Million Song \
                  Dataset. Head: trained by genrescope's xtask on ../shared/music clips, which \
                  are for research and evaluation use."
            .into(),
    };
    metadata
        .validate()
        .map_err(|e| anyhow::anyhow!("metadata: {e}"))?;
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join(format!("{}.onnx", args.name));
    crate::train::write_model(&path, &onnx, &metadata)?;
    println!(
        "wrote {} (best epoch {}: valid clip acc {:.3}, macro-F1 {:.3}; T {:.2}, ECE {:.3} → {:.3})",
        path.display(),
        fitted.best_epoch,
        best.valid_clip_accuracy,
        best.valid_clip_macro_f1,
        calibration.temperature,
        calibration.ece_before,
        calibration.ece_after
    );
    Ok(path)
}
