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

/// Removes from this process's environment what `cargo run` sets for the program it runs (the
/// package's manifest folder, name, version, ...), before this xtask runs cargo itself (here,
/// and nice-plug's bundler): a build script that tracks one of them (ring's tracks
/// `CARGO_MANIFEST_DIR`) would otherwise see it change between the outer and the inner cargo,
/// and each would rebuild what the other built.
pub fn forget_cargo_run_env() {
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_set_by_cargo_run) {
            // Edition 2021: safe; called first thing in `main`, before any thread starts.
            std::env::remove_var(name);
        }
    }
}

/// Whether `cargo run` sets the variable for the program (`CARGO` stays: it is the cargo to run).
fn is_set_by_cargo_run(name: &str) -> bool {
    matches!(
        name,
        "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_CRATE_NAME"
            | "CARGO_BIN_NAME"
            | "CARGO_PRIMARY_PACKAGE"
    ) || name.starts_with("CARGO_PKG_")
}

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
    fn only_what_cargo_run_sets_is_forgotten() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
        ] {
            assert!(is_set_by_cargo_run(name), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_TARGET_DIR",
            "CARGO_HOME",
            "CARGO_NET_OFFLINE",
            "PATH",
        ] {
            assert!(!is_set_by_cargo_run(name), "{name}");
        }
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
