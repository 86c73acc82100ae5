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

/// Accumulates the level of the samples seen since the last [`LevelMeter::take`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LevelMeter {
    /// Sum of squared samples.
    sum_sq: f64,
    /// Samples seen.
    count: u64,
    /// Largest magnitude seen.
    peak: f32,
}

impl LevelMeter {
    pub fn add(&mut self, samples: &[f32]) {
        for &x in samples {
            self.sum_sq += f64::from(x * x);
            self.peak = self.peak.max(x.abs());
        }
        self.count += samples.len() as u64;
    }

    /// The levels of the samples added since the previous call (silence when none), and a
    /// fresh start.
    pub fn take(&mut self) -> Levels {
        let meter = std::mem::take(self);
        Levels {
            rms_dbfs: to_dbfs((meter.sum_sq / meter.count.max(1) as f64).sqrt() as f32),
            peak_dbfs: to_dbfs(meter.peak),
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

    #[test]
    fn the_meter_reports_rms_and_peak_then_starts_again() {
        let mut meter = LevelMeter::default();
        meter.add(&[0.5, -0.5]);
        meter.add(&[0.5, -1.0]);
        let levels = meter.take();
        assert!((levels.peak_dbfs - 0.0).abs() < 1e-6);
        let rms = ((0.25 * 3.0 + 1.0) / 4.0_f32).sqrt();
        assert!((levels.rms_dbfs - to_dbfs(rms)).abs() < 1e-5);
        assert_eq!(meter.take(), Levels::default(), "nothing since: silence");
    }
}
