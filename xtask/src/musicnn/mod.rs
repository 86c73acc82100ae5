//! `cargo xtask musicnn`: the pre-trained musicnn taggers as ONNX models the plugin can run.
//!
//! - `export`: builds the ONNX graph from weights exported by `tools/musicnn/export_weights.py`
//!   (the one-off TensorFlow step) and writes `models/<name>.onnx` + `.json`;
//! - `check`: compares an exported model with the original musicnn's taggrams written by
//!   `tools/musicnn/reference_taggrams.py`: on musicnn's own input patches (the network port)
//!   and end to end from the audio through our feature code (the whole pipeline); `--fixture`
//!   also stores the reference taggrams for the CI parity test;
//! - `transfer`: a genre head trained on the frozen network's embeddings (`transfer.rs`);
//! - `finetune`: that head, then the whole network fine-tuned with it (`finetune.rs`).

pub mod finetune;
pub mod genre;
pub mod graph;
pub mod narrow;
pub mod net;
pub mod transfer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::Context;
use genrescope::features::{FeatureConfig, Preset};
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{
    analyze_file, GenreModel, ModelInput, ModelMetadata, OutputKind, Provider, Runtime,
    WindowCutter,
};
use ndarray::{Array2, Array3, Axis};
use ndarray_npy::read_npy;
use serde_json::json;

use crate::weights::Weights;
use genrescope::inference::runtime::repository_dirs;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Build `<out>/<name>.onnx` and `.json` from exported weights.
    Export {
        /// A folder written by `tools/musicnn/export_weights.py` (e.g. cache/musicnn/MSD_musicnn).
        #[arg(long)]
        weights: PathBuf,
        #[arg(long, default_value = "msd-musicnn")]
        name: String,
        #[arg(long, default_value = "models")]
        out: PathBuf,
    },
    /// Train a genre head on the frozen network's embeddings.
    Transfer(transfer::Args),
    /// The frozen stage, then the whole network fine-tuned with its head at a lower rate.
    Finetune(finetune::Args),
    /// Compare a model with the original musicnn's taggrams.
    Check {
        #[arg(long, default_value = "models/msd-musicnn.onnx")]
        model: PathBuf,
        /// A folder written by `tools/musicnn/reference_taggrams.py`.
        #[arg(long, default_value = "cache/musicnn/reference")]
        reference: PathBuf,
        /// Where the clips in the reference manifest live.
        #[arg(long, default_value_os_t = genrescope::research::music_dir())]
        root: PathBuf,
        /// Also write the reference taggrams as a test fixture (JSON) here.
        #[arg(long)]
        fixture: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Export { weights, name, out } => export(&weights, &name, &out),
        Command::Transfer(args) => transfer::run(args),
        Command::Finetune(args) => finetune::run(args),
        Command::Check {
            model,
            reference,
            root,
            fixture,
        } => check(&model, &reference, &root, fixture.as_deref()),
    }
}

fn export(dir: &Path, name: &str, out: &Path) -> anyhow::Result<()> {
    let weights = Weights::load(dir)?;
    let read_json = |file: &str| -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_str(
            &std::fs::read_to_string(dir.join(file)).with_context(|| {
                format!("{}: run tools/musicnn/export_weights.py", dir.display())
            })?,
        )?)
    };
    let tags: Vec<String> = serde_json::from_value(read_json("tags.json")?)?;
    anyhow::ensure!(tags.len() == graph::TAGS, "{} tags", tags.len());
    let provenance = read_json("provenance.json")?;
    let source = provenance["model"].as_str().unwrap_or("musicnn").to_owned();
    let onnx = graph::build(
        &weights,
        &format!("musicnn {source} (ISC), ported by genrescope"),
    )?;
    let metadata = ModelMetadata {
        format: FORMAT_VERSION,
        name: name.to_owned(),
        family: "musicnn".into(),
        labels: tags,
        input: ModelInput::Frames {
            features: FeatureConfig::preset(Preset::Musicnn),
            hop_frames: graph::FRAMES,
        },
        output: OutputKind::Sigmoid,
        calibration: Default::default(),
        context: None,
        training: json!({
            "source": "pre-trained weights of the PyPI package musicnn 0.1.0 (Jordi Pons, https://github.com/jordipons/musicnn), converted with tools/musicnn/export_weights.py and built into ONNX by `cargo xtask musicnn export`",
            "checkpoint": source,
            "provenance": provenance,
            "parameters": weights.parameters(),
            "patches": "187 frames (2.98 s) without overlap, as musicnn's extractor",
        }),
        metrics: json!({}),
        licence: format!(
            "ISC (musicnn 0.1.0, Copyright (c) 2019 Jordi Pons): permission to use, copy, \
             modify and distribute with the copyright and permission notice. {source} was \
             trained by its author on {} tags.",
            if source.starts_with("MSD") {
                "Million Song Dataset (last.fm)"
            } else {
                "MagnaTagATune"
            }
        ),
    };
    metadata
        .validate()
        .map_err(|e| anyhow::anyhow!("metadata: {e}"))?;
    std::fs::create_dir_all(out)?;
    let path = out.join(format!("{name}.onnx"));
    crate::train::write_model(&path, &onnx, &metadata)?;
    println!(
        "wrote {} ({} parameters, {:.1} MB)",
        path.display(),
        weights.parameters(),
        onnx.len() as f64 / 1e6
    );
    Ok(())
}

fn max_abs_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn check(
    model_path: &Path,
    reference: &Path,
    root: &Path,
    fixture: Option<&Path>,
) -> anyhow::Result<()> {
    if !root.is_dir() {
        return Err(crate::data::missing(root));
    }
    let runtime = Runtime::find(&repository_dirs())?;
    let mut model = GenreModel::load(&runtime, model_path, Provider::Cpu)?;
    let cutter = WindowCutter::new(&model.metadata.input)?;
    let checkpoint = model.metadata.training["checkpoint"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reference.join("manifest.json")).with_context(|| {
            format!(
                "{}: run tools/musicnn/reference_taggrams.py",
                reference.display()
            )
        })?,
    )?;
    let mut fixtures = Vec::new();
    println!(
        "{:<40} {:>8} {:>14} {:>14} {:>8}",
        "clip", "patches", "network |Δp|", "pipeline |Δp|", "top-3"
    );
    for entry in manifest["entries"].as_array().into_iter().flatten() {
        if entry["model"].as_str() != Some(checkpoint.as_str()) {
            continue;
        }
        let file = entry["file"].as_str().unwrap_or_default();
        let patches: Array3<f32> =
            read_npy(reference.join(entry["patches"]["path"].as_str().unwrap_or_default()))?;
        let expected: Array2<f32> =
            read_npy(reference.join(entry["taggram"]["path"].as_str().unwrap_or_default()))?;
        // The network alone, on musicnn's own input patches.
        let network = max_abs_diff(&model.probabilities(patches.view())?, &expected);
        // The whole pipeline: our decoding, resampling and features.
        let ours = analyze_file(&mut model, &cutter, &root.join(file))?;
        let n = ours.answers.nrows().min(expected.nrows());
        let pipeline = max_abs_diff(
            &ours.answers.slice(ndarray::s![..n, ..]).to_owned(),
            &expected.slice(ndarray::s![..n, ..]).to_owned(),
        );
        let top3 = |t: &Array2<f32>| {
            let mean = t.mean_axis(Axis(0)).expect("patches").to_vec();
            genrescope::inference::decision::ranked(&mean)[..3].to_vec()
        };
        let same = top3(&ours.answers) == top3(&expected);
        println!(
            "{file:<40} {:>3} / {:<3} {network:>14.2e} {pipeline:>14.2e} {:>8}",
            ours.answers.nrows(),
            expected.nrows(),
            if same { "same" } else { "differs" }
        );
        fixtures.push(json!({ "file": file, "taggram": expected.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>() }));
    }
    anyhow::ensure!(
        !fixtures.is_empty(),
        "no reference entries for {checkpoint}"
    );
    if let Some(path) = fixture {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let doc = json!({
            "generator": "tools/musicnn/reference_taggrams.py (original musicnn 0.1.0, TensorFlow), stored by `cargo xtask musicnn check --fixture`",
            "checkpoint": checkpoint,
            "versions": manifest["versions"],
            "clips": fixtures,
        });
        std::fs::write(path, serde_json::to_string(&doc)? + "\n")?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
