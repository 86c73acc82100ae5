//! The placeholder analysis step: RMS and peak level of each window.

use super::AnalysisStep;

/// Level of silence, in dBFS: what an all-zero window reports instead of minus infinity.
pub const SILENCE_DBFS: f32 = -200.0;

/// RMS and peak of one analysis window, in dBFS (0 dBFS = full-scale sine peak of 1.0).
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

/// Computes [`Levels`] per window. The window must hold finite samples (the worker guarantees
/// it); the result is then always finite and at least [`SILENCE_DBFS`].
#[derive(Debug, Default)]
pub struct LevelMeter;

impl AnalysisStep for LevelMeter {
    type Output = Levels;

    fn analyze(&mut self, window: &[f32]) -> Levels {
        if window.is_empty() {
            return Levels::default();
        }
        let (sum_sq, peak) = window.iter().fold((0.0f64, 0.0f32), |(sum, peak), &x| {
            (sum + f64::from(x) * f64::from(x), peak.max(x.abs()))
        });
        let rms = (sum_sq / window.len() as f64).sqrt() as f32;
        Levels {
            rms_dbfs: to_dbfs(rms),
            peak_dbfs: to_dbfs(peak),
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
    fn full_scale_sine_is_minus_three_db_rms_and_zero_db_peak() {
        // 100-sample period: the peak falls exactly on a sample.
        let window: Vec<f32> = (0..22_050)
            .map(|i| (std::f32::consts::TAU * i as f32 / 100.0).sin())
            .collect();
        let levels = LevelMeter.analyze(&window);
        assert!((levels.rms_dbfs - -3.0103).abs() < 1e-3, "{levels:?}");
        assert!(levels.peak_dbfs.abs() < 1e-3, "{levels:?}");
    }

    #[test]
    fn half_scale_square_wave() {
        let window: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let levels = LevelMeter.analyze(&window);
        assert!((levels.rms_dbfs - -6.0206).abs() < 1e-3);
        assert!((levels.peak_dbfs - -6.0206).abs() < 1e-3);
    }

    #[test]
    fn silence_is_floored_not_infinite() {
        assert_eq!(LevelMeter.analyze(&[0.0; 64]), Levels::default());
        assert_eq!(LevelMeter.analyze(&[]), Levels::default());
    }
}
