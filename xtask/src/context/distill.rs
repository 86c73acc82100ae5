//! `cargo xtask distill`: a small student network taught by the genre-v2 teacher, measured by
//! the same artist-grouped cross-validation as `genre-v2`.
//!
//! For each test fold, the next fold validates (early stopping, calibration) and the other
//! folds train. The teacher (genre-v2's shipped head on the cached MSD musicnn windows) is
//! fitted on those training clips only, so neither network ever sees a test clip. Every
//! training and validation clip's windows learn the teacher's answer for the clip: softened by
//! `--temperature`, mixed with `--label-weight` of the same answer restricted to the genres the
//! clip's labels allow (so labels, umbrella and multi-genre ones included, enter the loss).
//! Targets are per clip, so any family, feature preset, hop and augmentation (each epoch's new
//! views) can be the student. The student is scored on the test clips through ONNX Runtime, as
//! `analyze` runs it, beside the teacher on the same clips.

use std::collections::BTreeMap;
use std::path::PathBuf;

use genrescope::genres::Vocabulary;
use genrescope::inference::runtime::repository_dirs;
use genrescope::inference::{
    analyze_file, GenreModel, ModelMetadata, Provider, Runtime, WindowCutter,
};
use serde::Serialize;

use super::corpus::{Corpus, Labelled, Thresholds};
use super::cv::{self, mean_std, Candidate, Scores, Settings};
use super::head::Classifier;
use super::windows::{self, Layer, Network};
use crate::data::args::{DataArgs, Selected};
use crate::data::dataset::Dataset;
use crate::data::split::Split;
use crate::eval::clips::map_clips;
use crate::train::data::Targets;
use crate::train::models::Family;
use crate::train::{self, all, TrainOptions};

#[derive(clap::Args)]
pub struct Args {
    /// A labels table (`../shared/music/labels.tsv`'s format).
    #[arg(default_value_os_t = genrescope::research::music_dir().join("labels.tsv"))]
    data: PathBuf,
    #[arg(long, default_value = "models/genres.toml")]
    vocabulary: PathBuf,
    /// Folders written by `tools/musicnn/export_weights.py` (the teacher's network).
    #[arg(long, default_value = "cache/musicnn")]
    weights: PathBuf,
    /// The teacher's cached window outputs (shared with `genre-v2`).
    #[arg(long, default_value = "cache/context")]
    windows: PathBuf,
    /// The student's family; its size comes from `--channels`, `--dense` (and `--features`).
    #[arg(long, value_enum, default_value = "mobilenet")]
    family: Family,
    /// The student's name: `<out>/<name>.onnx`, `<out>/report/<name>.distill.json`.
    #[arg(long, default_value = "student")]
    name: String,
    /// Softening of the teacher's answers: `p^(1/T)`, renormalised.
    #[arg(long, default_value_t = 2.0)]
    temperature: f32,
    /// Share of each target that is the teacher's answer restricted to the clip's genres.
    #[arg(long, default_value_t = 0.5)]
    label_weight: f32,
    #[arg(long, default_value_t = 5)]
    folds: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// As `genre-v2`: a genre needs this many single-genre clips...
    #[arg(long, default_value_t = 10)]
    min_single: usize,
    /// ...and this many clips in all.
    #[arg(long, default_value_t = 20)]
    min_clips: usize,
    /// Test only these folds (1-based), e.g. to spread a long run over sessions; the
    /// cross-validation figures need every fold.
    #[arg(long, value_delimiter = ',')]
    only_folds: Vec<usize>,
    /// After cross-validation, train the student on every fold but one (which validates) and
    /// write `<out>/<name>.onnx`.
    #[arg(long)]
    export: bool,
    /// Threads for the teacher's windows and the scoring (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    options: TrainOptions,
}

/// genre-v2's shipped head: a per-window logistic regression on MSD musicnn's penultimate
/// layer, window answers averaged (`models/genre-v2.json`).
fn teacher() -> Candidate {
    Candidate {
        networks: vec![Network::Msd],
        layer: Layer::Penultimate,
        pools: Vec::new(),
        classifier: Classifier::Logistic,
    }
}

/// One test fold's figures for teacher and student.
#[derive(Debug, Clone, Serialize)]
struct Fold {
    fold: usize,
    teacher: Scores,
    student: Scores,
    /// Share of test clips where the student's top genre is the teacher's.
    agreement: f64,
}

/// What `<out>/report/<name>.distill.json` holds.
#[derive(Serialize)]
struct Report<'a> {
    student: &'a str,
    family: &'a str,
    parameters: Option<u64>,
    features_ms: f64,
    model_ms: f64,
    temperature: f32,
    label_weight: f32,
    folds: &'a [Fold],
    command: String,
}

/// The target of one clip: the teacher's `answer` softened by `temperature`, mixed with
/// `label_weight` of the answer restricted to the clip's candidate `genres`.
fn target(answer: &[f32], genres: &[usize], temperature: f32, label_weight: f32) -> Vec<f32> {
    let normalised = |v: Vec<f32>| {
        let sum: f32 = v.iter().sum();
        v.into_iter().map(|x| x / sum).collect::<Vec<f32>>()
    };
    let soft = normalised(
        answer
            .iter()
            .map(|p| p.max(1e-12).powf(1.0 / temperature))
            .collect(),
    );
    let allowed: Vec<f32> = (0..answer.len())
        .map(|k| {
            if genres.contains(&k) {
                answer[k].max(1e-6)
            } else {
                0.0
            }
        })
        .collect();
    let allowed = normalised(allowed);
    soft.iter()
        .zip(&allowed)
        .map(|(s, a)| (1.0 - label_weight) * s + label_weight * a)
        .collect()
}

/// The corpus as the training code's dataset: every clip, labelled with its genre ids.
fn selected(corpus: &Corpus, split: Split, test: Vec<usize>, description: String) -> Selected {
    Selected {
        all: corpus.clips.len(),
        data: Dataset {
            clips: corpus.clips.iter().map(|c| c.clip.clone()).collect(),
        },
        classes: corpus.classes.clone(),
        split,
        test,
        description,
    }
}

/// Trains a student on `split` with the teacher fitted on `split.train`; returns the student's
/// model file and the teacher's answers for every clip.
fn train_student(
    args: &Args,
    corpus: &Corpus,
    probes: &BTreeMap<Network, Vec<ndarray::Array2<f32>>>,
    (split, test): (Split, Vec<usize>),
    (name, out): (&str, &std::path::Path),
) -> anyhow::Result<(PathBuf, Vec<Vec<f32>>)> {
    let settings = Settings {
        seed: args.seed,
        ..crate::clap_defaults::<super::Args>().settings()
    };
    let everyone: Vec<usize> = (0..corpus.clips.len()).collect();
    let answers = cv::fit_and_predict(
        &teacher(),
        probes,
        corpus,
        &settings,
        &split.train,
        &everyone,
    );
    let mut given = vec![None; corpus.clips.len()];
    for &c in split.train.iter().chain(&split.valid) {
        let genres = &corpus.clips[c].genres;
        given[c] = Some(target(
            &answers[c],
            genres,
            args.temperature,
            args.label_weight,
        ));
    }
    let description = format!(
        "{} training and {} validation clips in artist-grouped folds, {} test clips held out",
        split.train.len(),
        split.valid.len(),
        test.len()
    );
    let selected = selected(corpus, split, test, description);
    let data_args = DataArgs {
        source: args.data.clone(),
        classes: Vec::new(),
        min_count: 0,
        valid_fraction: 0.0,
        seed: args.seed,
        test_fraction: 0.0,
        lists: None,
    };
    let options = TrainOptions {
        teacher: Some(Targets::Given(given)),
        out: out.to_owned(),
        ..args.options.clone()
    };
    let path = train::train(&data_args, &selected, args.family, name, &options)?;
    Ok((path, answers))
}

/// The student's answers for `clips`, through ONNX Runtime as `analyze` runs it.
fn student_answers(
    runtime: &Runtime,
    model: &std::path::Path,
    clips: &[&Labelled],
    threads: Option<usize>,
) -> anyhow::Result<Vec<Vec<f32>>> {
    let plain: Vec<_> = clips.iter().map(|c| c.clip.clone()).collect();
    let answers = map_clips(
        &plain,
        threads,
        "student",
        || -> anyhow::Result<_> {
            let model = GenreModel::load(runtime, model, Provider::Cpu)?;
            let cutter = WindowCutter::new(&model.metadata.input)?;
            Ok((model, cutter))
        },
        |(model, cutter), clip| analyze_file(model, cutter, &clip.path).map(|a| a.summary),
    )?;
    Ok(answers.into_iter().collect::<Result<_, _>>()?)
}

/// Trains and scores the student of one test fold.
fn cross_validate_fold(
    args: &Args,
    corpus: &Corpus,
    probes: &BTreeMap<Network, Vec<ndarray::Array2<f32>>>,
    runtime: &Runtime,
    fold: usize,
) -> anyhow::Result<(Fold, PathBuf)> {
    let valid_fold = (fold + 1) % corpus.k;
    let test = corpus.fold(fold, true);
    let split = Split {
        train: (0..corpus.clips.len())
            .filter(|&c| corpus.folds[c] != fold && corpus.folds[c] != valid_fold)
            .collect(),
        valid: corpus.fold(valid_fold, true),
    };
    let name = format!("{}-fold{}", args.name, fold + 1);
    // Fold models are for scoring only: they stay out of `models/`.
    let out = args.options.cache.with_file_name("distill");
    let (path, teacher) =
        train_student(args, corpus, probes, (split, test.clone()), (&name, &out))?;
    let clips: Vec<&Labelled> = test.iter().map(|&c| &corpus.clips[c]).collect();
    let student = student_answers(runtime, &path, &clips, args.threads)?;
    let teacher: Vec<Vec<f32>> = test.iter().map(|&c| teacher[c].clone()).collect();
    let agreement = student
        .iter()
        .zip(&teacher)
        .filter(|(s, t)| crate::metrics::argmax(s) == crate::metrics::argmax(t))
        .count() as f64
        / test.len().max(1) as f64;
    let result = Fold {
        fold: fold + 1,
        teacher: cv::score(corpus, &test, &teacher).0,
        student: cv::score(corpus, &test, &student).0,
        agreement,
    };
    Ok((result, path))
}

/// `mean ± std` of one figure over the folds.
fn figure(folds: &[Fold], of: impl Fn(&Fold) -> f64) -> String {
    let values: Vec<f64> = folds.iter().map(of).collect();
    let (mean, std) = mean_std(&values);
    format!("{mean:.3} ± {std:.3}")
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let vocabulary = Vocabulary::load(&args.vocabulary)?;
    let thresholds = Thresholds {
        single: args.min_single,
        any: args.min_clips,
    };
    let corpus = Corpus::load(&args.data, &vocabulary, thresholds, args.folds, args.seed)?;
    let probes = BTreeMap::from([(
        Network::Msd,
        windows::probe_rows(
            Network::Msd,
            &args.weights,
            &corpus.clips,
            &args.windows,
            args.threads,
        )?,
    )]);
    let runtime = Runtime::find(&repository_dirs())?;
    let mut folds = Vec::new();
    for fold in 0..corpus.k {
        if !args.only_folds.is_empty() && !args.only_folds.contains(&(fold + 1)) {
            continue;
        }
        let (result, path) = cross_validate_fold(&args, &corpus, &probes, &runtime, fold)?;
        println!(
            "fold {}: teacher acc {:.3} macro-F1 {:.3} · student acc {:.3} macro-F1 {:.3} · top-1 agreement {:.3}",
            result.fold,
            result.teacher.accuracy,
            result.teacher.macro_f1,
            result.student.accuracy,
            result.student.macro_f1,
            result.agreement
        );
        folds.push(result);
        write_report(&args, &folds, &path, &runtime)?;
    }
    println!(
        "teacher: acc {}, macro-F1 {} · student {}: acc {}, macro-F1 {} ({} folds)",
        figure(&folds, |f| f.teacher.accuracy),
        figure(&folds, |f| f.teacher.macro_f1),
        args.name,
        figure(&folds, |f| f.student.accuracy),
        figure(&folds, |f| f.student.macro_f1),
        folds.len()
    );
    if args.export {
        // Every fold trains except fold 1, which validates.
        let split = Split {
            train: corpus.fold(0, false),
            valid: corpus.fold(0, true),
        };
        let out = (args.name.as_str(), args.options.out.as_path());
        let (path, _) = train_student(&args, &corpus, &probes, (split, Vec::new()), out)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Writes the figures so far, with the size and CPU cost per window (one thread) of `model`,
/// the latest fold's student.
fn write_report(
    args: &Args,
    folds: &[Fold],
    model: &std::path::Path,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let metadata = ModelMetadata::load(&ModelMetadata::path_for(model))?;
    let report = Report {
        student: &args.name,
        family: args.family.name(),
        parameters: metadata.training["parameters"].as_u64(),
        features_ms: all::features_ms(&metadata)?,
        model_ms: all::inference_ms(runtime, model)?,
        temperature: args.temperature,
        label_weight: args.label_weight,
        folds,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let dir = args.options.out.join("report");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.distill.json", args.name));
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    Ok(())
}
