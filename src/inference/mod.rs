//! Genre models through ONNX Runtime: the model metadata format, loading the runtime library,
//! execution providers, the model catalogue, and turning audio into model windows and
//! probabilities. Shared by the plugin, the `analyze` CLI and `cargo xtask eval`, so every user
//! of a model computes exactly the same thing.

pub mod catalog;
pub mod clip;
pub mod context;
pub mod decision;
pub mod input;
pub mod metadata;
pub mod model;
pub mod pipeline;
pub mod provider;
pub mod runtime;
pub mod windows;

pub use catalog::ModelChoice;
pub use clip::{
    analyze_file, analyze_together, classify, file_windows, ClipAnalysis, FileAnalyzer, FileWindows,
};
pub use metadata::{Calibration, ModelInput, ModelMetadata, OutputKind};
pub use model::GenreModel;
pub use pipeline::analyze_files;
pub use provider::Provider;
pub use runtime::Runtime;
pub use windows::WindowCutter;
