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
use std::path::{Path, PathBuf};

use genrescope::inference::runtime::repository_dirs;
use genrescope::inference::{
    analyze_file, GenreModel, ModelMetadata, Provider, Runtime, WindowCutter,
};
use serde::{Deserialize, Serialize};

use super::corpus::{Corpus, CorpusArgs, Labelled};
use super::cv::{self, Candidate, Scores, Settings};
use super::head::Classifier;
use super::windows::{self, Layer, Network};
use crate::data::args::{DataArgs, Selected};
use crate::data::dataset::Dataset;
use crate::data::split::Split;
use crate::eval::clips::map_clips;
use crate::markdown;
use crate::metrics::mean_std;
use crate::model_report::{self, Section};
use crate::timing;
use crate::train::models::Family;
use crate::train::windows::Targets;
use crate::train::{self, TrainOptions};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    corpus: CorpusArgs,
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
    /// Test only these folds (1-based), e.g. to spread a long run over sessions; the
    /// cross-validation figures need every fold.
    #[arg(long, value_delimiter = ',')]
    only_folds: Vec<usize>,
    /// After cross-validation, train the student on every fold but one (which validates) and
    /// write `<out>/<name>.onnx`.
    #[arg(long)]
    export: bool,
    /// Only rebuild the table (`<out>/report/distill.md` and its section of `REPORT.md`) from
    /// the students' JSON files, timing each student's latest fold model and the teacher again.
    #[arg(long)]
    report_only: bool,
    /// Threads for the teacher's windows and the scoring (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Instead of training a student: the teacher's own recipe on MSD musicnn narrowed to this
    /// percentage of its front-end filters (`xtask/src/musicnn/narrow.rs`), its head fitted on
    /// the same training clips as the teacher's (the narrowed musicnn family needs no training
    /// of its network).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
    narrow: Option<u8>,
    /// Score ONNX Runtime's dynamic int8 quantisation (`quantize.rs`) instead: of the fold
    /// students an earlier run of the same `--name` trained, or of the `--narrow` network (its
    /// windows through the int8 graph, the head fitted on them). The row is `<name>-int8`.
    #[arg(long)]
    int8: bool,
    #[command(flatten)]
    options: TrainOptions,
}

/// genre-v2's shipped head: a per-window logistic regression on MSD musicnn's penultimate
/// layer, window answers averaged (`models/genre-v2.json`).
fn teacher() -> Candidate {
    on(Network::MSD)
}

/// The teacher's recipe on `network`.
fn on(network: Network) -> Candidate {
    Candidate {
        networks: vec![network],
        layer: Layer::Penultimate,
        pools: Vec::new(),
        classifier: Classifier::Logistic,
    }
}

/// One test fold's figures for teacher and student.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Fold {
    fold: usize,
    teacher: Scores,
    student: Scores,
    /// Share of test clips where the student's top genre is the teacher's.
    agreement: f64,
}

/// A network's size and CPU cost per window, one thread.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cost {
    parameters: Option<u64>,
    /// Seconds of audio between windows: the cost of a second of audio is `ms / hop`.
    hop_seconds: f32,
    features_ms: f64,
    model_ms: f64,
    /// Millions of floating-point operations of the model per window (two per multiply-add,
    /// convolutions, matrix products and LSTMs: `flops.rs`); absent in reports older than it.
    #[serde(default)]
    mflops: Option<f64>,
}

impl Cost {
    /// Measures `model` (with its `.json`) on this machine.
    fn of(runtime: &Runtime, model: &Path) -> anyhow::Result<Self> {
        let metadata = ModelMetadata::load(&ModelMetadata::path_for(model))?;
        Ok(Self {
            parameters: metadata.training["parameters"].as_u64(),
            hop_seconds: metadata.input.hop_seconds(),
            features_ms: timing::features_ms(&metadata)?,
            model_ms: timing::inference_ms(runtime, model)?,
            mflops: Some(mflops(runtime, &std::fs::read(model)?, &metadata)?),
        })
    }

    /// Measures a narrowed MSD musicnn (every layer, as the teacher's window graph runs it),
    /// or its int8 quantisation.
    fn of_narrowed(
        runtime: &Runtime,
        percent: u8,
        int8: bool,
        weights_root: &Path,
    ) -> anyhow::Result<Self> {
        let network = Network::MSD.narrowed(percent);
        let weights = network.weights(weights_root)?;
        let (onnx, width) = windows::probe_graph(network, &weights, int8)?;
        let metadata = windows::window_metadata(network, width);
        Ok(Self {
            parameters: Some(weights.parameters() as u64),
            hop_seconds: metadata.input.hop_seconds(),
            features_ms: timing::features_ms(&metadata)?,
            model_ms: windows::probe_ms(network, &onnx, width)?,
            mflops: Some(mflops(runtime, &onnx, &metadata)?),
        })
    }

    /// The MFLOPs cell of the table.
    fn mflops(&self) -> String {
        self.mflops.map_or("–".into(), |m| format!("{m:.1}"))
    }

    /// Seconds of audio analysed per second of one core (features and model).
    fn real_time(&self) -> f64 {
        f64::from(self.hop_seconds) * 1e3 / (self.features_ms + self.model_ms)
    }
}

/// MFLOPs of one window through `onnx` (two per multiply-add).
fn mflops(runtime: &Runtime, onnx: &[u8], metadata: &ModelMetadata) -> anyhow::Result<f64> {
    let shape = metadata.input.shape();
    let multiply_adds = crate::flops::multiply_adds(runtime, onnx, &[1, shape[0], shape[1]])?;
    Ok(2.0 * multiply_adds as f64 / 1e6)
}

/// What `<out>/report/<name>.distill.json` holds: one student's cross-validation.
#[derive(Serialize, Deserialize)]
struct Report {
    student: String,
    family: String,
    temperature: f32,
    label_weight: f32,
    folds: Vec<Fold>,
    /// Of the latest fold's student.
    cost: Cost,
    command: String,
    /// A narrowed musicnn's percentage of front-end filters (`--narrow`), not a trained student.
    #[serde(default)]
    narrow: Option<u8>,
    /// Scores of the int8 quantisation (`--int8`).
    #[serde(default)]
    int8: bool,
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

/// How the teacher's head (and a narrowed network's) is fitted: genre-v2's defaults.
fn teacher_settings(args: &Args) -> Settings {
    Settings {
        seed: args.corpus.seed,
        ..crate::clap_defaults::<super::Args>().settings()
    }
}

/// Trains a student on `split` with the teacher fitted on `split.train`; returns the student's
/// model file and the teacher's answers for every clip.
fn train_student(
    args: &Args,
    corpus: &Corpus,
    probes: &BTreeMap<Network, Vec<ndarray::Array2<f32>>>,
    (split, test): (Split, Vec<usize>),
    (name, out): (&str, &Path),
) -> anyhow::Result<(PathBuf, Vec<Vec<f32>>)> {
    let settings = teacher_settings(args);
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
        source: args.corpus.data.clone(),
        classes: Vec::new(),
        min_count: 0,
        valid_fraction: 0.0,
        seed: args.corpus.seed,
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
    model: &Path,
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

/// Where the fold students go (`cache/distill/` by default): they are for scoring only, and stay
/// out of `models/`.
fn fold_models(args: &Args) -> PathBuf {
    args.options.cache.with_file_name("distill")
}

/// Times every student's latest fold model again (see [`Args::report_only`]).
fn time_again(args: &Args, runtime: &Runtime) -> anyhow::Result<()> {
    let dir = args.options.out.join("report");
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if !path.to_string_lossy().ends_with(".distill.json") {
            continue;
        }
        let mut report: Report = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let Some(last) = report.folds.last() else {
            continue;
        };
        let model = fold_models(args).join(format!("{}-fold{}.onnx", report.student, last.fold));
        if let Some(percent) = report.narrow {
            report.cost = Cost::of_narrowed(runtime, percent, report.int8, &args.corpus.weights)?;
        } else if model.is_file() {
            report.cost = Cost::of(runtime, &model)?;
        } else {
            eprintln!(
                "{}: not timed again ({} is gone)",
                report.student,
                model.display()
            );
            continue;
        }
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}

/// The row's name: `--name`, with `-int8` for `--int8`.
fn row_name(args: &Args) -> String {
    if args.int8 {
        format!("{}-int8", args.name)
    } else {
        args.name.clone()
    }
}

/// The int8 quantisation of the student an earlier run of `--name` trained for `fold`.
fn quantized_student(args: &Args, fold: usize) -> anyhow::Result<PathBuf> {
    let dir = fold_models(args);
    let float = dir.join(format!("{}-fold{}.onnx", args.name, fold + 1));
    anyhow::ensure!(
        float.is_file(),
        "{} is missing: train the student first (the same command without --int8)",
        float.display()
    );
    let int8 = dir.join(format!("{}-fold{}.onnx", row_name(args), fold + 1));
    crate::quantize::file(&float, &int8)?;
    Ok(int8)
}

/// Trains and scores the student of one test fold (or fits the narrowed network's head);
/// returns the figures and the student's model file.
fn cross_validate_fold(
    args: &Args,
    corpus: &Corpus,
    probes: &BTreeMap<Network, Vec<ndarray::Array2<f32>>>,
    runtime: &Runtime,
    fold: usize,
) -> anyhow::Result<(Fold, Option<PathBuf>)> {
    let valid_fold = (fold + 1) % corpus.k;
    let test = corpus.fold(fold, true);
    let split = Split {
        train: (0..corpus.clips.len())
            .filter(|&c| corpus.folds[c] != fold && corpus.folds[c] != valid_fold)
            .collect(),
        valid: corpus.fold(valid_fold, true),
    };
    // A head fitted on the training clips, answering for the test clips.
    let settings = teacher_settings(args);
    let fit = |candidate: &Candidate| {
        cv::fit_and_predict(candidate, probes, corpus, &settings, &split.train, &test)
    };
    let (teacher, student, path) = if let Some(percent) = args.narrow {
        (
            fit(&teacher()),
            fit(&on(Network::MSD.narrowed(percent))),
            None,
        )
    } else {
        let (path, teacher) = if args.int8 {
            (quantized_student(args, fold)?, fit(&teacher()))
        } else {
            let name = format!("{}-fold{}", args.name, fold + 1);
            let out = fold_models(args);
            let (path, teacher) =
                train_student(args, corpus, probes, (split, test.clone()), (&name, &out))?;
            (path, test.iter().map(|&c| teacher[c].clone()).collect())
        };
        let clips: Vec<&Labelled> = test.iter().map(|&c| &corpus.clips[c]).collect();
        let student = student_answers(runtime, &path, &clips, args.threads)?;
        (teacher, student, Some(path))
    };
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
    if args.report_only {
        let runtime = Runtime::find(&repository_dirs())?;
        time_again(&args, &runtime)?;
        return write_table(&args.options.out, &runtime);
    }
    let (_, corpus) = args.corpus.load()?;
    anyhow::ensure!(
        !(args.export && args.narrow.is_some()),
        "--export trains a student; a narrowed network ships through `cargo xtask genre-v2 --narrow`"
    );
    anyhow::ensure!(
        !(args.export && args.int8),
        "--int8 measures a quantisation; it exports nothing"
    );
    anyhow::ensure!(
        !(args.int8 && args.narrow == Some(100)),
        "--narrow 100 is the teacher's own network, whose windows the teacher reads in float: \
         quantise a narrower one"
    );
    let mut probes = BTreeMap::new();
    let narrowed = args.narrow.map(|percent| Network::MSD.narrowed(percent));
    for network in std::iter::once(Network::MSD).chain(narrowed) {
        // With `--int8`, the narrowed network's windows come from its int8 graph.
        let int8 = args.int8 && network != Network::MSD;
        let rows = windows::probe_rows(
            network,
            int8,
            &args.corpus.weights,
            &corpus.clips,
            &args.windows,
            args.threads,
        )?;
        probes.insert(network, rows);
    }
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
        write_report(&args, &folds, path.as_deref(), &runtime)?;
    }
    println!(
        "teacher: acc {}, macro-F1 {} · student {}: acc {}, macro-F1 {} ({} folds)",
        figure(&folds, |f| f.teacher.accuracy),
        figure(&folds, |f| f.teacher.macro_f1),
        row_name(&args),
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

/// A shipped model's window graph, `models/<name>.onnx`: what `analyze` runs per window. The
/// teacher is [`model_report::DEFAULT_MODEL`]; [`model_report::FAST_MODEL`] is the `--narrow 10` row's
/// recipe trained on every clip (`cargo xtask genre-v2 --networks msd@10`).
fn shipped(name: &str) -> PathBuf {
    Path::new("models").join(format!("{name}.onnx"))
}

/// The full MSD musicnn tagger: what genre-v2's window graph ran before `--narrow`.
const FULL_NETWORK: &str = "models/msd-musicnn.onnx";

/// Writes `<out>/report/<name>.distill.json` with the figures so far and the cost of `model`,
/// the latest fold's student, then the table of every student.
fn write_report(
    args: &Args,
    folds: &[Fold],
    model: Option<&Path>,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let (family, cost) = match (args.narrow, model) {
        (Some(percent), _) => (
            format!("musicnn narrowed to {percent} %"),
            Cost::of_narrowed(runtime, percent, args.int8, &args.corpus.weights)?,
        ),
        (None, Some(model)) => (args.family.name().to_owned(), Cost::of(runtime, model)?),
        (None, None) => anyhow::bail!("a trained student has a model file"),
    };
    let family = if args.int8 {
        format!("{family}, int8")
    } else {
        family
    };
    let report = Report {
        student: row_name(args),
        family,
        temperature: args.temperature,
        label_weight: args.label_weight,
        folds: folds.to_vec(),
        cost,
        command: std::iter::once("cargo xtask".to_owned())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        narrow: args.narrow,
        int8: args.int8,
    };
    let dir = args.options.out.join("report");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.distill.json", row_name(args)));
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    write_table(&args.options.out, runtime)
}

/// A row of the table for a model that is not cross-validated here: its cost only.
fn reference_row(label: &str, cost: &Cost, teacher: Option<&Cost>) -> String {
    let against = teacher.map_or(String::new(), |t| {
        format!(" ({:.2}× the teacher)", cost.real_time() / t.real_time())
    });
    markdown::row([
        label.to_owned(),
        cost.parameters.unwrap_or(0).to_string(),
        cost.mflops(),
        format!("{:.2} + {:.2}", cost.features_ms, cost.model_ms),
        format!("{:.0}×{against}", cost.real_time()),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ])
}

/// How the students were trained and scored, as the table's introduction says it.
const PROTOCOL: &str =
    "Each student learns the genre-v2 teacher's answers (softened by the temperature T, \
    mixed with the share L of the same answer restricted to the genres the clip's labels \
    allow) with the augmentations of its command. 5-fold artist-grouped cross-validation \
    with `genre-v2`'s folds: per test fold, the next fold validates and the other three \
    train both the teacher's head and the student, so neither sees a test clip; the \
    teacher column is that teacher on the same test clips. Scores are of whole clips \
    through ONNX Runtime, as `analyze` runs them: single-genre accuracy / macro-F1, mean \
    ± std over the folds; agreement is how often the student's top genre is the \
    teacher's. The narrowed-musicnn rows (`--narrow`) train no network: the teacher's \
    recipe on MSD musicnn keeping that share of its front-end filters (the least important \
    taken out, `xtask/src/musicnn/narrow.rs`), its head fitted on the same training \
    clips; at 12 % it is the teacher (the shipped model runs it). Rows named `-int8` \
    (`--int8`) are ONNX Runtime's dynamic int8 quantisation (8-bit weights, activations \
    quantised per call, `xtask/src/quantize.rs`) of the row above: the same fold \
    students quantised, or the narrowed network's windows through its int8 graph with \
    the head fitted on them. MFLOPs: two per \
    multiply-add of the model's convolutions, matrix products and LSTMs, counted from \
    the shapes ONNX Runtime reports for one window. Cost: CPU per window on this \
    machine, one thread, measured in this run; real time = seconds of audio per \
    CPU-second for features and model (decoding excluded).\n\n";

/// Every student's `<name>.distill.json` in `dir`; one that cannot be read is left out with a
/// message.
fn read_reports(dir: &Path) -> anyhow::Result<Vec<Report>> {
    let mut reports: Vec<Report> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.to_string_lossy().ends_with(".distill.json") {
            continue;
        }
        // Another student's report must not stop this student's training.
        match std::fs::read_to_string(&path)
            .map_err(anyhow::Error::from)
            .and_then(|text| Ok(serde_json::from_str(&text)?))
        {
            Ok(report) => reports.push(report),
            Err(e) => eprintln!("{} left out of the table: {e}", path.display()),
        }
    }
    Ok(reports)
}

/// `models/report/distill.md` (and its section of `REPORT.md`): every student's
/// cross-validation beside the teacher's on the same folds, and the cost of each, measured
/// again now so that the ratios come from one run.
fn write_table(out: &Path, runtime: &Runtime) -> anyhow::Result<()> {
    let mut reports = read_reports(&out.join("report"))?;
    // A quantisation's row right below its float row.
    reports.sort_by(|a, b| (a.cost.parameters, &a.student).cmp(&(b.cost.parameters, &b.student)));
    let (teacher_model, fast_model) = (
        shipped(model_report::DEFAULT_MODEL),
        shipped(model_report::FAST_MODEL),
    );
    let teacher = Cost::of(runtime, &teacher_model)?;
    let mut md = String::from("## Distilled students (`cargo xtask distill`)\n\n");
    md += PROTOCOL;
    md += &markdown::header([
        "model",
        "parameters",
        "MFLOPs/window",
        "ms/window (features + model)",
        "× real time per core",
        "folds",
        "teacher acc / macro-F1",
        "student acc / macro-F1",
        "agreement",
        "T, L",
    ]);
    md += &reference_row(
        &format!(
            "genre-v2 teacher, as shipped (`{}`)",
            teacher_model.display()
        ),
        &teacher,
        None,
    );
    md += &reference_row(
        &format!("genre-v2-fast, as shipped (`{}`)", fast_model.display()),
        &Cost::of(runtime, &fast_model)?,
        Some(&teacher),
    );
    md += &reference_row(
        &format!("full MSD musicnn (`{FULL_NETWORK}`, the teacher's network before narrowing)"),
        &Cost::of(runtime, Path::new(FULL_NETWORK))?,
        Some(&teacher),
    );
    for r in &reports {
        let pair = |of: &dyn Fn(&Fold) -> &Scores| {
            format!(
                "{} / {}",
                figure(&r.folds, |f| of(f).accuracy),
                figure(&r.folds, |f| of(f).macro_f1)
            )
        };
        md += &markdown::row([
            format!("{} ({})", r.student, r.family),
            r.cost.parameters.unwrap_or(0).to_string(),
            r.cost.mflops(),
            format!("{:.2} + {:.2}", r.cost.features_ms, r.cost.model_ms),
            format!(
                "{:.0}× ({:.1}× the teacher)",
                r.cost.real_time(),
                r.cost.real_time() / teacher.real_time()
            ),
            r.folds.len().to_string(),
            pair(&|f| &f.teacher),
            pair(&|f| &f.student),
            figure(&r.folds, |f| f.agreement),
            if r.narrow.is_some() {
                "– (not trained)".to_owned()
            } else if r.int8 {
                "– (the float row's folds)".to_owned()
            } else {
                format!("{}, {}", r.temperature, r.label_weight)
            },
        ]);
    }
    md += "\nCommands:\n\n";
    for r in &reports {
        md += &format!("- `{}`\n", r.command);
    }
    Section::distill().write(out, &md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_soften_the_teacher_and_keep_the_labels_share_inside_the_clips_genres() {
        let answer = [0.7, 0.2, 0.1];
        let soft = target(&answer, &[0, 1, 2], 2.0, 0.0);
        assert!((soft.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(soft[0] < 0.7 && soft[2] > 0.1, "T = 2 flattens: {soft:?}");
        // The clip may only be genre 1 or 2: the label share goes there, renormalised.
        let mixed = target(&answer, &[1, 2], 1.0, 0.5);
        assert!((mixed.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((mixed[0] - 0.35).abs() < 1e-6, "{mixed:?}");
        assert!(
            (mixed[1] - (0.1 + 0.5 * 2.0 / 3.0)).abs() < 1e-6,
            "{mixed:?}"
        );
        // A teacher sure of a genre the labels exclude still leaves the labelled genres a share.
        let against = target(&[1.0, 0.0, 0.0], &[2], 1.0, 0.5);
        assert!((against[2] - 0.5).abs() < 1e-3, "{against:?}");
    }

    #[test]
    fn the_teacher_is_fitted_with_genre_v2s_default_settings() {
        let settings = crate::clap_defaults::<super::super::Args>().settings();
        assert_eq!(settings.grid, [1e-4, 1e-3, 1e-2]);
        assert_eq!(teacher().name(), "msd penultimate window-average logistic");
    }

    #[test]
    fn real_time_counts_the_hop_not_the_window() {
        let cost = Cost {
            parameters: Some(1),
            hop_seconds: 3.0,
            features_ms: 0.5,
            model_ms: 0.5,
            mflops: None,
        };
        assert!((cost.real_time() - 3000.0).abs() < 1e-9);
        assert_eq!(cost.mflops(), "–");
    }
}
