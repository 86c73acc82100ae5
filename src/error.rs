//! The library's one error type. Every failure a user can meet (a feature configuration, a
//! model's metadata or graph, the ONNX Runtime library, an audio file, the genre vocabulary) is
//! an [`Error`] whose message says what went wrong and, where it helps, what to do about it.

use std::path::{Path, PathBuf};

/// What went wrong, by the part of genrescope that found it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A feature configuration that cannot be computed (a model's input description).
    #[error("invalid feature configuration: {0}")]
    Config(String),
    /// A model's metadata (`model.json`) that is unreadable or inconsistent.
    #[error("{0}")]
    Metadata(String),
    /// The ONNX Runtime library: missing, unloadable or too old.
    #[error("{0}")]
    Runtime(String),
    /// A model graph that does not load or run, or does not match its metadata.
    #[error("{0}")]
    Model(String),
    /// An audio file with no usable audio.
    #[error("cannot decode {}: {reason}", path.display())]
    Decode { path: PathBuf, reason: String },
    /// A file whose tags cannot be written (`genrescope tag`); the file is never touched when
    /// this is returned.
    #[error("{0}")]
    Tag(String),
    /// The genre vocabulary (`models/genres.toml` or a user's own), or a label it lacks.
    #[error("{0}")]
    Vocabulary(String),
}

impl Error {
    /// The message without the file's name, for reports that already name the file.
    pub fn reason(&self) -> String {
        match self {
            Error::Decode { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }

    /// Reads the vocabulary file `path` (`genres.toml`, `audioset.toml` or a user's own) and
    /// parses it with `parse`; either failure is an [`Error::Vocabulary`] naming the file.
    pub fn load_vocabulary<T>(
        path: &Path,
        parse: impl FnOnce(&str) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Vocabulary(format!("cannot read {}: {e}", path.display())))?;
        parse(&text).map_err(|e| Error::Vocabulary(format!("{}: {e}", path.display())))
    }
}

/// `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
