//! The one feature-extraction implementation, shared by the plugin, the CLI and training:
//! STFT power spectra, mel filterbanks, dB conversion, MFCC and musicnn's input, matching
//! librosa (see `tests/librosa_parity.rs`), and EfficientAT's input, matching its PyTorch front
//! end (`tests/efficientat_parity.rs`).

pub mod chroma;
pub mod config;
pub mod db;
pub mod dct;
pub mod descriptors;
pub mod emphasis;
pub mod extractor;
pub mod hpss;
pub mod level;
pub mod limit;
mod linalg;
pub mod log;
pub mod mel;
pub mod stft;
pub mod tempo;

pub use config::{FeatureConfig, FeatureKind, Normalization, Preset};
pub use extractor::{FeatureExtractor, FrameStream};
pub use level::Level;
