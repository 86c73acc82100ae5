//! The sample range the analysis works in.

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
    use crate::analysis::resample::resample_clip;
    use crate::features::config::PRESETS;
    use crate::features::descriptors::clip_summary;
    use crate::features::{FeatureConfig, FeatureExtractor};

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
            for name in PRESETS {
                let config = FeatureConfig::preset(name).unwrap();
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
}
