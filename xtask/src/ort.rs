//! `cargo xtask ort`: provisions the ONNX Runtime shared library the plugin, `analyze`, `eval`
//! and the tests load at run time. It comes from the official `onnxruntime` wheel on PyPI
//! (pinned version, SHA-256 checked) and lands in `.ort/` (git-ignored), where
//! [`genrescope::inference::runtime`] finds it; `bundle` copies it beside the plugin.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// The ONNX Runtime version we ship (the `ort` crate's `api-31` needs ≥ 1.31).
pub const VERSION: &str = "1.32.0";

/// A pinned wheel: its path under PyPI's file host and the SHA-256 of the file.
struct Wheel {
    path: &'static str,
    sha256: &'static str,
}

/// The wheel for the platform xtask runs on (the CPython tag does not matter: the native
/// library inside is the same in every wheel of a platform).
fn wheel() -> anyhow::Result<Wheel> {
    Ok(match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Wheel {
            path: "1d/46/e6f356c9539d2eed44126de3421a81e217da2ad91b22dc11b379cb1e384f/onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl",
            sha256: "5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d",
        },
        ("linux", "aarch64") => Wheel {
            path: "b7/30/103820b32e9dc1d1fcfc5b519fd2de5bd699d25a25895caf5d726350d1b5/onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_aarch64.whl",
            sha256: "2303372a85299b6757b0e11e1cbf13e410ddf7e10c37f4b37e99d1c90e7daf7c",
        },
        ("macos", "aarch64") => Wheel {
            path: "b7/5d/50be370b540a6cb9ea173503f5418e8315dfe5757400ad7720542d348b94/onnxruntime-1.32.0-cp311-cp311-macosx_14_0_arm64.whl",
            sha256: "366b9e53d07812cc5c92822cecf7563b76a8a0f32ba3bb8dd232a206ac3bcb6c",
        },
        ("windows", "x86_64") => Wheel {
            path: "07/ff/c797464da311c580ec477077a5c65d7841599a46c35392b5978c0a5ae9a4/onnxruntime-1.32.0-cp311-cp311-win_amd64.whl",
            sha256: "d7e0c45cc5f456ad7805e6dd256a7662736cda9c2fd17becae194eb3c2f6df72",
        },
        (os, arch) => bail!(
            "no pinned ONNX Runtime wheel for {os}/{arch}; put the library in .ort/ or set ORT_DYLIB_PATH"
        ),
    })
}

#[derive(clap::Args)]
pub struct Args {
    /// Folder to put the library in.
    #[arg(long, default_value = ".ort")]
    dest: PathBuf,
    /// Use this already downloaded wheel instead of PyPI (its checksum is still verified).
    #[arg(long)]
    wheel: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let path = provision(&args.dest, args.wheel.as_deref())?;
    println!("ONNX Runtime {VERSION}: {}", path.display());
    Ok(())
}

/// Makes sure `dest` holds the pinned library; returns its path. Does nothing when it is
/// already there (a version stamp beside it says which version it is).
pub fn provision(dest: &Path, wheel_file: Option<&Path>) -> anyhow::Result<PathBuf> {
    let library = dest.join(library_file_name());
    let stamp = dest.join("VERSION");
    if library.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(VERSION) {
        return Ok(library);
    }
    let pinned = wheel()?;
    let url = format!("https://files.pythonhosted.org/packages/{}", pinned.path);
    let bytes = match wheel_file {
        Some(file) => {
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?
        }
        None => download(&url)?,
    };
    let digest = format!("{:x}", Sha256::digest(&bytes));
    if digest != pinned.sha256 {
        bail!(
            "checksum mismatch for {url}: expected {}, got {digest}",
            pinned.sha256
        );
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("not a wheel")?;
    // `onnxruntime/capi/libonnxruntime.so.1.32.0`, `libonnxruntime.1.32.0.dylib`,
    // `onnxruntime.dll`.
    let stem = format!("{}onnxruntime", std::env::consts::DLL_PREFIX);
    let member = archive
        .file_names()
        .find(|name| {
            name.strip_prefix("onnxruntime/capi/").is_some_and(|file| {
                file.starts_with(&format!("{stem}."))
                    && file.contains(std::env::consts::DLL_EXTENSION)
            })
        })
        .map(str::to_owned)
        .context("the wheel holds no ONNX Runtime library")?;
    let mut data = Vec::new();
    archive.by_name(&member)?.read_to_end(&mut data)?;
    std::fs::create_dir_all(dest)?;
    let partial = library.with_extension("part");
    std::fs::write(&partial, &data)?;
    std::fs::rename(&partial, &library)?;
    std::fs::write(&stamp, VERSION)?;
    Ok(library)
}

/// File name of the library on this platform: the name
/// [`genrescope::inference::runtime::library_file_name`] looks for (xtask's light build, which
/// bundles, does not link the plugin library).
pub fn library_file_name() -> String {
    format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    eprintln!("downloading {url}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .into();
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    Ok(response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()?)
}

#[cfg(all(test, feature = "ml"))]
mod tests {
    #[test]
    fn the_library_is_where_the_plugin_looks() {
        assert_eq!(
            super::library_file_name(),
            genrescope::inference::runtime::library_file_name()
        );
    }
}
