//! `cargo xtask musicnn finetune`: transfer learning in two stages. The frozen stage
//! (`transfer::frozen`) trains a head on the pre-trained network's embeddings; then the whole
//! network and the head train together on the input patches at a lower learning rate. Batch
//! norms keep musicnn's statistics (`net.rs`) while their scales and shifts train.
//!
//! On a CPU one patch costs ~0.3 s forward and backward, so each epoch trains on
//! `--patches-per-clip` patches of every training clip, drawn anew each epoch.

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::Device;
use genrescope::inference::{GenreModel, Provider, Runtime};
use ndarray::ArrayView3;
use serde_json::json;

use super::genre::{self, MusicnnGenre};
use super::graph::{FRAMES, MELS};
use super::net::Trunk;
use super::transfer::{self, ClipPatches, Frozen};
use crate::data::args::{DataArgs, Selected};
use crate::train::data::TrainingData;
use crate::train::fit::{evaluate, fit, FitConfig, Monitor};
use crate::train::windows::{window_set, Targets, WindowSet};
use crate::train::{calibrate, Backend};
use genrescope::inference::runtime::repository_dirs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, default_value = "musicnn-finetune")]
    pub name: String,
    #[command(flatten)]
    pub options: transfer::Options,
    #[command(flatten)]
    pub tune: Tune,
}

/// The second stage's settings.
#[derive(clap::Args, Clone, Debug)]
pub struct Tune {
    #[arg(long, default_value_t = 6)]
    pub tune_epochs: usize,
    /// Adam's rate for the whole network (the frozen stage's head used `--learning-rate`).
    #[arg(long, default_value_t = 1e-5)]
    pub tune_learning_rate: f64,
    /// Training patches per clip and epoch, drawn from all of the clip's patches.
    #[arg(long, default_value_t = 2)]
    pub patches_per_clip: usize,
    #[arg(long, default_value_t = 16)]
    pub tune_batch_size: usize,
    #[arg(long, default_value_t = 3)]
    pub tune_patience: usize,
    /// Continue the second stage from its checkpoint (the frozen stage is retrained).
    #[arg(long)]
    pub resume: bool,
    /// Where the second stage trains (the frozen stage's embeddings run on ONNX Runtime's CPU).
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: Backend,
}

impl Default for Tune {
    /// The command line's defaults.
    fn default() -> Self {
        crate::clap_defaults()
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let selected = args.data.select()?;
    finetune(&args.data, &selected, &args.name, &args.options, &args.tune).map(|_| ())
}

/// Both stages on `selected`'s split; writes `<out>/<name>.onnx` and returns its path.
pub fn finetune(
    data_args: &DataArgs,
    selected: &Selected,
    name: &str,
    options: &transfer::Options,
    tune: &Tune,
) -> anyhow::Result<PathBuf> {
    let mut frozen = transfer::frozen(data_args, selected, &format!("{name}-head"), options, true)?;
    let classes = &selected.classes;
    let data = patch_windows(selected, &mut frozen, options)?;
    println!(
        "{name}: fine-tuning on train {} clips / {} patches ({} per clip and epoch), valid {} clips / {} patches",
        data.train.clips.len(),
        data.train.len(),
        tune.patches_per_clip,
        data.valid.clips.len(),
        data.valid.len(),
    );

    let device = tune.backend.device()?.autodiff();
    device.seed(data_args.seed);
    let model = MusicnnGenre {
        trunk: Trunk::new(&frozen.weights, &device)?.standardise_output(&frozen.mean, &frozen.std),
        head: frozen.head.clone(),
    };
    let config = fit_config(tune, data_args.seed);
    let before = before_tuning(&model, &data.valid, classes.len(), &device, &config);
    println!("{name}: before fine-tuning {before}");
    let fitted = fit(
        model,
        &data,
        classes.len(),
        &config,
        &device,
        &options.checkpoints.join(name),
        tune.resume,
    )?;
    let model = fitted.net.valid();
    let best = &fitted.history[fitted.best_epoch - 1];

    let onnx = model.to_onnx(
        classes.len(),
        "musicnn (MSD) fine-tuned with a genre head by genrescope",
    )?;
    let calibration = calibration(name, classes, options, &onnx, &data.valid)?;

    let parameters = frozen.weights.parameters() + frozen.head.num_params();
    let metadata = genre::metadata(
        name,
        "musicnn-finetune",
        classes,
        options.run_hop_frames,
        data.record(data_args, selected, json!({
            "method": "pre-trained musicnn (MSD): a dense head trained on the frozen network's standardised embeddings, then the whole network and head fine-tuned together at a lower rate (batch-norm statistics kept)",
            "frozen_stage": frozen.describe(data_args, selected, options),
            "fit": config,
            "backend": format!("{:?}", tune.backend).to_lowercase(),
            "parameters": parameters,
            "before_fine_tuning": before,
            "best_epoch": fitted.best_epoch,
            "history": fitted.history,
        })),
    );
    genre::write(
        &options.out,
        &onnx,
        metadata,
        fitted.best_epoch,
        best,
        &calibration,
    )
}

/// The patches the frozen stage kept for each clip, as fine-tuning's training windows (its
/// training patches) and validation windows (its run patches).
fn patch_windows(
    selected: &Selected,
    frozen: &mut Frozen,
    options: &transfer::Options,
) -> anyhow::Result<TrainingData> {
    let (classes, clips) = (&selected.classes, &selected.data.clips);
    let patches = std::mem::take(&mut frozen.patches);
    let cut = |indices: &[usize], pick: fn(&ClipPatches) -> &ndarray::Array3<f32>| {
        window_set(
            clips,
            classes,
            indices,
            (FRAMES, MELS),
            &Targets::PRIMARY_LABEL,
            |i| patches[i].as_ref().map(|p| pick(p).clone()),
        )
    };
    Ok(TrainingData {
        train: cut(&selected.split.train, |p| &p.train)?,
        valid: cut(&selected.split.valid, |p| &p.run)?,
        input: transfer::embedder_metadata(options.run_hop_frames).input,
        skipped: Vec::new(),
        augmenter: None,
    })
}

/// How the whole network and head are fine-tuned.
fn fit_config(tune: &Tune, seed: u64) -> FitConfig {
    FitConfig {
        max_epochs: tune.tune_epochs,
        batch_size: tune.tune_batch_size,
        learning_rate: tune.tune_learning_rate,
        patience: tune.tune_patience,
        lr_patience: 1,
        seed,
        class_weights: true,
        monitor: Monitor::MacroF1,
        augment: Vec::new(),
        windows_per_clip: Some(tune.patches_per_clip),
    }
}

/// The frozen stage's model on the same validation patches: what fine-tuning must beat.
fn before_tuning(
    model: &MusicnnGenre,
    valid: &WindowSet,
    classes: usize,
    device: &Device,
    config: &FitConfig,
) -> serde_json::Value {
    let before = evaluate(model, valid, classes, device, config.batch_size);
    json!({
        "valid_clip_accuracy": before.confusion.accuracy(),
        "valid_clip_macro_f1": before.confusion.macro_f1(),
        "valid_window_accuracy": before.window_accuracy,
        "valid_loss": before.loss,
    })
}

/// The exported graph's temperature, fitted on its own validation outputs through ONNX
/// Runtime.
fn calibration(
    name: &str,
    classes: &[String],
    options: &transfer::Options,
    onnx: &[u8],
    valid: &WindowSet,
) -> anyhow::Result<calibrate::Fitted> {
    let runtime = Runtime::find(&repository_dirs())?;
    let uncalibrated = genre::metadata(
        name,
        "musicnn-finetune",
        classes,
        options.run_hop_frames,
        json!({}),
    );
    let mut ort = GenreModel::from_memory(&runtime, onnx, uncalibrated, Provider::Cpu)?;
    let windows = ArrayView3::from_shape((valid.len(), FRAMES, MELS), &valid.x)?;
    Ok(calibrate::fit(ort.probabilities(windows)?.view(), &valid.y))
}
