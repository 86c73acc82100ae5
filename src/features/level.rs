//! Level normalisation of a model window, so that a track's level (a fader, a quieter master,
//! a -3 dB stereo upmix) does not decide what the model hears.
//!
//! The gain is a function of the window's own mel power frames, measured before the
//! compression (dB or musicnn's `log10(1 + 10000·x)`) that makes features level-dependent: mel
//! power scales exactly with the square of a gain on the audio, so the window step applies the
//! gain there, and every path that cuts windows (the live ring, the whole-file cutter, the
//! training caches) normalises the same frames the same way with nothing kept beside them.

use serde::{Deserialize, Serialize};

/// Frames quieter than the window's mean frame energy by more than this (in dB) do not count
/// towards its level: ITU-R BS.1770's relative gate, here over frames instead of 400-ms blocks,
/// so pauses and the tails of notes do not pull a window's level down.
pub const RELATIVE_GATE_DB: f64 = 10.0;

/// How a model window's level is set before its frames are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Level {
    /// Left as it comes (models made before level normalisation).
    #[default]
    AsIs,
    /// Every window scaled to the same gated mel level: `target_db` in dB relative to the mel
    /// level of a full-scale 1-kHz sine, the gain at most `max_gain_db` (so a near-silent
    /// window is not raised into a loud one).
    Window { target_db: f32, max_gain_db: f32 },
}

impl Level {
    /// Whether the frames must stay mel power until the window step.
    pub fn normalises(self) -> bool {
        self != Level::AsIs
    }

    pub fn validate(self) -> Result<(), String> {
        match self {
            Level::AsIs => Ok(()),
            Level::Window {
                target_db,
                max_gain_db,
            } => {
                let sane =
                    (-100.0..=20.0).contains(&target_db) && (0.0..=100.0).contains(&max_gain_db);
                sane.then_some(()).ok_or_else(|| {
                    format!(
                        "level: need target_db in -100..=20 and max_gain_db in 0..=100 \
                         ({target_db}, {max_gain_db})"
                    )
                })
            }
        }
    }
}

/// The gated mel level of a window of mel power frames, `frames` of `width` values laid end to
/// end, as mel energy per frame (the sum over bands); `None` when the window holds no energy.
pub fn gated_energy(frames: &[f32], width: usize) -> Option<f64> {
    let energies: Vec<f64> = frames
        .chunks_exact(width.max(1))
        .map(|frame| frame.iter().map(|&p| f64::from(p)).sum())
        .collect();
    let mean = energies.iter().sum::<f64>() / energies.len().max(1) as f64;
    if mean <= 0.0 {
        return None;
    }
    let gate = mean * 10f64.powf(-RELATIVE_GATE_DB / 10.0);
    let (sum, count) = energies
        .iter()
        .filter(|&&e| e >= gate)
        .fold((0.0, 0usize), |(sum, count), &e| (sum + e, count + 1));
    Some(sum / count as f64)
}

/// The power gain that takes a window of `energy` ([`gated_energy`]) to `target_db` relative to
/// `reference` (the mel energy per frame of a full-scale 1-kHz sine), at most `max_gain_db`;
/// the largest gain for a window without energy.
pub fn power_gain(energy: Option<f64>, reference: f64, target_db: f32, max_gain_db: f32) -> f32 {
    let max_gain_db = f64::from(max_gain_db);
    let gain_db = energy.map_or(max_gain_db, |energy| {
        let level_db = 10.0 * (energy / reference).log10();
        (f64::from(target_db) - level_db).min(max_gain_db)
    });
    10f64.powf(gain_db / 10.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_leaves_pauses_out() {
        // Two loud frames and two almost silent ones: the level is the loud frames' alone.
        let frames = [1.0, 1.0, 1.0, 1.0, 1e-6, 0.0, 0.0, 1e-6];
        assert_eq!(gated_energy(&frames, 2), Some(2.0));
        assert_eq!(gated_energy(&[0.0; 8], 2), None);
    }

    #[test]
    fn the_gain_reaches_the_target_within_its_limit() {
        let gain_db = |energy, max| 10.0 * f64::from(power_gain(energy, 4.0, -20.0, max)).log10();
        // 0.04 is 20 dB below the reference: 0 dB of gain reaches -20 dB.
        assert!(gain_db(Some(0.04), 40.0).abs() < 1e-6);
        assert!((gain_db(Some(0.004), 40.0) - 10.0).abs() < 1e-5);
        assert!((gain_db(Some(4.0), 40.0) + 20.0).abs() < 1e-5);
        assert!((gain_db(Some(4e-9), 40.0) - 40.0).abs() < 1e-5);
        assert!((gain_db(None, 30.0) - 30.0).abs() < 1e-5);
    }

    #[test]
    fn only_sane_levels_are_valid() {
        assert!(Level::AsIs.validate().is_ok());
        let level = |target_db, max_gain_db| Level::Window {
            target_db,
            max_gain_db,
        };
        assert!(level(-20.0, 40.0).validate().is_ok());
        for bad in [level(f32::NAN, 40.0), level(-20.0, -1.0), level(50.0, 40.0)] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
