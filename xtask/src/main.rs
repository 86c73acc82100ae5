//! `cargo xtask`: project tasks.
//!
//! - `bundle`: builds the CLAP and VST3 bundles plus the standalone app into `target/bundled/`
//!   (other nice-plug commands such as `bundle-universal` pass straight through);
//! - `features`: dumps the features of an audio file as `.npy`;
//! - `bench-features`: times our feature extraction against librosa on the same clip;
//! - `dataset`: classes, clip counts and the artist-disjoint validation split of a dataset;
//! - `ort`: provisions the pinned ONNX Runtime library into `.ort/`;
//! - `train`, `train-all`: trains the model families and exports them to ONNX in `models/`;
//! - `augment-study`: measures each train-time augmentation on the same validation split;
//! - `eval`: judges an exported model on labelled audio through ONNX Runtime;
//! - `genre-v2`: the pooled-context genre model, chosen by artist-grouped cross-validation;
//! - `embed`: PCA and t-SNE maps and the genre similarity matrix of a model's clip embeddings;
//! - `musicnn`: the pre-trained musicnn taggers as ONNX models, and their parity check;
//! - `demo`: writes the synthesised demo clip and runs the bundled `genrescope analyze` on it.

mod bench_features;
mod bundle;
mod context;
mod data;
mod dataset_summary;
mod demo;
mod embed;
mod eval;
mod features;
mod metrics;
mod musicnn;
mod onnx;
mod ort;
mod plot;
mod train;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "genrescope project tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Features(features::Args),
    BenchFeatures(bench_features::Args),
    Dataset(dataset_summary::Args),
    Train(train::Args),
    TrainAll(train::all::Args),
    AugmentStudy(train::study::Args),
    Eval(eval::Args),
    /// The pooled-context genre model: corpus through the genre vocabulary, candidates
    /// cross-validated on artist-grouped folds, the best one exported.
    GenreV2(context::Args),
    /// PCA and t-SNE maps and the genre similarity matrix of a model's clip embeddings.
    Embed(embed::Args),
    Musicnn(musicnn::Args),
    /// Write the demo clip and analyse it with the bundled `genrescope analyze`.
    Demo(demo::Args),
    /// Download the pinned ONNX Runtime library into `.ort/` (tests and `eval` load it there).
    Ort(ort::Args),
    /// Any other command (`bundle`, `bundle-universal`, ...) is nice-plug's bundler.
    #[command(external_subcommand)]
    Bundler(Vec<String>),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Features(args) => features::run(args),
        Command::BenchFeatures(args) => bench_features::run(args),
        Command::Dataset(args) => dataset_summary::run(args),
        Command::Ort(args) => ort::run(args),
        Command::Train(args) => train::run(args),
        Command::TrainAll(args) => train::all::run(args),
        Command::AugmentStudy(args) => train::study::run(args),
        Command::Eval(args) => eval::run(args),
        Command::GenreV2(args) => context::run(args),
        Command::Embed(args) => embed::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Musicnn(args) => musicnn::run(args),
        Command::Bundler(args) => bundle::run(args),
    }
}

/// The values a command line without arguments gives an options struct (every option must have
/// a default), so code that builds the options gets exactly the command's defaults.
fn clap_defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("defaults"));
    T::from_arg_matches(&command.get_matches_from(["defaults"]))
        .expect("every option has a default")
}
