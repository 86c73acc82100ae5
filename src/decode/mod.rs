//! Decoding audio files to mono `f32` samples: `symphonia` for WAV, AIFF, FLAC, Ogg Vorbis,
//! MP3, ..., and our own reader for Sun `.au` (GTZAN's original files).

mod au;

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::analysis::resample::resample_clip;

/// A decoded file, downmixed to mono (the channel mean).
#[derive(Debug, Clone)]
pub struct MonoAudio {
    pub samples: Vec<f32>,
    /// In Hz.
    pub sample_rate: u32,
    /// Channels in the file before the downmix.
    pub channels: usize,
    /// Packets that failed to decode and were skipped (their audio is missing).
    pub skipped_packets: usize,
}

impl MonoAudio {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// Why a file could not be decoded.
#[derive(Debug)]
pub struct DecodeError {
    pub path: PathBuf,
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode {}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes the first audio track of `path` to mono. Corrupt packets inside an otherwise
/// readable stream are skipped and counted; a file with no decodable audio is an error.
pub fn decode_mono(path: &Path) -> Result<MonoAudio, DecodeError> {
    let fail = |reason: String| DecodeError {
        path: path.to_owned(),
        reason,
    };
    let mut file = File::open(path).map_err(|err| fail(err.to_string()))?;
    let mut magic = [0u8; 4];
    let is_au = file.read_exact(&mut magic).is_ok() && &magic == au::MAGIC;
    file.rewind().map_err(|err| fail(err.to_string()))?;
    if is_au {
        return decode_au(path).map_err(fail);
    }
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|err| fail(format!("unrecognised format ({err})")))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| fail("no audio track".into()))?;
    let track_id = track.id;
    // Encoder delay and end padding (Ogg's last granule position, for one) are trimmed below,
    // so the sample count matches libsndfile's and ffmpeg's.
    let params = &track.codec_params;
    let delay = params.delay.unwrap_or(0) as usize;
    let exact_frames = params
        .n_frames
        .map(|n| (n as usize).saturating_sub(params.padding.unwrap_or(0) as usize));
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|err| fail(format!("unsupported codec ({err})")))?;

    let mut samples = Vec::new();
    let mut sample_rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut channels = track.codec_params.channels.map_or(0, |c| c.count());
    let mut skipped_packets = 0;
    let mut interleaved: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(err))
                if err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(err) => return Err(fail(format!("read error ({err})"))),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(SymphoniaError::DecodeError(_)) => {
                skipped_packets += 1;
                continue;
            }
            Err(err) => return Err(fail(format!("decode error ({err})"))),
        };
        let spec = *decoded.spec();
        sample_rate = spec.rate;
        channels = spec.channels.count();
        let buffer = match &mut interleaved {
            Some(buffer) if buffer.capacity() >= decoded.capacity() * channels => buffer,
            slot => slot.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buffer.copy_interleaved_ref(decoded);
        samples.extend(downmix(buffer.samples(), channels));
    }

    if let Some(frames) = exact_frames {
        samples.truncate(frames);
    }
    samples.drain(..delay.min(samples.len()));
    if samples.is_empty() || sample_rate == 0 {
        return Err(fail("no decodable audio".into()));
    }
    Ok(MonoAudio {
        samples,
        sample_rate,
        channels,
        skipped_packets,
    })
}

/// The channel mean of each frame of `interleaved` audio.
fn downmix(interleaved: &[f32], channels: usize) -> impl Iterator<Item = f32> + '_ {
    let scale = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(move |frame| frame.iter().map(|x| x * scale).sum())
}

fn decode_au(path: &Path) -> Result<MonoAudio, String> {
    let bytes = std::fs::read(path).map_err(|err| err.to_string())?;
    let audio = au::parse(&bytes)?;
    if audio.samples.len() < audio.channels {
        return Err("no decodable audio".into());
    }
    Ok(MonoAudio {
        samples: downmix(&audio.samples, audio.channels).collect(),
        sample_rate: audio.sample_rate,
        channels: audio.channels,
        skipped_packets: 0,
    })
}

/// [`decode_mono()`], then resampled to `sample_rate` Hz with the analysis resampler.
pub fn decode_mono_at(path: &Path, sample_rate: u32) -> Result<MonoAudio, DecodeError> {
    let mut audio = decode_mono(path)?;
    if audio.sample_rate != sample_rate {
        audio.samples =
            resample_clip(&audio.samples, audio.sample_rate, sample_rate).map_err(|err| {
                DecodeError {
                    path: path.to_owned(),
                    reason: format!(
                        "cannot resample {} Hz to {sample_rate} Hz ({err})",
                        audio.sample_rate
                    ),
                }
            })?;
        audio.sample_rate = sample_rate;
    }
    Ok(audio)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, channels: u16, rate: u32, frames: &[Vec<i16>]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for &sample in frames.iter().flatten() {
            writer.write_sample(sample).unwrap();
        }
        writer.finalize().unwrap();
    }

    #[test]
    fn decodes_and_downmixes_a_stereo_wav() {
        let dir = std::env::temp_dir().join(format!("genrescope-decode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stereo.wav");
        let frames: Vec<Vec<i16>> = (0..1000)
            .map(|i| vec![16_384, if i % 2 == 0 { 0 } else { -16_384 }])
            .collect();
        write_wav(&path, 2, 8000, &frames);

        let audio = decode_mono(&path).unwrap();
        assert_eq!(
            (audio.sample_rate, audio.channels, audio.samples.len()),
            (8000, 2, 1000)
        );
        assert_eq!(audio.samples[0], 0.25);
        assert_eq!(audio.samples[1], 0.0);

        let resampled = decode_mono_at(&path, 16_000).unwrap();
        assert_eq!(
            (resampled.sample_rate, resampled.samples.len()),
            (16_000, 2000)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reads_gtzan_style_au_files_by_content() {
        let dir = std::env::temp_dir().join(format!("genrescope-au-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("blues.00000.au");
        let mut bytes = b".snd".to_vec();
        for word in [24u32, 8, 3, 22_050, 2] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        for sample in [16_384i16, 0, -16_384, -16_384] {
            bytes.extend_from_slice(&sample.to_be_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        let audio = decode_mono(&path).unwrap();
        assert_eq!((audio.sample_rate, audio.channels), (22_050, 2));
        assert_eq!(audio.samples, vec![0.25, -0.5]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn garbage_and_missing_files_are_clear_errors() {
        let dir = std::env::temp_dir().join(format!("genrescope-garbage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("noise.ogg");
        std::fs::write(&path, b"definitely not an ogg file").unwrap();
        let err = decode_mono(&path).unwrap_err();
        assert!(err.to_string().contains("noise.ogg"), "{err}");
        assert!(decode_mono(&dir.join("missing.wav")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
