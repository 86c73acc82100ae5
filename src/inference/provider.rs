//! ONNX Runtime execution providers: which one a session asks for, and the fallback to CPU.

use ort::ep::{self, ExecutionProvider};
use ort::session::builder::SessionBuilder;
use serde::{Deserialize, Serialize};

/// The execution provider the user asked for. Every choice falls back to CPU when the provider
/// is missing from the loaded ONNX Runtime build or fails to start; the session then carries a
/// notice saying so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// CPU for small models (a genre model's few-MB, batch-of-one inference is faster on the CPU
    /// than the round trip to a GPU); the first available GPU provider for large ones.
    #[default]
    Auto,
    Cpu,
    Cuda,
    TensorRt,
    DirectMl,
    CoreMl,
}

/// Models up to this ONNX file size (bytes) run on the CPU under [`Provider::Auto`].
pub const AUTO_CPU_MAX_BYTES: usize = 16 << 20;

impl Provider {
    /// The choices this platform can offer, in picker order.
    pub fn for_platform() -> Vec<Provider> {
        let mut choices = vec![Provider::Auto, Provider::Cpu];
        if cfg!(any(target_os = "linux", target_os = "windows")) {
            choices.extend([Provider::Cuda, Provider::TensorRt]);
        }
        if cfg!(target_os = "windows") {
            choices.push(Provider::DirectMl);
        }
        if cfg!(target_vendor = "apple") {
            choices.push(Provider::CoreMl);
        }
        choices
    }

    pub fn label(self) -> &'static str {
        match self {
            Provider::Auto => "Auto",
            Provider::Cpu => "CPU",
            Provider::Cuda => "CUDA",
            Provider::TensorRt => "TensorRT",
            Provider::DirectMl => "DirectML",
            Provider::CoreMl => "CoreML",
        }
    }

    /// The GPU providers tried, in order, for this choice and a model of `model_bytes` bytes.
    /// Empty means CPU only.
    pub fn candidates(self, model_bytes: usize) -> Vec<Provider> {
        match self {
            Provider::Auto if model_bytes <= AUTO_CPU_MAX_BYTES => Vec::new(),
            Provider::Auto => Self::for_platform()
                .into_iter()
                .filter(|p| !matches!(p, Provider::Auto | Provider::Cpu))
                .collect(),
            Provider::Cpu => Vec::new(),
            gpu => vec![gpu],
        }
    }

    /// Whether the loaded ONNX Runtime library was built with this provider (CPU always is).
    pub fn is_compiled_in(self) -> bool {
        let available = match self {
            Provider::Auto | Provider::Cpu => return true,
            Provider::Cuda => ep::CUDA::is_available(),
            Provider::TensorRt => ep::TensorRT::is_available(),
            Provider::DirectMl => ep::DirectML::is_available(),
            Provider::CoreMl => ep::CoreML::is_available(),
        };
        available.unwrap_or(false)
    }

    /// Registers this (GPU) provider on `builder`, failing instead of silently falling back.
    pub(crate) fn register(self, builder: SessionBuilder) -> Result<SessionBuilder, String> {
        let dispatch = match self {
            Provider::Auto | Provider::Cpu => return Ok(builder),
            Provider::Cuda => ep::CUDA::default().build(),
            Provider::TensorRt => ep::TensorRT::default().build(),
            Provider::DirectMl => ep::DirectML::default().build(),
            Provider::CoreMl => ep::CoreML::default().build(),
        };
        builder
            .with_execution_providers([dispatch.error_on_failure()])
            .map_err(|e| e.to_string())
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_keeps_small_models_on_the_cpu() {
        assert!(Provider::Auto.candidates(300_000).is_empty());
        assert!(Provider::Cpu.candidates(1 << 30).is_empty());
        assert_eq!(Provider::Cuda.candidates(10), vec![Provider::Cuda]);
        let large = Provider::Auto.candidates(AUTO_CPU_MAX_BYTES + 1);
        assert!(!large.contains(&Provider::Cpu) && !large.contains(&Provider::Auto));
    }

    #[test]
    fn choices_round_trip_through_json() {
        for p in Provider::for_platform() {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), p);
        }
        assert_eq!(
            serde_json::from_str::<Provider>("\"tensorrt\"").unwrap(),
            Provider::TensorRt
        );
    }
}
