//! [`FeatureConfig`]: everything that defines a model's input. It is stored in every model's
//! metadata, and the plugin, the CLI and the trainer build features from it and nothing else.

use serde::{Deserialize, Serialize};

use super::level::Level;
use super::limit::{check_standardisation, MAX_RATE_HZ, MIN_RATE_HZ, RATES_HZ};
use super::mel::{MelNorm, MelScale};
use super::stft::{Padding, WindowShape};
use crate::Error;

/// What each frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// Mel power in dB (`librosa.power_to_db(librosa.feature.melspectrogram(...))`).
    LogMel,
    /// `librosa.feature.mfcc(...)`: DCT-II (ortho) of the dB mel frame, first `n_mfcc` values.
    Mfcc,
    /// musicnn's input: `log10(1 + 10000 · mel power)`.
    Musicnn,
    /// EfficientAT's input: `(ln(mel power + 1e-5) + 4.5) / 5`.
    EfficientAt,
}

/// Per-feature standardisation applied to every model window after everything else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Normalization {
    #[default]
    None,
    /// `(x - mean[i]) / std[i]` for feature `i` (statistics from the training set).
    PerFeature { mean: Vec<f32>, std: Vec<f32> },
}

/// `(x - mean[i]) / std[i]` for feature `i` of every frame in `values`, frames of
/// `mean.len()` values laid end to end.
pub fn standardise(values: &mut [f32], mean: &[f32], std: &[f32]) {
    if mean.is_empty() {
        return;
    }
    for frame in values.chunks_exact_mut(mean.len()) {
        for ((x, m), s) in frame.iter_mut().zip(mean).zip(std) {
            *x = (*x - m) / s;
        }
    }
}

/// Complete description of a model input. Times are in samples at `sample_rate` (Hz),
/// frequencies in Hz.
///
/// Frames follow `librosa.stft(center=True, pad_mode="constant")` unless `padding`,
/// `window` or `pre_emphasis` say otherwise (EfficientAT's front end). Everything up to the dB
/// conversion is per frame and identical in batch and streaming use; `level`, `top_db` and
/// `normalization` act on a whole model window of `frames` frames (see
/// [`super::FeatureExtractor::finish_window`]). With a normalising `level`, frames hold mel
/// power and the window step compresses them after the gain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    pub sample_rate: u32,
    pub kind: FeatureKind,
    /// `y[n] = x[n] - c·x[n-1]` before framing, the first sample dropped (`features::emphasis`);
    /// `None`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_emphasis: Option<f32>,
    /// How the signal's ends are padded for centred frames.
    #[serde(default, skip_serializing_if = "Padding::is_default")]
    pub padding: Padding,
    pub n_fft: usize,
    pub hop_length: usize,
    /// Hann window length, at most `n_fft` (centred in the frame).
    pub win_length: usize,
    #[serde(default, skip_serializing_if = "WindowShape::is_default")]
    pub window: WindowShape,
    pub n_mels: usize,
    pub fmin: f32,
    /// Upper edge of the mel filterbank; `None` means `sample_rate / 2`.
    pub fmax: Option<f32>,
    pub mel_scale: MelScale,
    pub mel_norm: MelNorm,
    /// Coefficients kept by [`FeatureKind::Mfcc`]; ignored otherwise.
    pub n_mfcc: usize,
    /// For [`FeatureKind::LogMel`] and [`FeatureKind::Mfcc`]: dB values are raised to at least
    /// the window's maximum minus `top_db` (librosa's default is 80). `None` disables it.
    pub top_db: Option<f32>,
    /// Model window length in frames.
    pub frames: usize,
    /// The window's level before compression (absent in models made before it: as it comes).
    #[serde(default)]
    pub level: Level,
    #[serde(default)]
    pub normalization: Normalization,
}

/// The named configurations of the research model families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// 13 MFCC × 130 frames (3 s), the MFCC-CNN and MFCC-LSTM input.
    Mfcc13,
    /// 18 MFCC × 130 frames.
    Mfcc18,
    /// 26 MFCC × 130 frames.
    Mfcc26,
    /// 13 MFCC × 258 frames (6 s), the CRNN input.
    CrnnMfcc,
    /// 128 log-mel bands × 130 frames, for mel-CNNs (hybrid, MobileNetV2-style).
    LogMel128,
    /// musicnn's input: 16 kHz, n_fft 512, hop 256, 96 mels, `log10(1 + 10000·x)`, 187 frames.
    Musicnn,
    /// EfficientAT's input (`AugmentMelSTFT` at inference): 32 kHz, pre-emphasis 0.97, n_fft
    /// 1024 with an 800-sample symmetric Hann window, hop 320, mirrored ends, 128 Kaldi mels up
    /// to 15 kHz, `(ln(x + 1e-5) + 4.5) / 5`; 300 frames (3 s).
    EfficientAt,
}

impl Preset {
    pub const ALL: [Preset; 7] = [
        Preset::Mfcc13,
        Preset::Mfcc18,
        Preset::Mfcc26,
        Preset::CrnnMfcc,
        Preset::LogMel128,
        Preset::Musicnn,
        Preset::EfficientAt,
    ];

    /// The name the command lines and reports use (`mfcc13`, `logmel128`, …).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Mfcc13 => "mfcc13",
            Preset::Mfcc18 => "mfcc18",
            Preset::Mfcc26 => "mfcc26",
            Preset::CrnnMfcc => "crnn-mfcc",
            Preset::LogMel128 => "logmel128",
            Preset::Musicnn => "musicnn",
            Preset::EfficientAt => "efficientat",
        }
    }

    /// The preset called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|preset| preset.name() == name)
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl FeatureConfig {
    /// librosa's defaults at 22 050 Hz: n_fft 2048, hop 512, 128 Slaney mels, top_db 80, and a
    /// 3-s window (130 frames).
    fn librosa_defaults(kind: FeatureKind) -> Self {
        Self {
            sample_rate: 22_050,
            kind,
            pre_emphasis: None,
            padding: Padding::Zeros,
            n_fft: 2048,
            hop_length: 512,
            win_length: 2048,
            window: WindowShape::PeriodicHann,
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            mel_scale: MelScale::Slaney,
            mel_norm: MelNorm::Slaney,
            n_mfcc: 20,
            top_db: Some(80.0),
            frames: 130,
            level: Level::AsIs,
            normalization: Normalization::None,
        }
    }

    /// The configuration of `preset`.
    pub fn preset(preset: Preset) -> Self {
        let mfcc = |n_mfcc, frames| Self {
            n_mfcc,
            frames,
            ..Self::librosa_defaults(FeatureKind::Mfcc)
        };
        match preset {
            Preset::Mfcc13 => mfcc(13, 130),
            Preset::Mfcc18 => mfcc(18, 130),
            Preset::Mfcc26 => mfcc(26, 130),
            Preset::CrnnMfcc => mfcc(13, 258),
            Preset::LogMel128 => Self::librosa_defaults(FeatureKind::LogMel),
            Preset::Musicnn => Self {
                sample_rate: 16_000,
                n_fft: 512,
                hop_length: 256,
                win_length: 512,
                n_mels: 96,
                top_db: None,
                frames: 187,
                ..Self::librosa_defaults(FeatureKind::Musicnn)
            },
            Preset::EfficientAt => Self {
                sample_rate: 32_000,
                pre_emphasis: Some(0.97),
                padding: Padding::Reflect,
                n_fft: 1024,
                hop_length: 320,
                win_length: 800,
                window: WindowShape::SymmetricHann,
                fmax: Some(15_000.0),
                mel_scale: MelScale::Kaldi,
                mel_norm: MelNorm::None,
                top_db: None,
                frames: 300,
                ..Self::librosa_defaults(FeatureKind::EfficientAt)
            },
        }
    }

    /// The same configuration with only the fields that shape frame-level features (what
    /// [`super::FeatureExtractor::frames`] returns): `n_mfcc`, `top_db`, `frames` and
    /// `normalization` act later, in the window step (`level` stays: it decides whether frames
    /// are compressed). Feature caches key on this.
    pub fn frame_level(&self) -> Self {
        let defaults = Self::librosa_defaults(self.kind);
        Self {
            n_mfcc: defaults.n_mfcc,
            top_db: defaults.top_db,
            frames: defaults.frames,
            normalization: Normalization::None,
            ..self.clone()
        }
    }

    /// Upper filterbank edge in Hz.
    pub fn fmax_hz(&self) -> f32 {
        self.fmax.unwrap_or(self.sample_rate as f32 / 2.0)
    }

    /// Values per frame in the final features.
    pub fn feature_width(&self) -> usize {
        match self.kind {
            FeatureKind::Mfcc => self.n_mfcc,
            FeatureKind::LogMel | FeatureKind::Musicnn | FeatureKind::EfficientAt => self.n_mels,
        }
    }

    /// Length of one model window in seconds.
    pub fn window_seconds(&self) -> f32 {
        (self.frames.saturating_sub(1) * self.hop_length) as f32 / self.sample_rate as f32
    }

    pub fn validate(&self) -> Result<(), Error> {
        let fail = |msg: String| Err(Error::Config(msg));
        let nyquist = self.sample_rate as f32 / 2.0;
        if !RATES_HZ.contains(&self.sample_rate) {
            return fail(format!(
                "sample_rate {} Hz is outside {MIN_RATE_HZ}..={MAX_RATE_HZ} Hz",
                self.sample_rate
            ));
        }
        if self.n_fft < 16 || self.n_fft > 65_536 {
            return fail(format!("n_fft {} is outside 16..=65536", self.n_fft));
        }
        if self.hop_length == 0 || self.win_length == 0 || self.win_length > self.n_fft {
            return fail(format!(
                "need hop_length > 0 and 0 < win_length <= n_fft (hop {}, win {}, n_fft {})",
                self.hop_length, self.win_length, self.n_fft
            ));
        }
        if self.padding == Padding::Reflect && 2 * self.hop_length >= self.n_fft {
            return fail(format!(
                "mirrored ends need hop_length < n_fft / 2 (hop {}, n_fft {})",
                self.hop_length, self.n_fft
            ));
        }
        if self.pre_emphasis.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
            return fail("pre_emphasis must lie in 0..=1".into());
        }
        if self.n_mels == 0 || self.frames == 0 {
            return fail("n_mels and frames must be positive".into());
        }
        if !(self.fmin >= 0.0 && self.fmin < self.fmax_hz() && self.fmax_hz() <= nyquist) {
            return fail(format!(
                "need 0 <= fmin < fmax <= {nyquist} Hz (fmin {}, fmax {})",
                self.fmin,
                self.fmax_hz()
            ));
        }
        if self.kind == FeatureKind::Mfcc && !(1..=self.n_mels).contains(&self.n_mfcc) {
            return fail(format!("n_mfcc {} must lie in 1..=n_mels", self.n_mfcc));
        }
        if self.top_db.is_some_and(|db| db.is_nan() || db < 0.0) {
            return fail("top_db must be non-negative".into());
        }
        self.level.validate().map_err(Error::Config)?;
        if let Normalization::PerFeature { mean, std } = &self.normalization {
            check_standardisation(mean, std, self.feature_width())
                .map_err(|e| Error::Config(format!("normalization: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_round_trips_through_json() {
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.name()), Some(preset));
            let config = FeatureConfig::preset(preset);
            config.validate().unwrap();
            let json = serde_json::to_string(&config).unwrap();
            assert_eq!(
                serde_json::from_str::<FeatureConfig>(&json).unwrap(),
                config
            );
        }
        assert!(Preset::from_name("nope").is_none());
    }

    #[test]
    fn frame_level_ignores_only_window_step_fields() {
        let mfcc13 = FeatureConfig::preset(Preset::Mfcc13);
        let crnn = FeatureConfig::preset(Preset::CrnnMfcc);
        let mfcc26 = FeatureConfig::preset(Preset::Mfcc26);
        assert_eq!(mfcc13.frame_level(), crnn.frame_level());
        assert_eq!(mfcc13.frame_level(), mfcc26.frame_level());
        let logmel = FeatureConfig::preset(Preset::LogMel128);
        assert_ne!(mfcc13.frame_level(), logmel.frame_level());
        let htk = FeatureConfig {
            mel_scale: MelScale::Htk,
            ..mfcc13.clone()
        };
        assert_ne!(mfcc13.frame_level(), htk.frame_level());
    }

    #[test]
    fn research_shapes() {
        let mfcc = FeatureConfig::preset(Preset::Mfcc13);
        assert_eq!((mfcc.feature_width(), mfcc.frames), (13, 130));
        assert!((mfcc.window_seconds() - 3.0).abs() < 0.02);
        let musicnn = FeatureConfig::preset(Preset::Musicnn);
        assert!((musicnn.window_seconds() - 2.98).abs() < 0.01);
    }

    #[test]
    fn rejects_nonsense() {
        let good = FeatureConfig::preset(Preset::Mfcc13);
        let bad = [
            FeatureConfig {
                hop_length: 0,
                ..good.clone()
            },
            FeatureConfig {
                win_length: 4096,
                ..good.clone()
            },
            FeatureConfig {
                n_mfcc: 200,
                ..good.clone()
            },
            FeatureConfig {
                fmax: Some(20_000.0),
                ..good.clone()
            },
            FeatureConfig {
                top_db: Some(f32::NAN),
                ..good.clone()
            },
            FeatureConfig {
                padding: Padding::Reflect,
                hop_length: 1024,
                ..good.clone()
            },
            FeatureConfig {
                pre_emphasis: Some(f32::NAN),
                ..good.clone()
            },
            FeatureConfig {
                normalization: Normalization::PerFeature {
                    mean: vec![0.0; 13],
                    std: vec![0.0; 13],
                },
                ..good.clone()
            },
            // Finite but absurd statistics standardise to infinity.
            FeatureConfig {
                normalization: Normalization::PerFeature {
                    mean: vec![0.0; 13],
                    std: vec![1e-30; 13],
                },
                ..good.clone()
            },
            FeatureConfig {
                normalization: Normalization::PerFeature {
                    mean: vec![3e38; 13],
                    std: vec![1.0; 13],
                },
                ..good.clone()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}
