//! The model and data commands in an xtask built without the `ml` feature (what the
//! `cargo xtask` alias builds, so that bundling compiles neither the plugin library twice nor
//! the training stack): the same command line runs again in an xtask built with it,
//! `cargo run --package xtask [--release] --features ml -- <arguments>`. The first run compiles
//! the training stack; later ones find it built. Both builds are `target/<profile>/xtask`:
//! Cargo keeps the artifacts of each and links the one asked for, so switching between them
//! recompiles nothing.

use std::ffi::OsString;
use std::process::Command;

use anyhow::Context;

/// Stands for a command's arguments in an xtask built without `ml`: the command is listed (with
/// its description) and its whole command line goes to [`run`], `--help` included.
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct Args {
    /// The command's options: this xtask was built without the `ml` feature, so
    /// `cargo xtask <command> --help` lists them after building it with the feature.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    _args: Vec<String>,
}

/// Runs this process's command line in an xtask built with `ml` and exits with its status.
pub fn run() -> anyhow::Result<()> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let cargo_args = cargo_args(cfg!(debug_assertions), args);
    eprintln!(
        "note: this command needs xtask's `ml` feature: cargo {}",
        cargo_args
            .iter()
            .map(|arg| arg.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let status = Command::new(&cargo)
        .args(&cargo_args)
        .status()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    std::process::exit(status.code().unwrap_or(1));
}

/// `run --package xtask --release --features ml -- <args>`, without `--release` when this
/// xtask is a debug build (the relaunched one is built with the same profile).
fn cargo_args(debug: bool, args: Vec<OsString>) -> Vec<OsString> {
    let mut cargo_args: Vec<OsString> = vec!["run".into(), "--package".into(), "xtask".into()];
    if !debug {
        cargo_args.push("--release".into());
    }
    cargo_args.extend(["--features".into(), "ml".into(), "--".into()]);
    cargo_args.extend(args);
    cargo_args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_command_line_runs_unchanged_in_the_same_profile() {
        assert_eq!(
            cargo_args(false, strings(&["train", "labels.tsv", "--epochs", "3"])),
            strings(&[
                "run",
                "--package",
                "xtask",
                "--release",
                "--features",
                "ml",
                "--",
                "train",
                "labels.tsv",
                "--epochs",
                "3"
            ])
        );
        assert_eq!(
            cargo_args(true, strings(&["musicnn", "--help"])),
            strings(&[
                "run",
                "--package",
                "xtask",
                "--features",
                "ml",
                "--",
                "musicnn",
                "--help"
            ])
        );
    }
}
