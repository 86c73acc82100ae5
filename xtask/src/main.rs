//! `cargo xtask`: project tasks (`cargo xtask --help` lists them with one line each).
//!
//! - `bundle`: builds the CLAP and VST3 bundles plus the standalone app into `target/bundled/`
//!   (other nice-plug commands such as `bundle-universal` pass straight through);
//! - `ort`: provisions the pinned ONNX Runtime library into `.ort/`;
//! - `demo`: writes the synthesised demo clip and runs the bundled `genrescope analyze` on it;
//! - `features`: dumps the features of an audio file as `.npy`;
//! - `bench-features`: times our feature extraction against librosa on the same clip;
//! - `dataset`: classes, clip counts and the artist-disjoint validation split of a dataset;
//! - `train`, `train-all`: trains the model families and exports them to ONNX in `models/`;
//! - `augment-study`: measures each train-time augmentation on the same validation split;
//! - `eval`: judges an exported model on labelled audio through ONNX Runtime;
//! - `genre-v2`: the pooled-context genre model, chosen by artist-grouped cross-validation;
//! - `invariance`: the same clips at other rates, channels, levels and codecs, same answers?
//! - `embed`: PCA and t-SNE maps and the genre similarity matrix of a model's clip embeddings;
//! - `musicnn`: the pre-trained musicnn taggers as ONNX models, and their parity check.
//!
//! Only `bundle`, `ort` and `demo` are always compiled. Every other command needs the `ml`
//! feature (a default feature), which brings in the plugin library and the training stack. The
//! `cargo xtask` alias builds without it, so that bundling never compiles burn; an xtask built
//! without `ml` still lists every command and runs the others again in one built with it
//! ([`relaunch`]).

mod bundle;
mod demo;
mod ort;
#[cfg_attr(feature = "ml", allow(dead_code))]
mod relaunch;

#[cfg(feature = "ml")]
mod aspects;
#[cfg(feature = "ml")]
mod bench_features;
#[cfg(feature = "ml")]
mod context;
#[cfg(feature = "ml")]
mod data;
#[cfg(feature = "ml")]
mod dataset_summary;
#[cfg(feature = "ml")]
mod efficientat;
#[cfg(feature = "ml")]
mod embed;
#[cfg(feature = "ml")]
mod eval;
#[cfg(feature = "ml")]
mod features;
#[cfg(feature = "ml")]
mod flops;
#[cfg(feature = "ml")]
mod invariance;
#[cfg(feature = "ml")]
mod markdown;
#[cfg(feature = "ml")]
mod metrics;
#[cfg(feature = "ml")]
mod model_report;
#[cfg(feature = "ml")]
mod musicnn;
#[cfg(feature = "ml")]
mod onnx;
#[cfg(feature = "ml")]
mod plot;
#[cfg(feature = "ml")]
mod quantize;
#[cfg(feature = "ml")]
mod timing;
#[cfg(feature = "ml")]
mod train;
#[cfg(feature = "ml")]
mod weights;
#[cfg(feature = "ml")]
mod window_level;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

/// The arguments of the commands that need the `ml` feature. Without it, each is
/// [`relaunch::Args`]: the command is listed with its description, and runs in an xtask built
/// with `ml`.
#[cfg(feature = "ml")]
mod ml {
    pub use crate::aspects::Args as Aspects;
    pub use crate::bench_features::Args as BenchFeatures;
    pub use crate::context::distill::Args as Distill;
    pub use crate::context::Args as GenreV2;
    pub use crate::dataset_summary::Args as Dataset;
    pub use crate::efficientat::Args as Efficientat;
    pub use crate::embed::Args as Embed;
    pub use crate::eval::Args as Eval;
    pub use crate::features::Args as Features;
    pub use crate::invariance::Args as Invariance;
    pub use crate::musicnn::Args as Musicnn;
    pub use crate::train::all::Args as TrainAll;
    pub use crate::train::study::Args as AugmentStudy;
    pub use crate::train::Args as Train;
    pub use crate::window_level::Args as WindowLevel;
}
#[cfg(not(feature = "ml"))]
mod ml {
    pub use crate::relaunch::Args as Aspects;
    pub use crate::relaunch::Args as BenchFeatures;
    pub use crate::relaunch::Args as Dataset;
    pub use crate::relaunch::Args as Distill;
    pub use crate::relaunch::Args as Efficientat;
    pub use crate::relaunch::Args as Embed;
    pub use crate::relaunch::Args as Eval;
    pub use crate::relaunch::Args as Features;
    pub use crate::relaunch::Args as GenreV2;
    pub use crate::relaunch::Args as Invariance;
    pub use crate::relaunch::Args as Musicnn;
    pub use crate::relaunch::Args as TrainAll;
    pub use crate::relaunch::Args as AugmentStudy;
    pub use crate::relaunch::Args as Train;
    pub use crate::relaunch::Args as WindowLevel;
}

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "genrescope project tasks",
    after_help = "`cargo xtask <command> --help` describes a command's options. The commands \
                  after `demo` build the training stack (burn) on first use."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the CLAP and VST3 plugins and the standalone app into target/bundled/.
    ///
    /// `cargo xtask bundle genrescope --release [--no-standalone]`: nice-plug's bundler, with
    /// the standalone app built too (unless `--no-standalone`) and ONNX Runtime provisioned
    /// into `.ort/` and copied beside every plugin binary.
    Bundle(bundle::Args),
    /// `bundle` as universal macOS binaries (x86_64 and arm64).
    BundleUniversal(bundle::Args),
    /// Download the pinned ONNX Runtime library into `.ort/` (tests and `eval` load it there).
    Ort(ort::Args),
    /// Write the demo clip and analyse it with the bundled `genrescope analyze`.
    Demo(demo::Args),
    /// Dump an audio file's features (a preset or a config file) as a frames × features `.npy`.
    Features(ml::Features),
    /// Time our log-mel and MFCC extraction against librosa's on the same clip.
    BenchFeatures(ml::BenchFeatures),
    /// Show a dataset's classes, clip counts and artist-disjoint split (optionally cache features).
    Dataset(ml::Dataset),
    /// Train one model family and export it to `models/<name>.onnx` with its `.json`.
    Train(ml::Train),
    /// Train every family on one split, evaluate each on the test clips, rebuild models/REPORT.md.
    TrainAll(ml::TrainAll),
    /// Train one family once per augmentation on the same validation split and compare them.
    AugmentStudy(ml::AugmentStudy),
    /// Evaluate an exported model on labelled audio through ONNX Runtime (accuracy, F1, plots).
    Eval(ml::Eval),
    /// Choose the pooled-context genre model by artist-grouped cross-validation; export it.
    GenreV2(ml::GenreV2),
    /// Teach a small student the genre-v2 teacher's answers; cross-validate both, export it.
    Distill(ml::Distill),
    /// The same clips at other rates, channels, levels and codecs: do the answers hold?
    Invariance(ml::Invariance),
    /// PCA and t-SNE maps and the genre similarity matrix of a model's clip embeddings.
    Embed(ml::Embed),
    /// The pre-trained musicnn: ONNX export, parity check, transfer learning and fine-tuning.
    Musicnn(ml::Musicnn),
    /// The pre-trained EfficientAT mn04 (AudioSet): ONNX export and parity check.
    Efficientat(ml::Efficientat),
    /// Fit the threshold above which mn04's AudioSet styles, instruments and voices are shown.
    Aspects(ml::Aspects),
    /// The research corpus's window levels as a network's front end sees them.
    WindowLevel(ml::WindowLevel),
    /// Any other command (`known-packages`, ...) goes to nice-plug's bundler.
    #[command(external_subcommand)]
    Bundler(Vec<String>),
}

fn main() -> anyhow::Result<()> {
    relaunch::forget_cargo_run_env();
    if asks_for_help_on_relaunched_command(std::env::args_os().skip(1)) {
        return relaunch::run();
    }
    match Cli::parse().command {
        Command::Bundle(args) => bundle::run("bundle", args),
        Command::BundleUniversal(args) => bundle::run("bundle-universal", args),
        Command::Ort(args) => ort::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Bundler(args) => bundle::run_nice_plug(args),
        #[cfg(feature = "ml")]
        Command::Features(args) => features::run(args),
        #[cfg(feature = "ml")]
        Command::BenchFeatures(args) => bench_features::run(args),
        #[cfg(feature = "ml")]
        Command::Dataset(args) => dataset_summary::run(args),
        #[cfg(feature = "ml")]
        Command::Train(args) => train::run(args),
        #[cfg(feature = "ml")]
        Command::TrainAll(args) => train::all::run(args),
        #[cfg(feature = "ml")]
        Command::AugmentStudy(args) => train::study::run(args),
        #[cfg(feature = "ml")]
        Command::Eval(args) => eval::run(args),
        #[cfg(feature = "ml")]
        Command::GenreV2(args) => context::run(args),
        #[cfg(feature = "ml")]
        Command::Distill(args) => context::distill::run(args),
        #[cfg(feature = "ml")]
        Command::Invariance(args) => invariance::run(args),
        #[cfg(feature = "ml")]
        Command::Embed(args) => embed::run(args),
        #[cfg(feature = "ml")]
        Command::Musicnn(args) => musicnn::run(args),
        #[cfg(feature = "ml")]
        Command::Efficientat(args) => efficientat::run(args),
        #[cfg(feature = "ml")]
        Command::WindowLevel(args) => window_level::run(args),
        #[cfg(feature = "ml")]
        Command::Aspects(args) => aspects::run(args),
        #[cfg(not(feature = "ml"))]
        _ => relaunch::run(),
    }
}

impl Command {
    /// Whether this build runs the command: without `ml`, only `bundle`, `ort` and `demo` (and
    /// nice-plug's other commands); the others are [`relaunch`]ed.
    fn runs_here(&self) -> bool {
        cfg!(feature = "ml")
            || matches!(
                self,
                Command::Bundle(_)
                    | Command::BundleUniversal(_)
                    | Command::Ort(_)
                    | Command::Demo(_)
                    | Command::Bundler(_)
            )
    }
}

/// `help <command>` about a command this build does not run: the help has to come from the
/// build that runs it (clap would describe the placeholder [`relaunch::Args`]).
fn asks_for_help_on_relaunched_command(args: impl IntoIterator<Item = OsString>) -> bool {
    let mut args = args.into_iter();
    if args.next().as_deref() != Some("help".as_ref()) {
        return false;
    }
    Cli::try_parse_from(std::iter::once(OsString::from("cargo xtask")).chain(args))
        .is_ok_and(|cli| !cli.command.runs_here())
}

/// The values a command line without arguments gives an options struct (every option must have
/// a default), so code that builds the options gets exactly the command's defaults.
#[cfg(feature = "ml")]
fn clap_defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("defaults"));
    T::from_arg_matches(&command.get_matches_from(["defaults"]))
        .expect("every option has a default")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_command_has_a_one_line_description() {
        let cli = Cli::command();
        let mut names = Vec::new();
        for command in cli.get_subcommands() {
            let about = command
                .get_about()
                .unwrap_or_else(|| panic!("`{}` has no description", command.get_name()))
                .to_string();
            assert!(!about.contains('\n'), "{about}");
            names.push(command.get_name().to_owned());
        }
        for name in [
            "bundle",
            "ort",
            "demo",
            "train",
            "eval",
            "genre-v2",
            "distill",
            "musicnn",
            "embed",
            "invariance",
        ] {
            assert!(
                names.iter().any(|n| n == name),
                "{name} missing from {names:?}"
            );
        }
    }

    #[test]
    fn only_help_on_a_command_built_elsewhere_is_relaunched() {
        let asks =
            |args: &[&str]| asks_for_help_on_relaunched_command(args.iter().map(OsString::from));
        // Without `ml`, `train` is built elsewhere; with it, everything runs here.
        assert_eq!(asks(&["help", "train"]), !cfg!(feature = "ml"));
        assert_eq!(
            asks(&["help", "musicnn", "transfer"]),
            !cfg!(feature = "ml")
        );
        assert!(!asks(&["help", "ort"]));
        assert!(!asks(&["help"]));
        assert!(!asks(&["train", "--help"]));
    }
}
