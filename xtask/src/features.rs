//! `cargo xtask features <audio> --config <json|preset> --out <file.npy>`: the features our code
//! computes for a whole file, for checking against librosa on any audio.

use std::path::PathBuf;

use anyhow::Context;
use genrescope::decode::decode_mono_at;
use genrescope::features::config::PRESETS;
use genrescope::features::{FeatureConfig, FeatureExtractor};

#[derive(clap::Args)]
pub struct Args {
    /// Audio file (WAV, AIFF, FLAC, Ogg Vorbis, MP3); resampled to the config's rate if needed.
    audio: PathBuf,
    /// A preset name (mfcc13, mfcc18, mfcc26, crnn-mfcc, logmel128, musicnn) or a FeatureConfig
    /// JSON file.
    #[arg(long)]
    config: String,
    /// Output `.npy` file: float32, frames × features (librosa's output transposed).
    #[arg(long)]
    out: PathBuf,
}

/// Resolves `--config`: a preset name, else a path to a FeatureConfig JSON file.
pub fn load_config(config: &str) -> anyhow::Result<FeatureConfig> {
    if let Some(preset) = FeatureConfig::preset(config) {
        return Ok(preset);
    }
    let text = std::fs::read_to_string(config).with_context(|| {
        format!(
            "--config {config:?} is neither a preset ({}) nor a readable file",
            PRESETS.join(", ")
        )
    })?;
    let parsed: FeatureConfig =
        serde_json::from_str(&text).with_context(|| format!("{config} is not a FeatureConfig"))?;
    parsed.validate()?;
    Ok(parsed)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = load_config(&args.config)?;
    let audio = decode_mono_at(&args.audio, config.sample_rate)?;
    let features = FeatureExtractor::new(&config)?.extract(&audio.samples);
    ndarray_npy::write_npy(&args.out, &features)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{}: {:.2} s at {} Hz -> {} frames x {} {:?} features -> {}",
        args.audio.display(),
        audio.seconds(),
        config.sample_rate,
        features.nrows(),
        features.ncols(),
        config.kind,
        args.out.display()
    );
    if audio.skipped_packets > 0 {
        eprintln!(
            "warning: {} corrupt packets were skipped",
            audio.skipped_packets
        );
    }
    Ok(())
}
