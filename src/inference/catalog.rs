//! The models a user can pick: the default model embedded in the binary, and every model in the
//! per-user model folder (`<platform data dir>/genrescope/models`, e.g.
//! `~/.local/share/genrescope/models` on Linux).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::metadata::ModelMetadata;
use super::model::{GenreModel, ModelError};
use super::provider::Provider;
use super::runtime::Runtime;

/// The embedded default model (`models/mfcc-cnn.onnx`, see `models/REPORT.md` for how it was
/// trained and how it scores): the best model whose features and inference cost well under a
/// millisecond per window.
const BUILTIN_ONNX: &[u8] = include_bytes!("../../models/mfcc-cnn.onnx");
const BUILTIN_JSON: &str = include_str!("../../models/mfcc-cnn.json");

/// Which model the analysis runs; saved with the project.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "path")]
pub enum ModelChoice {
    /// The model embedded in the plugin binary.
    #[default]
    Builtin,
    /// An `.onnx` file with its `.json` metadata beside it.
    File(PathBuf),
}

impl ModelChoice {
    /// `default` (or `builtin`) names the embedded model, anything else a model file.
    pub fn parse(text: &str) -> Self {
        match text {
            "default" | "builtin" => Self::Builtin,
            path => Self::File(PathBuf::from(path)),
        }
    }

    /// Short name for pickers and reports.
    pub fn name(&self) -> String {
        match self {
            Self::Builtin => format!("{} (built-in)", builtin_metadata().name),
            Self::File(path) => path.file_stem().map_or_else(
                || path.display().to_string(),
                |s| s.to_string_lossy().into(),
            ),
        }
    }

    /// Loads the model on `provider` (or the CPU, see [`GenreModel::from_memory`]).
    pub fn load(&self, runtime: &Runtime, provider: Provider) -> Result<GenreModel, ModelError> {
        match self {
            Self::Builtin => {
                GenreModel::from_memory(runtime, BUILTIN_ONNX, builtin_metadata(), provider)
            }
            Self::File(path) => GenreModel::load(runtime, path, provider),
        }
    }
}

/// Metadata of the embedded model.
pub fn builtin_metadata() -> ModelMetadata {
    ModelMetadata::from_json(BUILTIN_JSON).expect("the embedded model's metadata is valid")
}

/// The per-user model folder, if the platform has a data directory.
pub fn user_models_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("genrescope").join("models"))
}

/// The built-in model followed by every `*.onnx` in `dir` that has its `.json` beside it,
/// sorted by file name. A missing or unreadable folder lists only the built-in model.
pub fn list(dir: Option<&Path>) -> Vec<ModelChoice> {
    let mut files: Vec<PathBuf> = dir
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            path.extension().is_some_and(|e| e == "onnx") && ModelMetadata::path_for(path).is_file()
        })
        .collect();
    files.sort();
    std::iter::once(ModelChoice::Builtin)
        .chain(files.into_iter().map(ModelChoice::File))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_metadata_matches_the_committed_model() {
        let metadata = builtin_metadata();
        metadata.validate().unwrap();
        assert!(metadata.labels.len() >= 2);
        assert!(!metadata.licence.is_empty());
    }

    #[test]
    fn lists_only_models_with_metadata() {
        let dir = std::env::temp_dir().join(format!("genrescope-catalog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "b.onnx",
            "b.json",
            "a.onnx",
            "a.json",
            "orphan.onnx",
            "notes.txt",
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let listed = list(Some(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            listed,
            vec![
                ModelChoice::Builtin,
                ModelChoice::File(dir.join("a.onnx")),
                ModelChoice::File(dir.join("b.onnx")),
            ]
        );
        assert_eq!(
            list(Some(Path::new("/nonexistent/genrescope"))),
            vec![ModelChoice::Builtin]
        );
    }

    #[test]
    fn parses_cli_names() {
        assert_eq!(ModelChoice::parse("default"), ModelChoice::Builtin);
        assert_eq!(
            ModelChoice::parse("models/crnn.onnx"),
            ModelChoice::File("models/crnn.onnx".into())
        );
        assert_eq!(ModelChoice::File("x/crnn.onnx".into()).name(), "crnn");
    }
}
