//! `cargo xtask features <audio> --config <json|preset> --out <file.npy>`: the features our code
//! computes for a whole file, for checking against librosa on any audio.

use std::path::PathBuf;

use anyhow::Context;
use genrescope::decode::decode_mono_at;
use genrescope::features::config::Preset;
use genrescope::features::descriptors::clip_summary;
use genrescope::features::{FeatureConfig, FeatureExtractor};

#[derive(clap::Args)]
pub struct Args {
    /// Audio file (WAV, AIFF, FLAC, Ogg Vorbis, MP3); resampled to the config's rate if needed.
    audio: PathBuf,
    /// A preset name (mfcc13, mfcc18, mfcc26, crnn-mfcc, logmel128, musicnn), a FeatureConfig
    /// JSON file, or `descriptors` for the 57-value GTZAN-table vector (at 22 050 Hz).
    #[arg(long)]
    config: String,
    /// Output `.npy` file: float32, frames × features (librosa's output transposed), or the
    /// descriptor vector.
    #[arg(long)]
    out: PathBuf,
}

/// Resolves `--config`: a preset name, else a path to a FeatureConfig JSON file.
pub fn load_config(config: &str) -> anyhow::Result<FeatureConfig> {
    if let Some(preset) = Preset::from_name(config) {
        return Ok(FeatureConfig::preset(preset));
    }
    let text = std::fs::read_to_string(config).with_context(|| {
        format!(
            "--config {config:?} is neither a preset ({}) nor a readable file",
            Preset::ALL.map(Preset::name).join(", ")
        )
    })?;
    let parsed: FeatureConfig =
        serde_json::from_str(&text).with_context(|| format!("{config} is not a FeatureConfig"))?;
    parsed.validate()?;
    Ok(parsed)
}

/// Rate the GTZAN descriptor table was computed at, in Hz.
const DESCRIPTOR_RATE: u32 = 22_050;

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.config == "descriptors" {
        return run_descriptors(&args);
    }
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

fn run_descriptors(args: &Args) -> anyhow::Result<()> {
    let audio = decode_mono_at(&args.audio, DESCRIPTOR_RATE)?;
    let columns = clip_summary(&audio.samples, DESCRIPTOR_RATE);
    let values: Vec<f32> = columns.iter().map(|(_, v)| *v).collect();
    ndarray_npy::write_npy(&args.out, &ndarray::Array1::from(values))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    for (name, value) in &columns {
        println!("{name:<24} {value}");
    }
    println!(
        "{}: {} descriptors -> {}",
        args.audio.display(),
        columns.len(),
        args.out.display()
    );
    Ok(())
}
