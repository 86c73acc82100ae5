//! `cargo xtask musicnn transfer`: transfer learning with a frozen musicnn. Every patch of every
//! clip goes through the pre-trained network once (ONNX Runtime) to its 200-value penultimate
//! embedding; a new dense head is trained on those embeddings with the usual training loop;
//! the exported model is the frozen network, the embedding standardisation and the new head in
//! one ONNX graph that reads musicnn's input patches. [`frozen`] is also the first stage of
//! `finetune`.

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::Device;
use genrescope::decode::decode_mono_at;
use genrescope::features::config::standardise;
use genrescope::features::{FeatureConfig, Preset};
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{
    GenreModel, ModelInput, ModelMetadata, OutputKind, Provider, Runtime, WindowCutter,
};
use ndarray::{Array3, ArrayView3, Axis};
use serde_json::json;

use super::genre::{self, MusicnnGenre};
use super::graph::{self, EMBEDDING};
use super::net::Trunk;
use crate::data::args::{DataArgs, Selected};
use crate::data::dataset::Clip;
use crate::eval::clips::map_clips;
use crate::train::calibrate;
use crate::train::data::{feature_statistics, TrainingData};
use crate::train::fit::{fit, EpochLog, FitConfig, Fitted, Monitor};
use crate::train::models::{Family, Hyper, Net};
use crate::train::windows::{window_set, Targets};
use crate::weights::Weights;
use genrescope::inference::runtime::repository_dirs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, default_value = "musicnn-transfer")]
    pub name: String,
    #[command(flatten)]
    pub options: Options,
}

#[derive(clap::Args, Clone, Debug)]
pub struct Options {
    /// Exported weights of the pre-trained network (`tools/musicnn/export_weights.py`).
    #[arg(long, default_value = "cache/musicnn/MSD_musicnn")]
    pub weights: PathBuf,
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
        crate::clap_defaults()
    }
}

/// Metadata of a musicnn graph with `width` raw outputs per patch (no calibration applied),
/// cutting patches `hop_frames` apart: the embedding model, `genre-v2`'s probe and window graphs.
pub fn raw_metadata(name: &str, width: usize, hop_frames: usize) -> ModelMetadata {
    ModelMetadata {
        format: FORMAT_VERSION,
        name: name.into(),
        family: "musicnn".into(),
        labels: (0..width).map(|i| format!("v{i}")).collect(),
        input: ModelInput::Frames {
            features: FeatureConfig::preset(Preset::Musicnn),
            hop_frames,
        },
        output: OutputKind::Sigmoid, // raw values: no calibration applied
        calibration: Default::default(),
        context: None,
        training: json!({}),
        metrics: json!({}),
        licence: "internal".into(),
    }
}

/// Metadata of the embedding model (`graph::embedding_model`) cutting patches `hop_frames`
/// apart; its "probabilities" are the raw embeddings.
pub fn embedder_metadata(hop_frames: usize) -> ModelMetadata {
    raw_metadata("musicnn-embeddings", EMBEDDING, hop_frames)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let selected = args.data.select()?;
    transfer(&args.data, &selected, &args.name, &args.options).map(|_| ())
}

/// What the frozen stage leaves: the trained head, the embedding statistics it was trained
/// with, its history, and (when asked for) every clip's input patches.
pub struct Frozen {
    pub weights: Weights,
    /// The best epoch's head, on the training device.
    pub head: Net,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub hyper: Hyper,
    pub config: FitConfig,
    pub history: Vec<EpochLog>,
    pub best_epoch: usize,
    /// Standardised embeddings of the training and validation patches.
    pub data: TrainingData,
    /// Per clip (train and validation clips only): patches at the training and run hops.
    pub patches: Vec<Option<ClipPatches>>,
}

/// One clip's input patches `[n, 187, 96]`.
#[derive(Clone)]
pub struct ClipPatches {
    /// `hop_frames` apart (training).
    pub train: Array3<f32>,
    /// `run_hop_frames` apart (as the exported model runs).
    pub run: Array3<f32>,
}

/// Trains the head on `selected`'s split and writes `<out>/<name>.onnx`; returns its path.
pub fn transfer(
    data_args: &DataArgs,
    selected: &Selected,
    name: &str,
    args: &Options,
) -> anyhow::Result<PathBuf> {
    let frozen = frozen(data_args, selected, name, args, false)?;
    let classes = &selected.classes;
    let runtime = Runtime::find(&repository_dirs())?;
    let head = frozen.head.valid();

    // Calibration on the validation patches, through the head alone.
    let head_onnx = head.to_onnx(1, EMBEDDING, classes.len(), "head")?;
    let mut head_metadata = embedder_metadata(args.hop_frames);
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
    let valid = &frozen.data.valid;
    let windows = ArrayView3::from_shape((valid.len(), 1, EMBEDDING), &valid.x)?;
    let calibration = calibrate::fit(head_model.probabilities(windows)?.view(), &valid.y);

    // One graph: frozen network → standardisation → head → softmax.
    let model = MusicnnGenre {
        trunk: Trunk::new(&frozen.weights, &Device::flex())?
            .standardise_output(&frozen.mean, &frozen.std),
        head,
    };
    let onnx = model.to_onnx(
        classes.len(),
        "musicnn (MSD, frozen) with a genrescope genre head",
    )?;
    let best = &frozen.history[frozen.best_epoch - 1];
    let mut training = frozen.describe(data_args, selected, args);
    training["method"] = json!("frozen pre-trained musicnn (MSD) up to its 200-value penultimate layer; new dense head trained on standardised embeddings");
    let metadata = genre::metadata(
        name,
        "musicnn-transfer",
        classes,
        args.run_hop_frames,
        training,
    );
    genre::write(
        &args.out,
        &onnx,
        metadata,
        frozen.best_epoch,
        best,
        &calibration,
    )
}

/// The frozen stage: every training and validation patch through the pre-trained network
/// (ONNX Runtime) to its embedding, then a new head trained on the standardised embeddings.
/// With `keep_patches`, the input patches stay in memory for fine-tuning. Checkpoints go to
/// `<checkpoints>/<name>`.
pub fn frozen(
    data_args: &DataArgs,
    selected: &Selected,
    name: &str,
    args: &Options,
    keep_patches: bool,
) -> anyhow::Result<Frozen> {
    let weights = Weights::load(&args.weights)?;
    let embedder = embedder_metadata(args.hop_frames);
    let (embeddings, patches) = embed_split(selected, &weights, args, keep_patches)?;

    // The new head, trained on standardised embeddings.
    let classes = &selected.classes;
    let clips = &selected.data.clips;
    let cut = |indices: &[usize]| {
        window_set(
            clips,
            classes,
            indices,
            (1, EMBEDDING),
            &Targets::PRIMARY_LABEL,
            |i| embeddings[i].clone(),
        )
    };
    let mut train = cut(&selected.split.train)?;
    let mut valid = cut(&selected.split.valid)?;
    let (mean, std) = feature_statistics(&train);
    standardise(&mut train.x, &mean, &std);
    standardise(&mut valid.x, &mean, &std);
    println!(
        "{name}: {} classes, train {} clips / {} patches, valid {} clips / {} patches ({})",
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
        input: embedder.input.clone(),
        skipped: Vec::new(),
        augmenter: None,
    };
    let head = train_head(&data, classes.len(), data_args.seed, name, args)?;
    Ok(Frozen {
        weights,
        head: head.fitted.net,
        mean,
        std,
        hyper: head.hyper,
        config: head.config,
        history: head.fitted.history,
        best_epoch: head.fitted.best_epoch,
        data,
        patches,
    })
}

/// Each clip's patch embeddings, by clip index (`None` where the clip was not wanted or could
/// not be decoded).
type ClipEmbeddings = Vec<Option<Array3<f32>>>;

/// The training and validation clips of `selected` through the pre-trained network: each clip's
/// patch embeddings `[patches, 1, EMBEDDING]` and, with `keep_patches`, its input patches, by
/// clip index.
fn embed_split(
    selected: &Selected,
    weights: &Weights,
    args: &Options,
    keep_patches: bool,
) -> anyhow::Result<(ClipEmbeddings, Vec<Option<ClipPatches>>)> {
    let runtime = Runtime::find(&repository_dirs())?;
    let embedder = embedder_metadata(args.hop_frames);
    let run_input = embedder_metadata(args.run_hop_frames).input;
    let embedder_onnx = graph::embedding_model(weights)?;
    let clips = &selected.data.clips;
    let wanted: Vec<usize> = selected
        .split
        .train
        .iter()
        .chain(&selected.split.valid)
        .copied()
        .collect();
    let wanted_clips: Vec<Clip> = wanted.iter().map(|&i| clips[i].clone()).collect();
    type Embedded = (Array3<f32>, Option<ClipPatches>);
    let embedded = map_clips(
        &wanted_clips,
        None,
        "musicnn embeddings",
        || -> anyhow::Result<_> {
            let model =
                GenreModel::from_memory(&runtime, &embedder_onnx, embedder.clone(), Provider::Cpu)?;
            let cutters = (
                WindowCutter::new(&embedder.input)?,
                WindowCutter::new(&run_input)?,
            );
            Ok((model, cutters))
        },
        |(model, (cutter, run_cutter)), clip| -> anyhow::Result<Option<Embedded>> {
            match decode_mono_at(&clip.path, 16_000) {
                Ok(audio) => {
                    let patches = cutter.windows(&audio.samples);
                    if patches.dim().0 == 0 {
                        return Ok(None);
                    }
                    let e = model.probabilities(patches.view())?.insert_axis(Axis(1));
                    let kept = keep_patches.then(|| ClipPatches {
                        run: run_cutter.windows(&audio.samples),
                        train: patches,
                    });
                    Ok(Some((e, kept)))
                }
                Err(e) => {
                    println!("skipped {}: {}", clip.path.display(), e.reason());
                    Ok(None)
                }
            }
        },
    )?;
    let mut embeddings: ClipEmbeddings = vec![None; clips.len()];
    let mut patches: Vec<Option<ClipPatches>> = vec![None; clips.len()];
    for (&index, result) in wanted.iter().zip(embedded) {
        if let Some((e, kept)) = result? {
            embeddings[index] = Some(e);
            patches[index] = kept;
        }
    }
    Ok((embeddings, patches))
}

/// A head fitted on the embeddings, with the settings it was fitted with.
struct Head {
    fitted: Fitted<Net>,
    hyper: Hyper,
    config: FitConfig,
}

/// The new head: an MLP on the standardised embeddings, early-stopped on clip macro-F1.
fn train_head(
    data: &TrainingData,
    classes: usize,
    seed: u64,
    name: &str,
    args: &Options,
) -> anyhow::Result<Head> {
    let hyper = Hyper {
        dense: args.dense.clone(),
        dropout: args.dropout,
        ..Hyper::default_for(Family::DescriptorMlp)
    };
    let device = Device::flex().autodiff();
    device.seed(seed);
    let net = Net::new(
        Family::DescriptorMlp,
        &hyper,
        1,
        EMBEDDING,
        classes,
        &device,
    )?;
    let config = FitConfig {
        max_epochs: args.epochs,
        batch_size: 32,
        learning_rate: args.learning_rate,
        patience: args.patience,
        lr_patience: 2,
        seed,
        class_weights: true,
        monitor: Monitor::MacroF1,
        augment: Vec::new(),
        windows_per_clip: None,
    };
    let fitted = fit(
        net,
        data,
        classes,
        &config,
        &device,
        &args.checkpoints.join(name),
        false,
    )?;
    Ok(Head {
        fitted,
        hyper,
        config,
    })
}

impl Frozen {
    /// The frozen stage's record for a model's `training` metadata.
    pub fn describe(
        &self,
        data_args: &DataArgs,
        selected: &Selected,
        args: &Options,
    ) -> serde_json::Value {
        self.data.record(
            data_args,
            selected,
            json!({
                "pretrained": self.weights.dir.display().to_string(),
                "train_hop_frames": args.hop_frames,
                "fit": self.config,
                "hyper": self.hyper,
                "parameters": self.weights.parameters() + self.head.num_params(),
                "head_parameters": self.head.num_params(),
                "best_epoch": self.best_epoch,
                "history": self.history,
            }),
        )
    }
}
