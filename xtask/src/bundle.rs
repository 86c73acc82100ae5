//! `bundle`: nice-plug's bundler, with the standalone application built too and the ONNX
//! Runtime library placed beside every plugin binary.

use std::path::{Path, PathBuf};

/// Opts a `bundle` out of building the standalone application (and its ALSA/JACK headers).
const NO_STANDALONE: &str = "--no-standalone";

/// Where nice-plug's bundler writes the bundles: `bundled/` in Cargo's target folder, which
/// `CARGO_TARGET_DIR` moves (the bundler asks Cargo, so it follows the variable too).
fn bundled_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("bundled")
}

/// `bundle` and `bundle-universal`: nice-plug's syntax, plus `--no-standalone`.
#[derive(clap::Args)]
pub struct Args {
    /// The package to bundle (`genrescope`), then `cargo build` options (`--release`,
    /// `--profile <name>`, `--target <triple>`, ...) and `--no-standalone` (skips the
    /// standalone app, and with it the ALSA and JACK headers).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Runs `command` (`bundle` or `bundle-universal`) with its arguments.
pub fn run(command: &str, args: Args) -> anyhow::Result<()> {
    run_nice_plug(
        std::iter::once(command.to_owned())
            .chain(args.args)
            .collect(),
    )
}

/// Runs a nice-plug bundler command line (the command first).
pub fn run_nice_plug(args: Vec<String>) -> anyhow::Result<()> {
    let bundling = args.first().is_some_and(|cmd| cmd.starts_with("bundle"));
    nice_plug_xtask::main_with_args("cargo xtask", with_standalone(args))?;
    if bundling {
        // The bundles work without it (the editor then says ONNX Runtime is missing), so a
        // failed download is a warning, not a failed bundle.
        match crate::ort::provision(Path::new(".ort"), None) {
            Ok(library) => {
                for copy in install_runtime(&library, &bundled_dir())? {
                    println!("ONNX Runtime {}: {}", crate::ort::VERSION, copy.display());
                }
            }
            Err(e) => eprintln!("warning: ONNX Runtime not bundled: {e:#}"),
        }
    }
    Ok(())
}

/// Copies the ONNX Runtime library next to every binary in `bundled`: the folder itself (the
/// Linux/Windows `.clap` file and the standalone app) and each binary folder inside `.vst3` and
/// `.clap` bundles (`Contents/x86_64-linux`, `Contents/MacOS`, ...). Returns the copies.
fn install_runtime(library: &Path, bundled: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let name = library.file_name().expect("library file name");
    let mut targets = vec![bundled.to_owned()];
    for entry in std::fs::read_dir(bundled)? {
        let path = entry?.path();
        let is_bundle = path.is_dir()
            && path
                .extension()
                .is_some_and(|ext| ext == "vst3" || ext == "clap");
        if !is_bundle {
            continue;
        }
        for binary_dir in std::fs::read_dir(path.join("Contents"))? {
            let dir = binary_dir?.path();
            if dir.is_dir() && dir.file_name().is_some_and(|n| n != "Resources") {
                targets.push(dir);
            }
        }
    }
    targets
        .into_iter()
        .map(|dir| {
            let copy = dir.join(name);
            std::fs::copy(library, &copy)?;
            Ok(copy)
        })
        .collect()
}

/// For `bundle`, enables the plugin's `standalone` feature so that the standalone binary (which
/// requires it) is built and bundled next to the plugins. The plugin library itself does not
/// link ALSA or JACK either way.
fn with_standalone(mut args: Vec<String>) -> Vec<String> {
    let opted_out = args.iter().any(|arg| arg == NO_STANDALONE);
    args.retain(|arg| arg != NO_STANDALONE);
    if args.first().is_some_and(|cmd| cmd == "bundle") && !opted_out {
        args.extend(["--features".to_owned(), "standalone".to_owned()]);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn the_runtime_lands_beside_every_plugin_binary() {
        let dir = std::env::temp_dir().join(format!("genrescope-bundle-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let bundled = dir.join("bundled");
        for sub in [
            "genrescope.vst3/Contents/x86_64-linux",
            "genrescope.vst3/Contents/Resources",
            "other.vst3/Contents/MacOS",
        ] {
            std::fs::create_dir_all(bundled.join(sub)).unwrap();
        }
        std::fs::write(bundled.join("genrescope.clap"), b"plugin").unwrap();
        let library = dir.join("libonnxruntime.so");
        std::fs::write(&library, b"runtime").unwrap();

        let mut copies = install_runtime(&library, &bundled).unwrap();
        copies.sort();
        let expected: Vec<_> = [
            "libonnxruntime.so",
            "genrescope.vst3/Contents/x86_64-linux/libonnxruntime.so",
            "other.vst3/Contents/MacOS/libonnxruntime.so",
        ]
        .iter()
        .map(|p| bundled.join(p))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
        assert_eq!(copies, expected);
        for copy in &copies {
            assert_eq!(std::fs::read(copy).unwrap(), b"runtime");
        }
        assert!(!bundled
            .join("genrescope.vst3/Contents/Resources/libonnxruntime.so")
            .exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bundle_builds_the_standalone_unless_opted_out() {
        assert_eq!(
            with_standalone(strings(&["bundle", "genrescope", "--release"])),
            strings(&[
                "bundle",
                "genrescope",
                "--release",
                "--features",
                "standalone"
            ])
        );
        assert_eq!(
            with_standalone(strings(&["bundle", "genrescope", "--no-standalone"])),
            strings(&["bundle", "genrescope"])
        );
        assert_eq!(
            with_standalone(strings(&["known-packages"])),
            strings(&["known-packages"])
        );
    }
}
