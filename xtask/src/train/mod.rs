//! `cargo xtask train`: labelled audio → a trained burn model → `models/<name>.onnx` plus its
//! metadata JSON, loadable unchanged by the plugin, `analyze` and `eval`.

pub mod all;
pub mod augment;
pub mod calibrate;
pub mod data;
pub mod fit;
pub mod models;
pub mod study;
pub mod windows;

use genrescope::inference::runtime::repository_dirs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use genrescope::features::descriptors::SUMMARY_LEN;
use genrescope::features::{FeatureConfig, Preset};
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{GenreModel, ModelInput, ModelMetadata, Provider, Runtime};
use serde_json::json;

use crate::data::args::{DataArgs, Selected};
use crate::features::load_config;
use fit::{fit, FitConfig, Monitor};
use models::{Family, Hyper, Net};
use windows::Targets;

/// Where training runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// burn's pure-Rust CPU backend (`flex`).
    Cpu,
    /// NVIDIA GPU through CUDA (build xtask with `--features cuda`).
    Cuda,
    /// Any GPU through wgpu (build xtask with `--features wgpu`).
    Wgpu,
}

impl Backend {
    /// The plain (inference) device; training uses its `autodiff()` variant.
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Backend::Cpu => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0)),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::default())),
            #[allow(unreachable_patterns)]
            other => anyhow::bail!(
                "xtask was built without the `{}` feature: run the command as \
                 `cargo run -p xtask --release --features {0} -- <command> ...`",
                format!("{other:?}").to_lowercase()
            ),
        }
    }
}

/// Training options shared by `train` and `train-all`.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainOptions {
    /// Feature preset or config file for frame models (default: the family's preset).
    #[arg(long)]
    pub features: Option<String>,
    /// Seconds between the starts of consecutive windows (default: half a window for frame
    /// models, a whole window for descriptors).
    #[arg(long)]
    pub hop: Option<f32>,
    /// Descriptor window length in seconds (descriptor MLP).
    #[arg(long, default_value_t = 3.0)]
    pub descriptor_window: f32,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f64,
    /// Early stopping: epochs without a better monitored figure.
    #[arg(long, default_value_t = 6)]
    pub patience: usize,
    /// The validation figure for early stopping, the learning-rate schedule and the kept epoch.
    #[arg(long, value_enum, default_value = "loss")]
    pub monitor: Monitor,
    /// Halve the learning rate after this many epochs without improvement.
    #[arg(long, default_value_t = 2)]
    pub lr_patience: usize,
    /// Do not weight the loss by inverse class frequency.
    #[arg(long)]
    pub no_class_weights: bool,
    /// Train multi-genre clips against all their known labels (an even target distribution)
    /// instead of the primary label only.
    #[arg(long)]
    pub multi_label: bool,
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: Backend,
    /// Output folder for `<name>.onnx` and `<name>.json`.
    #[arg(long, default_value = "models")]
    pub out: PathBuf,
    /// Feature cache folder (git-ignored).
    #[arg(long, default_value = "cache/features")]
    pub cache: PathBuf,
    /// Checkpoint folder (git-ignored); one sub-folder per model name.
    #[arg(long, default_value = "checkpoints")]
    pub checkpoints: PathBuf,
    /// Continue an interrupted run from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Override the conv channels, e.g. `32,64,64`.
    #[arg(long, value_delimiter = ',')]
    pub channels: Option<Vec<usize>>,
    /// Override the LSTM hidden units.
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Override the dense widths, e.g. `256,128,64`.
    #[arg(long, value_delimiter = ',')]
    pub dense: Option<Vec<usize>>,
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Seed of the initial weights, batch order and dropout (default: `--seed`, which also
    /// draws the split).
    #[arg(long)]
    pub init_seed: Option<u64>,
    /// Train-time augmentations (frame-feature families), e.g. `gain,pitch,spec-augment`.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub augment: Vec<augment::Augmentation>,
    /// Each clip's target distribution from a teacher (`cargo xtask distill`) instead of its
    /// labels.
    #[arg(skip)]
    pub teacher: Option<Targets>,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, value_enum)]
    pub family: Family,
    /// Model name (file stem); default: the family's name.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub options: TrainOptions,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let selected = args.data.select()?;
    let name = args.name.unwrap_or_else(|| args.family.name().to_owned());
    let path = train(&args.data, &selected, args.family, &name, &args.options)?;
    println!(
        "wrote {} and {}",
        path.display(),
        ModelMetadata::path_for(&path).display()
    );
    Ok(())
}

/// `--features` where given (a preset name or a FeatureConfig JSON file), else `preset`.
fn features_for(preset: Preset, options: &TrainOptions) -> anyhow::Result<FeatureConfig> {
    match options.features.as_deref() {
        Some(config) => load_config(config),
        None => Ok(FeatureConfig::preset(preset)),
    }
}

/// The model input of a family before standardisation (filled in from the training data).
fn input_for(family: Family, options: &TrainOptions) -> anyhow::Result<ModelInput> {
    Ok(match family.default_features() {
        Some(preset) if family == Family::Hybrid => {
            let features = features_for(preset, options)?;
            anyhow::ensure!(
                features.feature_width() >= SUMMARY_LEN,
                "the hybrid's descriptor row needs features at least {SUMMARY_LEN} wide \
                 (e.g. --features logmel128), not {}",
                features.feature_width()
            );
            ModelInput::Hybrid {
                hop_seconds: options.hop.unwrap_or(features.window_seconds() / 2.0),
                features,
                mean: vec![0.0; SUMMARY_LEN],
                std: vec![1.0; SUMMARY_LEN],
            }
        }
        Some(preset) => {
            let features = features_for(preset, options)?;
            let hop_frames = match options.hop {
                Some(seconds) => ((seconds * features.sample_rate as f32)
                    / features.hop_length as f32)
                    .round() as usize,
                None => features.frames / 2,
            };
            ModelInput::Frames {
                features,
                hop_frames: hop_frames.max(1),
            }
        }
        // Identity standardisation until the training data replaces it.
        None => ModelInput::Descriptors {
            sample_rate: 22_050,
            window_seconds: options.descriptor_window,
            hop_seconds: options.hop.unwrap_or(options.descriptor_window),
            mean: vec![0.0; SUMMARY_LEN],
            std: vec![1.0; SUMMARY_LEN],
        },
    })
}

/// Trains one model and writes `<out>/<name>.onnx` and `.json`; returns the ONNX path.
pub fn train(
    data_args: &DataArgs,
    selected: &Selected,
    family: Family,
    name: &str,
    options: &TrainOptions,
) -> anyhow::Result<PathBuf> {
    let started = Instant::now();
    let classes = &selected.classes;
    let seed = options.init_seed.unwrap_or(data_args.seed);
    let template = input_for(family, options)?;
    let data = data::load(
        &selected.data.clips,
        classes,
        &selected.split,
        &template,
        &options.cache,
        &targets(options),
        (&options.augment, seed),
    )?;
    report_data(name, selected, &data);
    let hyper = hyper_for(family, options);
    let device = options.backend.device()?.autodiff();
    device.seed(seed);
    let (frames, width) = (data.train.frames, data.train.width);
    let net = Net::new(family, &hyper, frames, width, classes.len(), &device)?;
    let parameters = net.num_params();
    let config = fit_config(options, seed);
    let fitted = fit(
        net,
        &data,
        classes.len(),
        &config,
        &device,
        &options.checkpoints.join(name),
        options.resume,
    )?;

    let doc = format!(
        "genrescope {} trained on {}",
        family.name(),
        data_args.source.display()
    );
    let onnx = fitted
        .net
        .valid()
        .to_onnx(frames, width, classes.len(), &doc)?;
    let training = json!({
        "skipped_clips": data.skipped.len(),
        "targets": match (&options.teacher, options.multi_label) {
            (Some(_), _) => "the teacher's answer for the clip (cargo xtask distill)",
            (None, true) => "all known labels of a clip, evenly",
            (None, false) => "primary label",
        },
        "fit": config,
        "hyper": hyper,
        "parameters": parameters,
        "backend": format!("{:?}", options.backend).to_lowercase(),
        "best_epoch": fitted.best_epoch,
        "wall_seconds": started.elapsed().as_secs_f64(),
        "history": fitted.history,
    });
    let mut metadata = ModelMetadata {
        format: FORMAT_VERSION,
        name: name.to_owned(),
        family: family.name().to_owned(),
        labels: classes.clone(),
        input: data.input.clone(),
        output: Default::default(),
        calibration: Default::default(),
        context: None,
        training: data.record(data_args, selected, training),
        metrics: fitted.history[fitted.best_epoch - 1].validation_metrics(),
        licence: format!(
            "Weights: trained by genrescope's xtask from the clips below; they inherit the most \
             restrictive of their licences (research and evaluation use unless every clip allows \
             more). Training clips by licence: {}",
            licence_summary(&selected.data.clips, &data.train.clips)
        ),
    };
    metadata
        .validate()
        .map_err(|e| anyhow::anyhow!("internal error, metadata invalid: {e}"))?;
    calibrate_on_validation(name, &onnx, &mut metadata, &data)?;
    std::fs::create_dir_all(&options.out)?;
    let path = options.out.join(format!("{name}.onnx"));
    write_model(&path, &onnx, &metadata)?;
    Ok(path)
}

/// What each clip's windows are trained towards: the teacher's answers where given, else the
/// labels.
fn targets(options: &TrainOptions) -> Targets {
    options.teacher.clone().unwrap_or(Targets::Labels {
        multi_label: options.multi_label,
    })
}

/// Prints the skipped clips and the size of the training and validation sets.
fn report_data(name: &str, selected: &Selected, data: &data::TrainingData) {
    for skip in &data.skipped {
        println!("skipped {}: {}", skip.path.display(), skip.reason);
    }
    println!(
        "{name}: {} classes, train {} clips / {} windows, valid {} clips / {} windows ({})",
        selected.classes.len(),
        data.train.clips.len(),
        data.train.len(),
        data.valid.clips.len(),
        data.valid.len(),
        selected.description
    );
}

/// The family's default hyperparameters with the command line's overrides.
fn hyper_for(family: Family, options: &TrainOptions) -> Hyper {
    let mut hyper = Hyper::default_for(family);
    if let Some(c) = &options.channels {
        hyper.channels = c.clone();
    }
    if let Some(h) = options.hidden {
        hyper.hidden = h;
    }
    if let Some(d) = &options.dense {
        hyper.dense = d.clone();
    }
    if let Some(p) = options.dropout {
        hyper.dropout = p;
    }
    hyper
}

/// The training loop's settings from the command line.
fn fit_config(options: &TrainOptions, seed: u64) -> FitConfig {
    FitConfig {
        max_epochs: options.epochs,
        batch_size: options.batch_size,
        learning_rate: options.learning_rate,
        patience: options.patience,
        lr_patience: options.lr_patience,
        seed,
        class_weights: !options.no_class_weights,
        monitor: options.monitor,
        augment: options.augment.clone(),
        windows_per_clip: None,
    }
}

/// Temperature scaling on the validation windows, through the exported graph itself: sets
/// `metadata`'s temperature and records the fit in its metrics.
fn calibrate_on_validation(
    name: &str,
    onnx: &[u8],
    metadata: &mut ModelMetadata,
    data: &data::TrainingData,
) -> anyhow::Result<()> {
    let runtime = Runtime::find(&repository_dirs())?;
    let mut exported = GenreModel::from_memory(&runtime, onnx, metadata.clone(), Provider::Cpu)?;
    let valid = &data.valid;
    let windows =
        ndarray::ArrayView3::from_shape((valid.len(), valid.frames, valid.width), &valid.x)?;
    let fitted = calibrate::fit(exported.probabilities(windows)?.view(), &valid.y);
    println!(
        "{name}: temperature {:.3} on {} validation windows: NLL {:.3} → {:.3}, ECE {:.3} → {:.3}",
        fitted.temperature,
        fitted.windows,
        fitted.nll_before,
        fitted.nll_after,
        fitted.ece_before,
        fitted.ece_after
    );
    metadata.calibration.temperature = fitted.temperature;
    metadata.metrics["calibration"] = fitted.to_metrics();
    Ok(())
}

/// Training clips per licence (`unknown` where the dataset does not say).
fn licence_summary(clips: &[crate::data::dataset::Clip], used: &[usize]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for &i in used {
        let licence = clips[i].licence.as_deref().unwrap_or("unknown");
        *counts.entry(licence).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(l, n)| format!("{n} × {l}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes the model and its metadata side by side.
pub fn write_model(path: &Path, onnx: &[u8], metadata: &ModelMetadata) -> anyhow::Result<()> {
    std::fs::write(path, onnx)?;
    std::fs::write(ModelMetadata::path_for(path), metadata.to_json() + "\n")?;
    Ok(())
}

/// Held by every test that draws from burn's CPU device's random generator (training,
/// initialising a network, `Tensor::random`): burn keeps one generator per device, so a draw
/// beside a training takes that training's numbers, and the run is no longer reproducible (the
/// resume test compares two runs byte for byte).
#[cfg(test)]
pub(crate) fn device_lock() -> std::sync::MutexGuard<'static, ()> {
    static DEVICE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    DEVICE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use genrescope::inference::{GenreModel, Provider, WindowCutter};

    /// A tiny synthetic dataset every training test shares: tones vs noise, three 3.5-s WAV
    /// clips per class folder, written once per test process.
    struct Dataset {
        dir: PathBuf,
        args: DataArgs,
        selected: Selected,
    }

    fn dataset() -> &'static Dataset {
        static DATASET: OnceLock<Dataset> = OnceLock::new();
        DATASET.get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("genrescope-smoke-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            write_clips(&dir.join("data"));
            let args = DataArgs {
                source: dir.join("data"),
                classes: vec![],
                min_count: 1,
                valid_fraction: 0.34,
                seed: 3,
                test_fraction: 0.0,
                lists: None,
            };
            let selected = args.select().unwrap();
            assert_eq!(selected.classes, ["noise", "tone"]);
            Dataset {
                dir,
                args,
                selected,
            }
        })
    }

    fn write_clips(root: &Path) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 22_050,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut state = 12345u32;
        let mut noise = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for class in ["tone", "noise"] {
            std::fs::create_dir_all(root.join(class)).unwrap();
            for clip in 0..3 {
                let path = root.join(class).join(format!("{class}{clip}.wav"));
                let mut w = hound::WavWriter::create(path, spec).unwrap();
                for i in 0..(22_050 * 7 / 2) {
                    let t = i as f32 / 22_050.0;
                    let x = match class {
                        "tone" => {
                            0.4 * (std::f32::consts::TAU * (220.0 + 110.0 * clip as f32) * t).sin()
                        }
                        _ => 0.4 * noise(),
                    };
                    w.write_sample((x * 32_767.0) as i16).unwrap();
                }
                w.finalize().unwrap();
            }
        }
    }

    /// Two epochs of a small MFCC CNN; models, caches and checkpoints in the test's own folder
    /// (`test`), so tests running at once never share files.
    fn options(test: &str) -> TrainOptions {
        let dir = dataset().dir.join(test);
        TrainOptions {
            features: Some("mfcc13".into()),
            hop: Some(0.25),
            descriptor_window: 3.0,
            epochs: 2,
            batch_size: 4,
            learning_rate: 1e-3,
            patience: 10,
            monitor: Monitor::Loss,
            lr_patience: 2,
            no_class_weights: false,
            multi_label: true,
            backend: Backend::Cpu,
            out: dir.join("models"),
            cache: dir.join("cache"),
            checkpoints: dir.join("checkpoints"),
            resume: false,
            channels: Some(vec![4, 4, 4]),
            hidden: None,
            dense: Some(vec![8]),
            dropout: None,
            init_seed: None,
            augment: vec![],
            teacher: None,
        }
    }

    fn train_on_dataset(
        family: Family,
        name: &str,
        options: &TrainOptions,
    ) -> anyhow::Result<PathBuf> {
        let data = dataset();
        let _device = super::device_lock();
        train(&data.args, &data.selected, family, name, options)
    }

    fn metadata_of(model: &Path) -> ModelMetadata {
        ModelMetadata::load(&ModelMetadata::path_for(model)).unwrap()
    }

    #[test]
    fn training_records_its_history_calibration_and_standardisation() {
        let path = train_on_dataset(Family::MfccCnn, "smoke", &options("record")).unwrap();
        let metadata = metadata_of(&path);
        assert_eq!(metadata.training["history"].as_array().unwrap().len(), 2);
        // Calibration ran on the validation windows and is what the metadata applies.
        let fitted = &metadata.metrics["calibration"]["fitted"];
        assert_eq!(
            fitted["temperature"].as_f64().unwrap() as f32,
            metadata.calibration.temperature
        );
        // The temperature minimises the NLL (T = 1 is in the search range); ECE may go either
        // way on 4 windows, so it is not the invariant.
        assert!(
            fitted["nll_after"].as_f64().unwrap() <= fitted["nll_before"].as_f64().unwrap() + 1e-6
        );
        assert!(matches!(
            &metadata.input,
            ModelInput::Frames { features, .. }
                if matches!(features.normalization, genrescope::features::Normalization::PerFeature { .. })
        ));
    }

    #[test]
    fn the_exported_model_runs_through_the_plugin_inference_path() {
        let runtime = models::tests::test_runtime();
        let path = train_on_dataset(Family::MfccCnn, "smoke", &options("inference")).unwrap();
        let mut model = GenreModel::load(&runtime, &path, Provider::Cpu).unwrap();
        let cutter = WindowCutter::new(&model.metadata.input).unwrap();
        let tone: Vec<f32> = (0..22_050 * 4)
            .map(|i| 0.4 * (i as f32 * 0.07).sin())
            .collect();
        let windows = cutter.windows(&tone);
        assert!(windows.dim().0 >= 1);
        let p = model.probabilities(windows.view()).unwrap();
        for row in p.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-4 && row.iter().all(|x| x.is_finite()));
        }
    }

    #[test]
    fn a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one() {
        let mut options = options("resume");
        train_on_dataset(Family::MfccCnn, "smoke", &options).unwrap();
        // Resume: the two finished epochs are kept and one more is trained.
        options.epochs = 3;
        options.resume = true;
        let resumed = train_on_dataset(Family::MfccCnn, "smoke", &options).unwrap();
        let history = metadata_of(&resumed).training["history"].clone();
        let history = history.as_array().unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history[2]["epoch"], 3);
        // The batch order, dropout masks and augmentations depend only on (seed, epoch), and the
        // optimizer state is in the checkpoint.
        options.resume = false;
        let straight = train_on_dataset(Family::MfccCnn, "smoke-straight", &options).unwrap();
        assert_eq!(
            std::fs::read(&straight).unwrap(),
            std::fs::read(&resumed).unwrap(),
            "resumed and uninterrupted runs differ"
        );
    }

    #[test]
    fn every_augmentation_at_once_trains_and_is_recorded() {
        let mut options = options("augment");
        options.epochs = 1;
        options.augment = augment::Augmentation::ALL.to_vec();
        let augmented = train_on_dataset(Family::MfccCnn, "smoke-augment", &options).unwrap();
        assert_eq!(
            metadata_of(&augmented).training["fit"]["augment"]
                .as_array()
                .unwrap()
                .len(),
            augment::Augmentation::ALL.len()
        );
    }

    #[test]
    fn the_hybrid_refuses_narrow_features_and_trains_on_log_mel() {
        let runtime = models::tests::test_runtime();
        let mut options = options("hybrid");
        // 13 MFCC are too narrow to hold the descriptor row: refused up front.
        assert!(train_on_dataset(Family::Hybrid, "smoke-hybrid", &options).is_err());
        options.features = Some("logmel128".into());
        options.channels = Some(vec![4, 4, 4, 4]);
        options.hidden = Some(8);
        let hybrid = train_on_dataset(Family::Hybrid, "smoke-hybrid", &options).unwrap();
        let mut hybrid = GenreModel::load(&runtime, &hybrid, Provider::Cpu).unwrap();
        assert!(matches!(hybrid.metadata.input, ModelInput::Hybrid { .. }));
        let cutter = WindowCutter::new(&hybrid.metadata.input).unwrap();
        let clip: Vec<f32> = (0..22_050 * 4)
            .map(|i| 0.3 * (i as f32 * 0.05).sin())
            .collect();
        let p = hybrid.probabilities(cutter.windows(&clip).view()).unwrap();
        assert!(p.nrows() >= 1 && p.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn the_descriptor_family_trains_and_loads() {
        let runtime = models::tests::test_runtime();
        let mlp = train_on_dataset(Family::DescriptorMlp, "smoke-mlp", &options("mlp")).unwrap();
        assert!(matches!(
            &metadata_of(&mlp).input,
            ModelInput::Descriptors { mean, .. } if mean.len() == SUMMARY_LEN
        ));
        GenreModel::load(&runtime, &mlp, Provider::Cpu).unwrap();
    }

    /// `eval` on the folder tree, and on a labels table with a label the model lacks and a file
    /// that cannot be decoded: both are reported, neither stops the run.
    #[test]
    fn eval_reports_folders_and_tables_with_unknown_labels_and_broken_files() {
        let data = dataset();
        let options = options("eval");
        let model = train_on_dataset(Family::MfccCnn, "smoke", &options).unwrap();
        let dir = data.dir.join("eval");
        let report_of = |data: PathBuf, name: &str| {
            let report = dir.join(name);
            crate::eval::run(crate::eval::Args {
                model: model.clone(),
                data,
                list: None,
                report: Some(report.clone()),
                threads: Some(2),
            })
            .unwrap();
            assert!(
                report.join("confusion.png").is_file() && report.join("training.png").is_file()
            );
            let json = std::fs::read_to_string(report.join("report.json")).unwrap();
            serde_json::from_str::<serde_json::Value>(&json).unwrap()
        };
        let folder = report_of(data.dir.join("data"), "report-folder");
        assert_eq!(folder["scored"], 6);
        assert!(folder["accuracy"].as_f64().unwrap() >= 0.0);
        // The broken file lives outside the shared class folders.
        std::fs::write(dir.join("broken.wav"), b"RIFF nonsense").unwrap();
        std::fs::write(
            dir.join("labels.tsv"),
            "path\tgenre\tgenres_all\tartist\n\
             ../data/tone/tone0.wav\ttone\ttone\ta\n\
             ../data/noise/noise0.wav\tjazz\tjazz\tb\n\
             broken.wav\ttone\ttone\tc\n",
        )
        .unwrap();
        let table = report_of(dir.join("labels.tsv"), "report-table");
        assert_eq!(table["clips"], 3);
        assert_eq!(table["scored"], 1);
        assert_eq!(table["unknown_labels"][0][0], "jazz");
        assert!(table["failed"][0][0]
            .as_str()
            .unwrap()
            .ends_with("broken.wav"));
    }
}
