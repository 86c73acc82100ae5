//! `cargo xtask efficientat`: EfficientAT's `mn04_as` (a MobileNetV3 trained on AudioSet,
//! `../shared/networks/efficientat-mn04/`) as an ONNX model the plugin can run.
//!
//! - `export`: builds the graph (`net.rs`) from the weights `tools/efficientat/export_weights.py`
//!   writes and stores `<out>/<name>.onnx` + `.json`: input `[batch, frames, 128]` of
//!   [`Preset::EfficientAt`] features, output `[batch, 384 + 527]`, the embedding then the
//!   AudioSet logits;
//! - `check`: compares our front end and graph with the original implementation's outputs in
//!   `reference/*.npz` (`parity.rs`).

pub mod net;
pub mod parity;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use genrescope::features::{FeatureConfig, Preset};
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{ModelInput, ModelMetadata, OutputKind};
use serde_json::json;

use crate::onnx::Graph;
use crate::weights::Weights;

/// Where the network's files are (weights, licence, class list, reference outputs).
pub fn network_dir() -> PathBuf {
    genrescope::research::music_dir()
        .parent()
        .map_or_else(|| PathBuf::from("../shared"), Path::to_path_buf)
        .join("networks/efficientat-mn04")
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Build `<out>/<name>.onnx` and `.json` from exported weights.
    Export {
        /// A folder written by `tools/efficientat/export_weights.py`.
        #[arg(long, default_value = "cache/efficientat/mn04_as")]
        weights: PathBuf,
        #[arg(long, default_value = "mn04")]
        name: String,
        #[arg(long, default_value = "models")]
        out: PathBuf,
    },
    /// Compare our front end and graph with the original's reference outputs.
    Check {
        #[arg(long, default_value = "cache/efficientat/mn04_as")]
        weights: PathBuf,
        /// The folder of `clips.json` and `*.npz` (default: beside the research corpus).
        #[arg(long)]
        reference: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Export { weights, name, out } => export(&Weights::load(&weights)?, &name, &out),
        Command::Check { weights, reference } => {
            let reference = reference.unwrap_or_else(|| network_dir().join("reference"));
            let report = parity::check(&Weights::load(&weights)?, &reference)?;
            println!("{report}");
            report.ensure_within(parity::Tolerance::default())
        }
    }
}

/// The graph: `[B, frames, 128]` features → `[B, 911]`, the embedding then the logits.
pub fn graph(weights: &Weights, frames: usize) -> anyhow::Result<Vec<u8>> {
    let mut g = Graph::new();
    let values = net::export(&mut g, weights, "input")?;
    let row = g.node(
        "Concat",
        &[&values.embedding, &values.logits],
        vec![("axis", crate::onnx::graph::Attr::Int(1))],
    );
    let width = net::EMBEDDING + net::CLASSES;
    Ok(g.finish(
        ("input", &[None, Some(frames), Some(net::MELS)]),
        (&row, &[None, Some(width)]),
        "probabilities",
        "EfficientAT mn04_as (MIT, Florian Schmid), ported by genrescope: embedding + AudioSet logits",
    ))
}

/// The AudioSet class names in output order, from the network's `class_labels_indices.csv`.
pub fn class_names(dir: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("class_labels_indices.csv"))?;
    let names: Vec<String> = text
        .lines()
        .skip(1)
        .map(|line| {
            // index,mid,"display name" (names may hold commas inside the quotes)
            let name = line.splitn(3, ',').nth(2).unwrap_or_default();
            name.trim().trim_matches('"').to_owned()
        })
        .collect();
    anyhow::ensure!(names.len() == net::CLASSES, "{} classes", names.len());
    Ok(names)
}

fn export(weights: &Weights, name: &str, out: &Path) -> anyhow::Result<()> {
    let features = FeatureConfig::preset(Preset::EfficientAt);
    let onnx = graph(weights, features.frames)?;
    let dir = network_dir();
    let mut labels: Vec<String> = (0..net::EMBEDDING)
        .map(|i| format!("embedding-{i}"))
        .collect();
    labels.extend(class_names(&dir)?);
    let metadata = ModelMetadata {
        format: FORMAT_VERSION,
        name: name.to_owned(),
        family: "efficientat".into(),
        labels,
        input: ModelInput::Frames {
            hop_frames: features.frames,
            features,
        },
        output: OutputKind::Sigmoid,
        calibration: Default::default(),
        context: None,
        training: json!({
            "source": "EfficientAT mn04_as (github.com/fschmid56/EfficientAT, release v0.0.1, mn04_as_mAP_432.pt), converted with tools/efficientat/export_weights.py and built into ONNX by `cargo xtask efficientat export`",
            "parameters": weights.parameters(),
            "outputs": "384 embedding values (mean of the last feature maps), then 527 AudioSet logits (apply a sigmoid)",
        }),
        metrics: json!({}),
        licence: "MIT (EfficientAT, Copyright (c) 2022 Florian Schmid): keep the notice with \
                  the weights. Trained by its authors on AudioSet (mAP 0.432)."
            .into(),
    };
    metadata
        .validate()
        .map_err(|e| anyhow::anyhow!("metadata: {e}"))?;
    std::fs::create_dir_all(out)?;
    let path = out.join(format!("{name}.onnx"));
    crate::train::write_model(&path, &onnx, &metadata)?;
    println!("{} ({} parameters)", path.display(), weights.parameters());
    Ok(())
}
