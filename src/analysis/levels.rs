//! Signal levels in dBFS, shown in the editor's diagnostics.

/// Level of silence, in dBFS: what an all-zero signal reports instead of minus infinity.
pub const SILENCE_DBFS: f32 = -200.0;

/// RMS and peak of a stretch of audio, in dBFS (0 dBFS = full-scale sine peak of 1.0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub rms_dbfs: f32,
    pub peak_dbfs: f32,
}

impl Default for Levels {
    fn default() -> Self {
        Self {
            rms_dbfs: SILENCE_DBFS,
            peak_dbfs: SILENCE_DBFS,
        }
    }
}

/// Converts a linear amplitude to dBFS, floored at [`SILENCE_DBFS`].
pub fn to_dbfs(amplitude: f32) -> f32 {
    (20.0 * amplitude.log10()).max(SILENCE_DBFS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_amplitudes_and_floors_silence() {
        assert!(to_dbfs(1.0).abs() < 1e-6);
        assert!((to_dbfs(0.5) - -6.0206).abs() < 1e-3);
        assert_eq!(to_dbfs(0.0), SILENCE_DBFS);
    }
}
