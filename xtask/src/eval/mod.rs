//! `cargo xtask eval`: runs an exported model through the plugin's own inference path (the
//! shared feature code, [`WindowCutter`] and ONNX Runtime — not burn) on labelled audio,
//! aggregates window probabilities per clip, and reports accuracy, macro-F1, per-class scores
//! and the confusion matrix as text, JSON, Markdown and PNG.

mod plots;
mod report;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use genrescope::inference::{
    analyze_file, GenreModel, ModelMetadata, Provider, Runtime, WindowCutter,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::dataset::{Clip, Dataset};
use crate::data::split::ListIndex;
use crate::metrics::{argmax, Confusion};
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

/// Where the ONNX Runtime library is looked for besides `ORT_DYLIB_PATH`.
pub fn runtime_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".ort")];
    dirs.extend(genrescope::inference::runtime::default_dirs());
    dirs
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = Runtime::find(&runtime_dirs())?;
    let metadata = ModelMetadata::load(&ModelMetadata::path_for(&args.model))?;
    // Fail early, before decoding anything, when the model is unusable.
    GenreModel::load(&runtime, &args.model, Provider::Cpu)?;
    let dataset = Dataset::load(&args.data)?;
    let clips: Vec<Clip> = match &args.list {
        Some(list) => {
            let (found, missing) = ListIndex::new(&dataset.clips).read(list)?;
            if !missing.is_empty() {
                println!(
                    "{} list entries have no clip (first: {})",
                    missing.len(),
                    missing[0]
                );
            }
            found
                .into_iter()
                .map(|i| dataset.clips[i].clone())
                .collect()
        }
        None => dataset.clips,
    };
    anyhow::ensure!(!clips.is_empty(), "no clips to evaluate");
    let results = evaluate(&runtime, &args.model, &clips, args.threads)?;
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

/// Per-clip results in clip order, on `threads` workers.
fn evaluate(
    runtime: &Runtime,
    model_path: &Path,
    clips: &[Clip],
    threads: Option<usize>,
) -> anyhow::Result<Vec<ClipResult>> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, clips.len());
    let bar = ProgressBar::new(clips.len() as u64).with_style(ProgressStyle::with_template(
        "eval {bar:40} {pos}/{len} clips, ETA {eta}",
    )?);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for worker in 0..threads {
            let (results, bar) = (&results, &bar);
            handles.push(scope.spawn(move || -> anyhow::Result<()> {
                let mut model = GenreModel::load(runtime, model_path, Provider::Cpu)?;
                let cutter = WindowCutter::new(&model.metadata.input)?;
                for index in (worker..clips.len()).step_by(threads) {
                    let outcome = analyze_file(&mut model, &cutter, &clips[index].path)
                        .map(|clip| clip.mean());
                    results.lock().unwrap().push((index, outcome));
                    bar.inc(1);
                }
                Ok(())
            }));
        }
        for handle in handles {
            handle.join().expect("eval worker panicked")?;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    Ok(results
        .into_iter()
        .map(|(i, outcome)| ClipResult {
            path: clips[i].path.clone(),
            labels: clips[i].labels.clone(),
            outcome,
        })
        .collect())
}

/// Clip-level confusion over the model's labels for the clips whose primary label it knows.
pub fn confusion(labels: &[String], results: &[ClipResult]) -> Confusion {
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    for r in results {
        if let (Ok(p), Some(t)) = (&r.outcome, labels.iter().position(|l| l == &r.labels[0])) {
            truth.push(t);
            predicted.push(argmax(p));
        }
    }
    Confusion::new(labels, &truth, &predicted)
}
