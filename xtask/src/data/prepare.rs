//! Clip decoding and frame-level features for training, with a feature cache, and cutting the
//! fixed-length model windows (segments) out of each clip.

use std::path::{Path, PathBuf};

use anyhow::Context;
use genrescope::decode::decode_mono_at;
use genrescope::features::{FeatureConfig, FeatureExtractor};
use ndarray::{s, Array2};

use super::dataset::Clip;

/// Peak level below which a clip counts as silent (about -80 dBFS).
const SILENCE_PEAK: f32 = 1e-4;

/// Frame-level features of one clip (`frames × n_mels`, before the window step).
pub struct ClipFrames {
    /// Index of the clip in the list given to [`prepare`].
    pub clip: usize,
    pub frames: Array2<f32>,
}

/// A clip that could not be used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// A folder of cached frame-level features. Entries are keyed by the audio file's content
/// (BLAKE3) and by [`FeatureConfig::frame_level`], so renamed or moved files still hit and a
/// changed configuration never reads stale features.
pub struct FeatureCache {
    dir: PathBuf,
}

impl FeatureCache {
    pub fn new(root: &Path, config: &FeatureConfig) -> anyhow::Result<Self> {
        let key = serde_json::to_vec(&config.frame_level())?;
        let dir = root.join(blake3::hash(&key).to_hex().as_str());
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(dir.join("config.json"), key)?;
        Ok(Self { dir })
    }

    fn entry(&self, audio: &[u8]) -> PathBuf {
        self.dir
            .join(format!("{}.npy", blake3::hash(audio).to_hex()))
    }
}

/// Frame-level features for every usable clip. Unreadable, silent and too-short files (shorter
/// than one model window) are reported in the second list, never fatal.
pub fn prepare(
    clips: &[Clip],
    config: &FeatureConfig,
    cache: &FeatureCache,
    mut progress: impl FnMut(&Clip),
) -> anyhow::Result<(Vec<ClipFrames>, Vec<Skipped>)> {
    let extractor = FeatureExtractor::new(config)?;
    let (mut prepared, mut skipped) = (Vec::new(), Vec::new());
    for (index, clip) in clips.iter().enumerate() {
        progress(clip);
        match clip_frames(clip, config, &extractor, cache) {
            Ok(frames) => prepared.push(ClipFrames {
                clip: index,
                frames,
            }),
            Err(reason) => skipped.push(Skipped {
                path: clip.path.clone(),
                reason,
            }),
        }
    }
    Ok((prepared, skipped))
}

fn clip_frames(
    clip: &Clip,
    config: &FeatureConfig,
    extractor: &FeatureExtractor,
    cache: &FeatureCache,
) -> Result<Array2<f32>, String> {
    let bytes = std::fs::read(&clip.path).map_err(|err| format!("unreadable ({err})"))?;
    let entry = cache.entry(&bytes);
    let frames = match ndarray_npy::read_npy::<_, Array2<f32>>(&entry) {
        Ok(frames) => frames,
        Err(_) => {
            let audio = decode_mono_at(&clip.path, config.sample_rate).map_err(|err| err.reason)?;
            if audio.samples.iter().any(|x| !x.is_finite()) {
                return Err("contains NaN or infinite samples".into());
            }
            let peak = audio.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            if peak < SILENCE_PEAK {
                return Err(format!("silent (peak {peak:e})"));
            }
            let frames = extractor.frames(&audio.samples);
            // A cache that cannot be written only costs time.
            let _ = ndarray_npy::write_npy(&entry, &frames);
            frames
        }
    };
    if frames.nrows() < config.frames {
        return Err(format!(
            "too short: {} frames, one model window needs {} ({:.1} s)",
            frames.nrows(),
            config.frames,
            config.window_seconds()
        ));
    }
    Ok(frames)
}

/// The model windows of one clip: every `hop` frames a window of `config.frames` frames,
/// through the window step (`top_db`, DCT, normalisation). Windows never cross clips, so a
/// clip-level split is also a segment-level one.
pub fn segments(
    frames: &Array2<f32>,
    extractor: &FeatureExtractor,
    hop: usize,
) -> Vec<Array2<f32>> {
    let width = extractor.config().frames;
    (0..=frames.nrows().saturating_sub(width))
        .step_by(hop.max(1))
        .filter(|start| start + width <= frames.nrows())
        .map(|start| extractor.finish_window(frames.slice(s![start..start + width, ..])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, samples: &[f32]) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 22_050,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for &sample in samples {
            writer.write_sample((sample * 32_767.0) as i16).unwrap();
        }
        writer.finalize().unwrap();
    }

    #[test]
    fn prepares_good_clips_and_reports_the_rest_by_name() {
        let dir = std::env::temp_dir().join(format!("genrescope-prepare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tone: Vec<f32> = (0..22_050 * 4)
            .map(|i| 0.3 * (i as f32 * 0.07).sin())
            .collect();
        let files = [
            ("tone.wav", Some(tone.clone())),
            ("silent.wav", Some(vec![0.0; 22_050 * 4])),
            ("short.wav", Some(tone[..22_050].to_vec())),
            ("corrupt.wav", None),
        ];
        let clips: Vec<Clip> = files
            .iter()
            .map(|(name, samples)| {
                let path = dir.join(name);
                match samples {
                    Some(samples) => write_wav(&path, samples),
                    None => std::fs::write(&path, b"RIFF garbage").unwrap(),
                }
                Clip {
                    path,
                    labels: vec!["x".into()],
                    group: name.to_string(),
                }
            })
            .collect();
        let config = FeatureConfig::preset("mfcc13").unwrap();
        let cache = FeatureCache::new(&dir.join("cache"), &config).unwrap();

        let mut seen = 0;
        let (prepared, skipped) = prepare(&clips, &config, &cache, |_| seen += 1).unwrap();
        assert_eq!(seen, 4);
        assert_eq!(prepared.len(), 1);
        assert_eq!(prepared[0].clip, 0);
        let reasons: Vec<&str> = skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(reasons[0].starts_with("silent"), "{reasons:?}");
        assert!(reasons[1].starts_with("too short"), "{reasons:?}");
        assert!(skipped[2].path.ends_with("corrupt.wav"));

        // The second run reads the cache and gets the same frames.
        let (again, _) = prepare(&clips[..1], &config, &cache, |_| {}).unwrap();
        assert_eq!(again[0].frames, prepared[0].frames);

        let extractor = FeatureExtractor::new(&config).unwrap();
        let windows = segments(&prepared[0].frames, &extractor, 65);
        // 4 s = 173 frames: windows of 130 frames start at 0 only when hopping by 65.
        assert_eq!(prepared[0].frames.nrows(), 173);
        assert_eq!(windows.len(), 1);
        assert_eq!(windows[0].dim(), (130, 13));
        assert_eq!(segments(&prepared[0].frames, &extractor, 10).len(), 5);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
