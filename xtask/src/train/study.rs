//! `cargo xtask augment-study`: trains one family once per augmentation (and without any, with
//! several initialisation seeds to show the run-to-run spread) on the same artist-grouped split,
//! and writes the validation figures of each run to `models/report/augmentation.{md,json}`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use genrescope::inference::ModelMetadata;
use serde_json::json;

use super::augment::Augmentation;
use super::models::Family;
use super::{train, TrainOptions};
use crate::data::args::DataArgs;
use crate::markdown;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, value_enum, default_value = "mfcc-cnn")]
    pub family: Family,
    /// Augmentations to measure one at a time (default: all); `all` runs them together too.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Augmentation>,
    /// Runs without augmentation, each with another initialisation seed.
    #[arg(long, default_value_t = 2)]
    pub baselines: u64,
    /// Where the study's tables go (`augmentation.md` and `.json`).
    #[arg(long, default_value = "models/report")]
    pub report: PathBuf,
    #[command(flatten)]
    pub options: TrainOptions,
}

/// One training run of the study.
struct Run {
    name: String,
    augment: Vec<Augmentation>,
    init_seed: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let selected = args.data.select()?;
    let family = args.family.name();
    let augmentations = if args.only.is_empty() {
        Augmentation::ALL.to_vec()
    } else {
        args.only.clone()
    };
    let mut runs: Vec<Run> = (0..args.baselines.max(1))
        .map(|k| Run {
            name: format!("none (init seed {})", args.data.seed + k),
            augment: vec![],
            init_seed: args.data.seed + k,
        })
        .collect();
    runs.extend(augmentations.iter().map(|&a| Run {
        name: a.name().to_owned(),
        augment: vec![a],
        init_seed: args.data.seed,
    }));
    runs.push(Run {
        name: "all of the above".into(),
        augment: augmentations.clone(),
        init_seed: args.data.seed,
    });

    let (mut rows, mut results, mut doc) = (String::new(), Vec::new(), String::new());
    for run in &runs {
        let mut options = args.options.clone();
        options.augment = run.augment.clone();
        options.init_seed = Some(run.init_seed);
        options.out = options.checkpoints.join("augment-study");
        let tag: String = run
            .name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let name = format!("study-{family}-{tag}");
        let run_started = Instant::now();
        let model = train(&args.data, &selected, args.family, &name, &options)?;
        let metadata = ModelMetadata::load(&ModelMetadata::path_for(&model))?;
        let m = &metadata.metrics;
        let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        let minutes = run_started.elapsed().as_secs_f64() / 60.0;
        rows += &markdown::row([
            run.name.clone(),
            format!("{:.3}", f(&m["valid_clip_accuracy"])),
            format!("**{:.3}**", f(&m["valid_clip_macro_f1"])),
            format!("{:.3}", f(&m["valid_loss"])),
            format!(
                "{} / {}",
                metadata.training["best_epoch"],
                metadata.training["history"].as_array().map_or(0, Vec::len)
            ),
            format!("{minutes:.1}"),
        ]);
        results.push(json!({
            "run": run.name,
            "augment": run.augment,
            "init_seed": run.init_seed,
            "metrics": m,
            "best_epoch": metadata.training["best_epoch"],
            "history": metadata.training["history"],
            "minutes": minutes,
        }));
        doc = write_report(&args, &selected, &rows, &results, started)?;
    }
    println!("{doc}");
    Ok(())
}

/// Writes the study's tables with the runs finished so far (so an interrupted study keeps
/// them); returns the markdown.
fn write_report(
    args: &Args,
    selected: &crate::data::args::Selected,
    rows: &str,
    results: &[serde_json::Value],
    started: Instant,
) -> anyhow::Result<String> {
    let family = args.family.name();
    std::fs::create_dir_all(&args.report)?;
    let mut doc = String::from("# Augmentation study\n\n");
    let _ = writeln!(
        doc,
        "Written by `cargo xtask augment-study {}` ({:.0} min). Family {family}; data {}, \
         split {} (train {} / validation {} clips, artist-disjoint; the test clips are not \
         used). Every run has the same split, hyper-parameters, epochs and early stopping on \
         validation macro-F1; only the augmentation (and, for the baselines, the \
         initialisation seed) changes. Figures are of the kept epoch, at clip level (mean \
         window probability). The spread between the baselines is the run-to-run noise: a \
         difference smaller than it is not a measured effect.\n",
        std::env::args().skip(2).collect::<Vec<_>>().join(" "),
        started.elapsed().as_secs_f64() / 60.0,
        args.data.source.display(),
        selected.description,
        selected.split.train.len(),
        selected.split.valid.len(),
    );
    doc += "Augmentations (`xtask/src/train/augment.rs`): gain ±6 dB; white noise at 10–30 dB \
            SNR; pitch ±2 semitones; tempo ×0.8–1.25; random window offsets (crop); \
            SpecAugment (two time and two mel-band masks of up to 10 %); mixup (Beta(0.2, \
            0.2)). All but mixup act on the dB mel frames, so pitch, tempo and noise are \
            power-spectrum approximations of the audio operations.\n\n";
    doc += &markdown::header([
        "augmentation",
        "valid clip accuracy",
        "**valid clip macro-F1**",
        "valid loss",
        "best epoch / epochs run",
        "minutes",
    ]);
    doc += rows;
    std::fs::write(args.report.join("augmentation.md"), &doc)?;
    std::fs::write(
        args.report.join("augmentation.json"),
        serde_json::to_string_pretty(results)? + "\n",
    )?;
    Ok(doc)
}
