//! The audio the analysis works in: its sample range and its sample rates.

use std::ops::RangeInclusive;

/// Lowest and highest sample rates, in Hz, that anything in genrescope accepts: a host's rate, a
/// decoded file's rate and a model's input rate. Every rate in between is resampled exactly.
pub const MIN_RATE_HZ: u32 = 8_000;
pub const MAX_RATE_HZ: u32 = 384_000;
/// [`MIN_RATE_HZ`]`..=`[`MAX_RATE_HZ`].
pub const RATES_HZ: RangeInclusive<u32> = MIN_RATE_HZ..=MAX_RATE_HZ;

/// Largest standardisation mean magnitude a model may carry. Features are dB-scale values well
/// within ±1e4, so statistics beyond these bounds are corrupt, and within them standardised
/// values stay finite.
pub const STANDARDISATION_MEAN: f32 = 1e9;
/// Standardisation standard deviations a model may carry.
pub const STANDARDISATION_STD: RangeInclusive<f32> = 1e-9..=1e9;

/// Checks standardisation statistics (a feature config's per-feature normalisation, a
/// descriptor model's standardisation): `width` means and standard deviations within
/// [`STANDARDISATION_MEAN`] and [`STANDARDISATION_STD`], so standardised values stay finite.
pub fn check_standardisation(mean: &[f32], std: &[f32], width: usize) -> Result<(), String> {
    if mean.len() != width || std.len() != width {
        return Err(format!(
            "standardisation needs {width} means and standard deviations, not {} and {}",
            mean.len(),
            std.len()
        ));
    }
    let mean_ok = |m: &f32| (-STANDARDISATION_MEAN..=STANDARDISATION_MEAN).contains(m);
    if !mean.iter().all(mean_ok) || !std.iter().all(|s| STANDARDISATION_STD.contains(s)) {
        return Err(format!(
            "standardisation needs |mean| <= {STANDARDISATION_MEAN:e} and std in \
             {STANDARDISATION_STD:?}"
        ));
    }
    Ok(())
}

/// Largest sample magnitude analysed (+60 dBFS); louder samples are clipped to it. Finite input
/// beyond it is garbage, and left alone it overflows power spectra and the resampler's FFT to
/// infinity and NaN. Within it every feature stays finite in `f32` (power spectra are below
/// `(65 536 · 1000)²`, about 4e15).
pub const SAMPLE_LIMIT: f32 = 1000.0;

/// `sample` clipped to ±[`SAMPLE_LIMIT`].
pub fn clip(sample: f32) -> f32 {
    sample.clamp(-SAMPLE_LIMIT, SAMPLE_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::check_standardisation;
    use crate::features::config::Preset;
    use crate::features::descriptors::clip_summary;
    use crate::features::{FeatureConfig, FeatureExtractor};
    use crate::resample::resample_clip;

    #[test]
    fn finite_samples_of_any_size_give_finite_features() {
        // Before the clip, amplitudes from about 1e20 gave infinite features and 3e38 made the
        // resampler's inverse FFT panic on NaN.
        for amplitude in [1e20, 1e30, f32::MAX] {
            let samples: Vec<f32> = (0..6000)
                .map(|i| amplitude * (i as f32 * 0.37).sin())
                .collect();
            let resampled = resample_clip(&samples, 44_100, 22_050).unwrap();
            assert!(resampled.iter().all(|x| x.is_finite()), "{amplitude:e}");
            for name in Preset::ALL {
                let config = FeatureConfig::preset(name);
                let features = FeatureExtractor::new(&config).unwrap().extract(&samples);
                assert!(
                    features.iter().all(|x| x.is_finite()),
                    "{name} {amplitude:e}"
                );
            }
            for (column, value) in clip_summary(&samples, 22_050) {
                assert!(value.is_finite(), "{column} {amplitude:e}: {value}");
            }
        }
    }

    #[test]
    fn standardisation_must_be_sized_and_bounded() {
        assert!(check_standardisation(&[0.0, -80.0], &[1.0, 20.0], 2).is_ok());
        assert!(check_standardisation(&[0.0], &[1.0], 2).is_err());
        assert!(check_standardisation(&[f32::NAN], &[1.0], 1).is_err());
        assert!(check_standardisation(&[0.0], &[0.0], 1).is_err());
        assert!(check_standardisation(&[0.0], &[f32::INFINITY], 1).is_err());
    }
}
