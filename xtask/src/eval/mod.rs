//! `cargo xtask eval`: runs an exported model through the plugin's own inference path (the
//! shared feature code, [`FileAnalyzer`] and ONNX Runtime — not burn) on labelled audio,
//! aggregates window probabilities per clip, and reports accuracy, macro-F1, per-class scores
//! and the confusion matrix as text, JSON, Markdown and PNG.

pub(crate) mod clips;
pub mod plots;
mod report;

use genrescope::inference::runtime::repository_dirs;
use std::path::PathBuf;

use genrescope::inference::{FileAnalyzer, GenreModel, ModelMetadata, Provider, Runtime};

use crate::metrics::{argmax, Confusion};
use clips::{map_clips, select_clips};
use report::{ClipResult, Report};

#[derive(clap::Args)]
pub struct Args {
    /// The `.onnx` model (its `.json` metadata beside it).
    #[arg(long)]
    pub model: PathBuf,
    /// A `<label>/<file>` folder tree or a labels table.
    #[arg(long)]
    pub data: PathBuf,
    /// Only the clips this list file names (e.g. GTZAN's `test_filtered.txt`).
    #[arg(long)]
    pub list: Option<PathBuf>,
    /// Report folder (default: `reports/<model name>`).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Worker threads (default: all cores), each with its own single-threaded session.
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = Runtime::find(&repository_dirs())?;
    let metadata = ModelMetadata::load(&ModelMetadata::path_for(&args.model))?;
    // Fail early, before decoding anything, when the model is unusable.
    GenreModel::load(&runtime, &args.model, Provider::Cpu)?;
    let clips = select_clips(&args.data, args.list.as_deref())?;
    let outcomes = map_clips(
        &clips,
        args.threads,
        "eval",
        || {
            let model = GenreModel::load(&runtime, &args.model, Provider::Cpu)?;
            Ok(FileAnalyzer::new(model)?)
        },
        |analyzer, clip| {
            analyzer
                .analyze(&clip.path)
                .map(|c| c.summary)
                .map_err(|e| e.reason())
        },
    )?;
    let results: Vec<ClipResult> = clips
        .into_iter()
        .zip(outcomes)
        .map(|(clip, outcome)| ClipResult {
            path: clip.path,
            labels: clip.labels,
            outcome,
        })
        .collect();
    let report = Report::new(&metadata, &args, &results);
    report.print();
    let dir = args
        .report
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&metadata.name));
    report.write(&dir, &metadata)?;
    println!("report written to {}", dir.display());
    Ok(())
}

/// The model label a dataset label stands for: the same label, or one that means the same
/// genre in the genre vocabulary (`hiphop` is a `hip-hop` model's label).
pub fn model_label(labels: &[String], label: &str) -> Option<usize> {
    let vocabulary = genrescope::genres::Vocabulary::builtin();
    labels.iter().position(|l| l == label).or_else(|| {
        let meaning = vocabulary.meaning(label)?;
        labels
            .iter()
            .position(|l| vocabulary.meaning(l) == Some(meaning))
    })
}

/// Clip-level confusion over the model's labels for the clips whose primary label it knows.
pub fn confusion(labels: &[String], results: &[ClipResult]) -> Confusion {
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    for r in results {
        if let (Ok(p), Some(t)) = (&r.outcome, model_label(labels, &r.labels[0])) {
            truth.push(t);
            predicted.push(argmax(p));
        }
    }
    Confusion::new(labels, &truth, &predicted)
}
