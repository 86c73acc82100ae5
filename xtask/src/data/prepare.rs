//! Clip decoding and per-clip features for training, with a feature cache: frame-level
//! features for frame models, descriptor rows for descriptor models. Model windows are cut by
//! `genrescope::inference::windows`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use genrescope::decode::decode_mono_at;
use genrescope::features::FeatureExtractor;
use genrescope::inference::windows::{descriptor_windows, hybrid_windows};
use genrescope::inference::ModelInput;
use ndarray::Array2;

use super::dataset::Clip;

/// Features of one clip: frame-level features (`frames × n_mels`, before the window step) for
/// [`ModelInput::Frames`], raw descriptor rows (`windows × 57`) for [`ModelInput::Descriptors`],
/// the unstandardised windows stacked row-wise (`windows · (frames + 1) × width`) for
/// [`ModelInput::Hybrid`].
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

/// A folder of cached per-clip features. Entries are keyed by the audio file's content
/// (BLAKE3) and by what the features depend on ([`FeatureConfig::frame_level`] or the
/// descriptor window), so renamed or moved files still hit and a changed configuration never
/// reads stale features.
///
/// [`FeatureConfig::frame_level`]: genrescope::features::FeatureConfig::frame_level
pub struct FeatureCache {
    dir: PathBuf,
}

impl FeatureCache {
    pub fn new(root: &Path, input: &ModelInput) -> anyhow::Result<Self> {
        let key = match input {
            ModelInput::Frames { features, .. } => serde_json::to_vec(&features.frame_level())?,
            ModelInput::Descriptors {
                sample_rate,
                window_seconds,
                hop_seconds,
                ..
            } => serde_json::to_vec(&(sample_rate, window_seconds, hop_seconds))?,
            ModelInput::Hybrid {
                features,
                hop_seconds,
                ..
            } => serde_json::to_vec(&("hybrid", features, hop_seconds))?,
        };
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

/// Features of every usable clip, in clip order, computed on all cores. Unreadable, silent and
/// too-short files (shorter than one model window) are reported in the second list, never
/// fatal.
pub fn prepare(
    clips: &[Clip],
    input: &ModelInput,
    cache: &FeatureCache,
    progress: impl Fn(&Clip) + Sync,
) -> anyhow::Result<(Vec<ClipFrames>, Vec<Skipped>)> {
    let extractor = input.frame_extractor()?;
    let results = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    std::thread::scope(|scope| {
        for worker in 0..threads {
            let (results, extractor, progress) = (&results, &extractor, &progress);
            scope.spawn(move || {
                for index in (worker..clips.len()).step_by(threads) {
                    progress(&clips[index]);
                    let result = clip_features(&clips[index], input, extractor.as_ref(), cache);
                    results.lock().unwrap().push((index, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, _)| *index);
    let (mut prepared, mut skipped) = (Vec::new(), Vec::new());
    for (index, result) in results {
        match result {
            Ok(frames) => prepared.push(ClipFrames {
                clip: index,
                frames,
            }),
            Err(reason) => skipped.push(Skipped {
                path: clips[index].path.clone(),
                reason,
            }),
        }
    }
    Ok((prepared, skipped))
}

fn clip_features(
    clip: &Clip,
    input: &ModelInput,
    extractor: Option<&FeatureExtractor>,
    cache: &FeatureCache,
) -> Result<Array2<f32>, String> {
    let bytes = std::fs::read(&clip.path).map_err(|err| format!("unreadable ({err})"))?;
    let entry = cache.entry(&bytes);
    let features = match ndarray_npy::read_npy::<_, Array2<f32>>(&entry) {
        Ok(features) => features,
        Err(_) => {
            let audio =
                decode_mono_at(&clip.path, input.sample_rate()).map_err(|err| err.reason())?;
            audio.audible()?;
            let features = match (input, extractor) {
                (ModelInput::Frames { .. }, Some(extractor)) => extractor.frames(&audio.samples),
                (
                    ModelInput::Descriptors {
                        sample_rate,
                        window_seconds,
                        hop_seconds,
                        ..
                    },
                    _,
                ) => {
                    descriptor_windows(&audio.samples, *sample_rate, *window_seconds, *hop_seconds)
                }
                (
                    ModelInput::Hybrid {
                        hop_seconds,
                        mean,
                        std,
                        ..
                    },
                    Some(extractor),
                ) => {
                    let windows =
                        hybrid_windows(extractor, &audio.samples, *hop_seconds, (mean, std));
                    let (n, rows, width) = windows.dim();
                    windows
                        .into_shape_with_order((n * rows, width))
                        .expect("contiguous windows")
                }
                _ => unreachable!("frame and hybrid inputs have an extractor"),
            };
            // A cache that cannot be written only costs time.
            let _ = ndarray_npy::write_npy(&entry, &features);
            features
        }
    };
    let (needed, have) = match input {
        ModelInput::Frames {
            features: config, ..
        } => (config.frames, features.nrows()),
        ModelInput::Descriptors { .. } => (1, features.nrows()),
        ModelInput::Hybrid { .. } => (1, features.nrows()),
    };
    if have < needed {
        return Err(format!(
            "too short: one model window needs {:.1} s",
            input.window_seconds()
        ));
    }
    Ok(features)
}

/// The odd audio files every analysis path is tested with (shared with the CLI's tests).
#[cfg(test)]
#[path = "../../../tests/odd_audio/mod.rs"]
mod odd_audio;

#[cfg(test)]
mod tests {
    use super::*;
    use genrescope::features::{FeatureConfig, Preset};
    use genrescope::inference::windows::frame_windows;

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
                    licence: None,
                }
            })
            .collect();
        let config = FeatureConfig::preset(Preset::Mfcc13);
        let input = ModelInput::Frames {
            features: config.clone(),
            hop_frames: 65,
        };
        let cache = FeatureCache::new(&dir.join("cache"), &input).unwrap();

        let seen = std::sync::atomic::AtomicUsize::new(0);
        let (prepared, skipped) = prepare(&clips, &input, &cache, |_| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(seen.into_inner(), 4);
        assert_eq!(prepared.len(), 1);
        assert_eq!(prepared[0].clip, 0);
        let reasons: Vec<&str> = skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(reasons[0].starts_with("silent"), "{reasons:?}");
        assert!(reasons[1].starts_with("too short"), "{reasons:?}");
        assert!(skipped[2].path.ends_with("corrupt.wav"));

        // The second run reads the cache and gets the same frames.
        let (again, _) = prepare(&clips[..1], &input, &cache, |_| {}).unwrap();
        assert_eq!(again[0].frames, prepared[0].frames);

        let extractor = FeatureExtractor::new(&config).unwrap();
        let windows = frame_windows(&extractor, prepared[0].frames.view(), 65);
        // 4 s = 173 frames: windows of 130 frames start at 0 only when hopping by 65.
        assert_eq!(prepared[0].frames.nrows(), 173);
        assert_eq!(windows.dim(), (1, 130, 13));
        assert_eq!(
            frame_windows(&extractor, prepared[0].frames.view(), 10)
                .dim()
                .0,
            5
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn odd_files_are_decoded_or_reported_by_name_and_skipped() {
        use super::odd_audio::{write_odd_files, Outcome};
        use genrescope::features::stft::frame_count;

        let dir = std::env::temp_dir().join(format!("genrescope-odd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let files = write_odd_files(&dir);
        let clips: Vec<Clip> = files
            .iter()
            .map(|file| Clip {
                path: dir.join(file.name),
                labels: vec!["x".into()],
                group: file.name.into(),
                licence: None,
            })
            .collect();
        // A light MFCC configuration: the 11-minute file is 28 000 frames in a debug build.
        let config = FeatureConfig {
            n_fft: 512,
            win_length: 512,
            n_mels: 40,
            ..FeatureConfig::preset(Preset::Mfcc13)
        };
        let input = ModelInput::Frames {
            features: config.clone(),
            hop_frames: 65,
        };
        let cache = FeatureCache::new(&dir.join("cache"), &input).unwrap();
        let (prepared, skipped) = prepare(&clips, &input, &cache, |_| {}).unwrap();

        assert_eq!(prepared.len() + skipped.len(), files.len());
        for (index, file) in files.iter().enumerate() {
            match file.outcome {
                Outcome::Analysed { seconds } => {
                    let clip = prepared.iter().find(|c| c.clip == index);
                    let frames = &clip
                        .unwrap_or_else(|| panic!("{} skipped", file.name))
                        .frames;
                    let samples = (seconds * f64::from(config.sample_rate)).round() as usize;
                    assert_eq!(
                        frames.dim(),
                        (frame_count(samples, config.hop_length), config.n_mels),
                        "{}",
                        file.name
                    );
                    assert!(frames.iter().all(|x| x.is_finite()), "{}", file.name);
                }
                Outcome::Skipped(reason) => {
                    let skip = skipped.iter().find(|s| s.path.ends_with(file.name));
                    let skip = skip.unwrap_or_else(|| panic!("{} not skipped", file.name));
                    assert!(
                        skip.reason.contains(reason),
                        "{}: {}",
                        file.name,
                        skip.reason
                    );
                }
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
