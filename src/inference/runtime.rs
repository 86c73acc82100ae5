//! Loading the ONNX Runtime shared library at run time (`ort`'s `load-dynamic`): nothing is
//! linked at build time, so a missing or too-old library is an error message, never a crash.
//!
//! The library is looked for in `ORT_DYLIB_PATH`, then in the folders the caller names (beside
//! the plugin binary, the repository's `.ort/` folder written by `cargo xtask ort`, ...).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::Error;
use ort::environment::Environment;

/// File name of the library on this platform (`libonnxruntime.so`, `.dylib`, `onnxruntime.dll`).
pub fn library_file_name() -> String {
    format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Folder of the binary this code was loaded from: the `.clap`/VST3 module inside a host, the
/// executable for the standalone app and the CLI. The bundle puts ONNX Runtime there.
pub fn module_dir() -> Option<PathBuf> {
    #[cfg(unix)]
    {
        // SAFETY: `dladdr` only reads the loader's tables; `dli_fname` is a NUL-terminated path
        // owned by the loader that stays valid while this module is loaded (we copy it at once).
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let address = module_dir as *const libc::c_void;
            if libc::dladdr(address, &mut info) != 0 && !info.dli_fname.is_null() {
                let name = std::ffi::CStr::from_ptr(info.dli_fname).to_string_lossy();
                let path = PathBuf::from(name.as_ref());
                // The main executable may be reported by bare name; resolve it like the loader.
                let path = if path.is_absolute() {
                    path
                } else {
                    std::env::current_exe().ok()?
                };
                return path.parent().map(Path::to_owned);
            }
        }
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_owned))
}

/// Where the plugin, the standalone app and the CLI look for ONNX Runtime after
/// `ORT_DYLIB_PATH`: beside their own binary.
pub fn default_dirs() -> Vec<PathBuf> {
    module_dir().into_iter().collect()
}

/// Where the tools and tests of this repository look for ONNX Runtime after `ORT_DYLIB_PATH`:
/// the repository's `.ort/` (`cargo xtask ort` provisions it), then beside their own binary.
pub fn repository_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(".ort")];
    dirs.extend(default_dirs());
    dirs
}

/// ONNX Runtime for this repository's tests and tools ([`repository_dirs`]); panics with what
/// to run when it is missing.
pub fn for_tests() -> Runtime {
    Runtime::find(&repository_dirs()).unwrap_or_else(|e| panic!("{e}"))
}

/// The first existing library among `ORT_DYLIB_PATH` and `dirs`.
pub fn locate(dirs: &[PathBuf]) -> Option<PathBuf> {
    let from_env = std::env::var_os("ORT_DYLIB_PATH")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    from_env
        .into_iter()
        .chain(dirs.iter().map(|d| d.join(library_file_name())))
        .find(|p| p.is_file())
}

/// A loaded ONNX Runtime. Cheap to clone; one per process (the library can only be loaded once,
/// so later loads return the first one whatever path they name).
#[derive(Clone)]
pub struct Runtime {
    pub(crate) environment: Environment,
    /// The library file in use.
    pub library: PathBuf,
}

static RUNTIME: OnceLock<Result<Runtime, Error>> = OnceLock::new();

impl Runtime {
    /// Loads the library at `library` (first call) or returns the runtime already loaded.
    /// Fails with a readable message when the file is missing, is not ONNX Runtime, or is older
    /// than the 1.31 API this build needs.
    pub fn load(library: &Path) -> Result<Self, Error> {
        RUNTIME
            .get_or_init(|| {
                // NOTE: ONNX Runtime starts process-wide helper threads when it loads. Threads
                // inherit their creator's name on Linux, so loading happens on a thread of its
                // own: the helpers are then named `genrescope-ort`, not after the analysis
                // worker (or a host thread) that happened to load the library first.
                let library = library.to_owned();
                std::thread::Builder::new()
                    .name("genrescope-ort".into())
                    .spawn(move || Self::init(&library))
                    .map_err(|e| Error::Runtime(format!("cannot start a thread: {e}")))?
                    .join()
                    .unwrap_or_else(|_| {
                        Err(Error::Runtime("ONNX Runtime panicked while loading".into()))
                    })
            })
            .clone()
    }

    fn init(library: &Path) -> Result<Self, Error> {
        if !library.is_file() {
            return Err(Error::Runtime(format!(
                "ONNX Runtime not found at {}: set ORT_DYLIB_PATH to an ONNX Runtime 1.31 or \
                 newer library (`cargo xtask ort` in the genrescope repository downloads one \
                 into .ort/)",
                library.display()
            )));
        }
        let builder = ort::init_from(library)
            .map_err(|e| Error::Runtime(format!("cannot load ONNX Runtime: {e}")))?;
        let environment = builder
            .with_name("genrescope")
            .build()
            .map_err(|e| Error::Runtime(format!("ONNX Runtime failed to start: {e}")))?;
        Ok(Runtime {
            environment,
            library: library.to_owned(),
        })
    }

    /// The runtime already loaded in this process, else [`locate`] then [`Runtime::load`].
    pub fn find(dirs: &[PathBuf]) -> Result<Self, Error> {
        if let Some(Ok(runtime)) = RUNTIME.get() {
            return Ok(runtime.clone());
        }
        match locate(dirs) {
            Some(path) => Self::load(&path),
            None => Err(Error::Runtime(format!(
                "ONNX Runtime ({}) not found in ORT_DYLIB_PATH or {}: {}",
                library_file_name(),
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                how_to_provide(dirs)
            ))),
        }
    }
}

/// What to run so that [`Runtime::find`] finds the library in one of `dirs`: `cargo xtask ort`
/// for the repository's `.ort/` (tests, `cargo xtask eval`), else (a plugin or app binary's
/// folder) a bundle, which puts it beside the binaries, or `ORT_DYLIB_PATH`.
fn how_to_provide(dirs: &[PathBuf]) -> String {
    if dirs
        .iter()
        .any(|d| d.file_name().is_some_and(|n| n == ".ort"))
    {
        "run `cargo xtask ort` in the genrescope repository".to_owned()
    } else {
        format!(
            "run `cargo xtask bundle genrescope --release` in the genrescope repository (it puts \
             the library beside the bundled plugin and app in target/bundled/), or run \
             `cargo xtask ort` there and set ORT_DYLIB_PATH=<repository>/.ort/{}",
            library_file_name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_only_returns_existing_files() {
        if std::env::var_os("ORT_DYLIB_PATH").is_none() {
            assert_eq!(locate(&[PathBuf::from("/nonexistent/genrescope")]), None);
        }
        let dir = std::env::temp_dir().join(format!("genrescope-locate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(library_file_name()), b"").unwrap();
        let found = locate(&[PathBuf::from("/nonexistent"), dir.clone()]);
        std::fs::remove_dir_all(&dir).unwrap();
        if std::env::var_os("ORT_DYLIB_PATH").is_none() {
            assert_eq!(found, Some(dir.join(library_file_name())));
        }
    }

    #[test]
    fn a_missing_runtime_says_what_to_run() {
        assert!(how_to_provide(&[PathBuf::from("repo/.ort")]).contains("`cargo xtask ort`"));
        let beside_plugin = how_to_provide(&[PathBuf::from("/home/me/.clap")]);
        assert!(beside_plugin.contains("`cargo xtask bundle genrescope --release`"));
        assert!(beside_plugin.contains("ORT_DYLIB_PATH"));
    }

    #[test]
    fn module_dir_is_the_folder_of_the_running_binary() {
        // Unit tests link this crate into the test executable, so the module is the executable.
        let exe_dir = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .to_owned();
        assert_eq!(
            module_dir().unwrap().canonicalize().unwrap(),
            exe_dir.canonicalize().unwrap()
        );
    }
}
