//! Decoding audio files to mono `f32` samples: `symphonia` for WAV, AIFF, FLAC, Ogg Vorbis,
//! MP3, AAC in MP4 (`.m4a`), ..., and our own reader for Sun `.au` (GTZAN's original files).

mod au;
mod flac_metadata;
mod mp4_edit;
mod ogg_comments;
mod sink;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::AssertUnwindSafe;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::formats::FormatReader;
use symphonia::core::io::{MediaSource, MediaSourceStream, SeekBuffered};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Instantiate;

use crate::Error;
use sink::MonoSink;

/// Longest audio decoded, in seconds (2 hours: a DJ mix or a long album side). Decoded audio is
/// held in memory at the output rate, about 5.3 MB per minute at 22 050 Hz (635 MB at this
/// limit); longer files are an error rather than a surprise for the machine.
pub const MAX_SECONDS: u32 = 2 * 60 * 60;

/// Shortest shortfall, in seconds, of the audio a stream's header promises that counts as a
/// truncated file (headers of VBR MP3s may be a frame, 26 ms, off).
pub const TRUNCATION_SECONDS: f64 = 0.1;

/// Peak level below which audio counts as silent (about -80 dBFS).
pub const SILENCE_PEAK: f32 = 1e-4;

/// A decoded file, downmixed to mono (the channel mean).
#[derive(Debug, Clone)]
pub struct MonoAudio {
    /// Finite samples at `sample_rate`.
    pub samples: Vec<f32>,
    /// In Hz.
    pub sample_rate: u32,
    /// The file's own rate in Hz (before any resampling).
    pub file_rate: u32,
    /// Channels in the file before the downmix.
    pub channels: usize,
    /// Packets that failed to decode and were skipped (their audio is missing).
    pub skipped_packets: usize,
    /// Audio the stream's header promises that the file does not hold (a truncated file), in
    /// seconds; 0 when complete or when the header does not say (see [`TRUNCATION_SECONDS`]).
    pub missing_seconds: f64,
}

impl MonoAudio {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }

    /// An error naming the peak level when the audio is silent (peak below [`SILENCE_PEAK`]):
    /// there is nothing to analyse or learn from.
    pub fn audible(&self) -> Result<(), String> {
        // Audible audio ends the scan at its first sample at the threshold; only silence is read
        // to the end, twice.
        if self.samples.iter().any(|x| x.abs() >= SILENCE_PEAK) {
            return Ok(());
        }
        let peak = self.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        Err(format!("silent (peak {peak:e}, below -80 dBFS)"))
    }
}

/// Decodes the first audio track of `path` to mono at the file's own rate. Corrupt packets
/// inside an otherwise readable stream are skipped and counted; a file with no decodable audio,
/// non-finite samples, a rate outside 8–384 kHz or more than [`MAX_SECONDS`] of audio is an
/// error.
pub fn decode_mono(path: &Path) -> Result<MonoAudio, Error> {
    decode_path(path, None)
}

/// [`decode_mono()`], resampled to `sample_rate` Hz with the analysis resampler while
/// decoding (only the resampled audio is held in memory).
pub fn decode_mono_at(path: &Path, sample_rate: u32) -> Result<MonoAudio, Error> {
    decode_path(path, Some(sample_rate))
}

/// [`decode_mono()`] resampled to each of `sample_rates` (Hz) with the analysis resampler,
/// from one decode: each result equals [`decode_mono_at()`]'s at its rate. Models at different
/// rates (the genre and the mood model) analyse one file this way.
pub fn decode_mono_at_rates(path: &Path, sample_rates: &[u32]) -> Result<Vec<MonoAudio>, Error> {
    let rates: Vec<Option<u32>> = sample_rates.iter().copied().map(Some).collect();
    decode_path_at(path, &rates)
}

fn decode_path(path: &Path, sample_rate: Option<u32>) -> Result<MonoAudio, Error> {
    let mut decoded = decode_path_at(path, &[sample_rate])?;
    Ok(decoded.pop().expect("one rate, one result"))
}

fn decode_path_at(path: &Path, sample_rates: &[Option<u32>]) -> Result<Vec<MonoAudio>, Error> {
    let decode = || {
        let file = File::open(path).map_err(|err| err.to_string())?;
        decode_source_at(Box::new(file), sample_rates)
    };
    decode().map_err(|reason| Error::Decode {
        path: path.to_owned(),
        reason,
    })
}

/// [`decode_mono()`] or, with `sample_rate`, [`decode_mono_at()`] on any byte source (a file,
/// or bytes in memory: `std::io::Cursor`). The content decides the format, never the file
/// name. The error is the reason alone, without a path.
pub fn decode_source(
    source: Box<dyn MediaSource>,
    sample_rate: Option<u32>,
) -> Result<MonoAudio, String> {
    let mut decoded = decode_source_at(source, &[sample_rate])?;
    Ok(decoded.pop().expect("one rate, one result"))
}

/// [`decode_source`] at each of `sample_rates` (`None`: the file's rate), from one decode.
fn decode_source_at(
    mut source: Box<dyn MediaSource>,
    sample_rates: &[Option<u32>],
) -> Result<Vec<MonoAudio>, String> {
    if source.byte_len() == Some(0) {
        return Err("empty file (0 bytes)".into());
    }
    let mut header = Vec::with_capacity(8);
    (&mut source)
        .take(8)
        .read_to_end(&mut header)
        .map_err(|err| err.to_string())?;
    source.rewind().map_err(|err| err.to_string())?;
    let is_au = header.get(..4) == Some(&au::MAGIC[..]);
    let edit = mp4_edit::is_mp4(&header)
        .then(|| mp4_edit::audio_edit(&mut source))
        .flatten();
    if is_au {
        let mut bytes = Vec::new();
        source
            .read_to_end(&mut bytes)
            .map_err(|err| err.to_string())?;
        let audio = au::parse(&bytes)?;
        let mut sink = MonoSink::new(0, None, sample_rates, MAX_SECONDS);
        sink.push(&audio.samples, audio.sample_rate, audio.channels)?;
        return sink.finish(0);
    }
    let stream = MediaSourceStream::new(source, Default::default());
    let mut format = guarded(|| open_format(stream))??;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or("no audio track")?;
    let track_id = track.id;
    // Encoder delay and end padding (Ogg's last granule position, an MP3's LAME header, an
    // MP4's edit list) are trimmed, so the sample count matches libsndfile's and ffmpeg's.
    let params = &track.codec_params;
    let (delay, exact_frames) = match (edit, params.sample_rate) {
        (Some(edit), Some(rate)) => edit.frames(rate),
        _ => (
            params.delay.unwrap_or(0) as usize,
            params
                .n_frames
                .map(|n| (n as usize).saturating_sub(params.padding.unwrap_or(0) as usize)),
        ),
    };
    let mut sink = MonoSink::new(delay, exact_frames, sample_rates, MAX_SECONDS);
    let mut decoder = guarded(|| {
        symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default())
    })?
    .map_err(|err| format!("unsupported codec ({err})"))?;

    let mut skipped_packets = 0;
    let mut interleaved: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match guarded(|| format.next_packet())? {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(err))
                if err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(err) => return Err(format!("read error ({err})")),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = guarded(|| {
            let decoded = decoder.decode(&packet)?;
            let spec = *decoded.spec();
            let buffer = match &mut interleaved {
                Some(buffer) if buffer.capacity() >= decoded.capacity() * spec.channels.count() => {
                    buffer
                }
                slot => slot.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
            };
            buffer.copy_interleaved_ref(decoded);
            Ok::<_, SymphoniaError>(spec)
        })?;
        let spec = match decoded {
            Ok(spec) => spec,
            Err(SymphoniaError::DecodeError(_)) => {
                skipped_packets += 1;
                continue;
            }
            Err(err) => return Err(format!("decode error ({err})")),
        };
        let samples = interleaved
            .as_ref()
            .expect("filled by the decode")
            .samples();
        sink.push(samples, spec.rate, spec.channels.count())?;
    }
    sink.finish(skipped_packets)
}

/// symphonia's `Probe::format` (which finds the container by its marker wherever it starts,
/// after tags or junk), with the FLAC metadata and Ogg comment checks
/// ([`flac_metadata::check`], [`ogg_comments::check`]) before the readers allocate what the
/// headers claim.
fn open_format(mut stream: MediaSourceStream) -> Result<Box<dyn FormatReader>, String> {
    let unrecognised = |err| format!("unrecognised format ({err})");
    let probe = symphonia::default::get_probe();
    loop {
        match probe.next(&mut stream).map_err(unrecognised)? {
            Instantiate::Format(open) => {
                let start = stream.stream_position().map_err(|err| err.to_string())?;
                let mut magic = [0u8; 4];
                let read = stream.read_exact(&mut magic).is_ok();
                if read && (&magic == flac_metadata::MAGIC || &magic == ogg_comments::MAGIC) {
                    if &magic == flac_metadata::MAGIC {
                        flac_metadata::check(&mut stream)?;
                    } else {
                        stream
                            .seek(SeekFrom::Start(start))
                            .map_err(|err| err.to_string())?;
                        ogg_comments::check(&mut stream)?;
                    }
                    stream
                        .seek(SeekFrom::Start(start))
                        .map_err(|err| err.to_string())?;
                } else {
                    // NOTE: back within the buffer, not a real seek: the MP4 reader steps back
                    // over the bytes before its marker, which only the buffer still holds.
                    stream.seek_buffered(start);
                }
                return open(stream, &FormatOptions::default()).map_err(unrecognised);
            }
            // Tags before the container (ID3v2): read past, not kept.
            Instantiate::Metadata(reader) => {
                reader(&MetadataOptions::default())
                    .read_all(&mut stream)
                    .map_err(unrecognised)?;
            }
        }
    }
}

/// Runs symphonia code, turning a panic inside it into an error: symphonia 0.5 asserts on some
/// malformed headers (a WAV with a sample rate of 0, for one), and one bad file must not take
/// down a batch.
fn guarded<T>(call: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(call)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(std::string::ToString::to_string)
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("malformed file (the decoder failed: {message})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::limit::{MAX_RATE_HZ, MIN_RATE_HZ};

    #[test]
    fn audio_is_audible_from_one_sample_at_the_threshold_and_silence_names_its_peak() {
        let audio = |samples: Vec<f32>| MonoAudio {
            samples,
            sample_rate: 8_000,
            file_rate: 8_000,
            channels: 1,
            skipped_packets: 0,
            missing_seconds: 0.0,
        };
        let mut samples = vec![0.5 * SILENCE_PEAK; 8_000];
        samples[4_000] = -0.9 * SILENCE_PEAK;
        let err = audio(samples.clone()).audible().unwrap_err();
        assert!(err.starts_with("silent (peak 8.99"), "{err}");
        samples[7_999] = -SILENCE_PEAK;
        audio(samples).audible().unwrap();
        audio(vec![]).audible().unwrap_err();
    }

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

    /// A float WAV in memory.
    fn float_wav(rate: u32, samples: &[f32]) -> Box<dyn MediaSource> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut bytes, spec).unwrap();
        for &sample in samples {
            writer.write_sample(sample).unwrap();
        }
        writer.finalize().unwrap();
        bytes.set_position(0);
        Box::new(bytes)
    }

    #[test]
    fn non_finite_samples_and_unsupported_rates_are_clear_errors() {
        let err = decode_source(float_wav(22_050, &[0.5, f32::NAN, 0.25]), None).unwrap_err();
        assert!(err.contains("sample 1 is NaN"), "{err}");
        let err = decode_source(float_wav(22_050, &[f32::INFINITY]), Some(16_000)).unwrap_err();
        assert!(err.contains("sample 0 is inf"), "{err}");
        for rate in [MIN_RATE_HZ - 1, MAX_RATE_HZ + 1] {
            let err = decode_source(float_wav(rate, &[0.5; 64]), None).unwrap_err();
            assert!(err.contains(&format!("sample rate {rate} Hz")), "{err}");
        }
        for rate in [MIN_RATE_HZ, MAX_RATE_HZ] {
            let audio = decode_source(float_wav(rate, &[0.5; 64]), None).unwrap();
            assert_eq!((audio.file_rate, audio.samples.len()), (rate, 64));
        }
    }

    #[test]
    fn a_header_symphonia_panics_on_is_an_error() {
        // The decode fuzz target's finding: a WAV with a sample rate of 0 made symphonia 0.5
        // panic ("TimeBase cannot have 0 numerator or denominator").
        let mut wav = float_wav(8_000, &[0.5; 16]);
        let mut bytes = Vec::new();
        wav.read_to_end(&mut bytes).unwrap();
        bytes[24..28].copy_from_slice(&0u32.to_le_bytes());
        let source = Box::new(std::io::Cursor::new(bytes));
        let err = decode_source(source, Some(22_050)).unwrap_err();
        assert!(err.contains("malformed file"), "{err}");
    }

    #[test]
    fn a_flac_after_junk_bytes_is_checked_too() {
        // The decode fuzz target's second FLAC finding: symphonia finds the `fLaC` marker after
        // a junk byte, and the picture block behind it claimed 2.7 GB.
        let mut bytes = vec![0xff];
        bytes.extend_from_slice(b"fLaC");
        bytes.extend_from_slice(&[0x06, 0x2e, 0x73, 0x6e, 0x00, 0x02, 0x00, 0x00, 0xa4, 0x53]);
        bytes.extend_from_slice(&[0xd7, 0xd7, 0x00, 0x00, 0x00, 0x0a, 0x00, 0xe1, 0x00, 0x01]);
        let err = decode_source(Box::new(std::io::Cursor::new(bytes)), None).unwrap_err();
        assert!(err.contains("malformed FLAC metadata"), "{err}");
    }
}
