//! Feature extraction on arbitrary finite samples at any supported rate: the resampler, every
//! frame-feature preset (mel, MFCC, musicnn) and the clip descriptors must give finite values.
#![no_main]

use genrescope::features::limit::{MAX_RATE_HZ, MIN_RATE_HZ};
use genrescope::resample::resample_clip;
use genrescope::features::config::Preset;
use genrescope::features::descriptors::{clip_summary, SUMMARY_LEN};
use genrescope::features::{FeatureConfig, FeatureExtractor};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Mapped into the supported rates.
    rate: u32,
    /// Picks a preset from `Preset::ALL`.
    preset: u8,
    /// Non-finite values are dropped: the contract is finite in, finite out.
    samples: Vec<f32>,
}

fn assert_finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f32>) {
    for value in values {
        assert!(value.is_finite(), "{what}: {value}");
    }
}

fuzz_target!(|input: Input| {
    let rate = MIN_RATE_HZ + input.rate % (MAX_RATE_HZ - MIN_RATE_HZ + 1);
    let samples: Vec<f32> = input.samples.into_iter().filter(|x| x.is_finite()).collect();
    let preset = Preset::ALL[usize::from(input.preset) % Preset::ALL.len()];

    // What the CLI and the worker do: resample to the model's rate, then extract.
    let config = FeatureConfig::preset(preset);
    let resampled = resample_clip(&samples, rate, config.sample_rate).expect("supported rates");
    assert_finite("resampled", &resampled);
    let extractor = FeatureExtractor::new(&config).expect("valid preset");
    assert_finite(preset.name(), &extractor.extract(&resampled));

    // The same preset computed at the file's own rate.
    let native = FeatureConfig {
        sample_rate: rate,
        ..config
    };
    let extractor = FeatureExtractor::new(&native).expect("valid at every supported rate");
    assert_finite(preset.name(), &extractor.extract(&samples));

    let summary = clip_summary(&samples, rate);
    assert_eq!(summary.len(), SUMMARY_LEN);
    assert_finite("descriptors", summary.iter().map(|(_, value)| value));
});
