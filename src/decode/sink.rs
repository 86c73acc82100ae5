//! The decoder's sink: downmixing, trimming, checking and resampling decoded packets as they
//! arrive, so only the output is ever held in memory.

use crate::features::limit::{MAX_RATE_HZ, MIN_RATE_HZ};
use crate::resample::ClipResampler;

use super::{MonoAudio, TRUNCATION_SECONDS};

/// Where decoded packets go: downmixed, trimmed to the stream's real frames, checked, and
/// resampled into one output buffer per output rate as they arrive (one decode serves every
/// model rate of an analysis).
pub struct MonoSink {
    /// Frames still to drop at the start (encoder delay).
    delay: usize,
    /// Frames still to keep, when the stream says how many it has.
    frames_left: Option<usize>,
    /// Output rates in Hz, at least one; `None`: the file's rate.
    output_rates: Vec<Option<u32>>,
    max_seconds: u32,
    /// Set by the first packet: the file's rate, channel count and a resampler per output rate.
    stream: Option<(u32, usize, Vec<ClipResampler>)>,
    /// Frames kept so far.
    frames: usize,
    mono: Vec<f32>,
}

impl MonoSink {
    pub fn new(
        delay: usize,
        frames: Option<usize>,
        output_rates: &[Option<u32>],
        max_seconds: u32,
    ) -> Self {
        debug_assert!(!output_rates.is_empty());
        Self {
            delay,
            frames_left: frames.map(|n| n.saturating_sub(delay)),
            output_rates: output_rates.to_vec(),
            max_seconds,
            stream: None,
            frames: 0,
            mono: Vec::new(),
        }
    }

    /// Takes interleaved samples of `channels` channels at `rate` Hz.
    pub fn push(&mut self, interleaved: &[f32], rate: u32, channels: usize) -> Result<(), String> {
        let (file_rate, file_channels, resamplers) = match &mut self.stream {
            Some(stream) => stream,
            None => {
                if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&rate) {
                    return Err(format!(
                        "sample rate {rate} Hz is outside the supported {}–{} kHz",
                        MIN_RATE_HZ / 1000,
                        MAX_RATE_HZ / 1000
                    ));
                }
                if channels == 0 {
                    return Err("the stream has no channels".into());
                }
                let resamplers = self
                    .output_rates
                    .iter()
                    .map(|output| {
                        ClipResampler::new(rate, output.unwrap_or(rate))
                            .map_err(|err| format!("cannot resample {rate} Hz ({err})"))
                    })
                    .collect::<Result<_, _>>()?;
                self.stream.insert((rate, channels, resamplers))
            }
        };
        if (*file_rate, *file_channels) != (rate, channels) {
            return Err(format!(
                "the stream changes from {file_channels} channels at {file_rate} Hz to \
                 {channels} at {rate} Hz"
            ));
        }
        let scale = 1.0 / channels as f32;
        let frames = interleaved.chunks_exact(channels);
        let skip = self.delay.min(frames.len());
        self.delay -= skip;
        let take = self.frames_left.map_or(usize::MAX, |left| left);
        self.mono.clear();
        self.mono.extend(
            frames
                .skip(skip)
                .take(take)
                .map(|frame| frame.iter().map(|x| x * scale).sum::<f32>()),
        );
        if let Some(left) = &mut self.frames_left {
            *left -= self.mono.len();
        }
        if let Some(bad) = self.mono.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "sample {} is {} (only finite samples are audio)",
                self.frames + bad,
                self.mono[bad]
            ));
        }
        self.frames += self.mono.len();
        if self.frames > self.max_seconds as usize * rate as usize {
            return Err(format!(
                "longer than {} s, the longest audio decoded (split the file)",
                self.max_seconds
            ));
        }
        for resampler in resamplers {
            resampler.push(&self.mono);
        }
        Ok(())
    }

    /// The decoded audio at each output rate, in the order of the rates.
    pub fn finish(self, skipped_packets: usize) -> Result<Vec<MonoAudio>, String> {
        let Some((file_rate, channels, resamplers)) = self.stream else {
            return Err("no decodable audio".into());
        };
        if self.frames == 0 {
            return Err("no decodable audio".into());
        }
        let missing_seconds = self.frames_left.unwrap_or(0) as f64 / f64::from(file_rate);
        let missing_seconds = if missing_seconds < TRUNCATION_SECONDS {
            0.0
        } else {
            missing_seconds
        };
        Ok(resamplers
            .into_iter()
            .zip(self.output_rates)
            .map(|(resampler, rate)| MonoAudio {
                samples: resampler.finish(),
                sample_rate: rate.unwrap_or(file_rate),
                file_rate,
                channels,
                skipped_packets,
                missing_seconds,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::MAX_SECONDS;

    #[test]
    fn audio_beyond_the_length_limit_is_an_error_not_a_memory_hog() {
        let mut sink = MonoSink::new(0, None, &[Some(16_000)], 1);
        sink.push(&[0.1; 16_000], 8_000, 2).unwrap();
        sink.push(&[0.1; 2], 8_000, 2).unwrap_err();
        let err = MonoSink::new(0, None, &[None], 1)
            .push(&[0.1; 8_002], 8_000, 1)
            .unwrap_err();
        assert!(err.contains("longer than 1 s"), "{err}");
    }

    #[test]
    fn delay_and_padding_are_trimmed_across_packets() {
        // 3 frames of delay, 10 frames in all: frames 3..10 are the audio.
        let mut sink = MonoSink::new(3, Some(10), &[None], MAX_SECONDS);
        let ramp: Vec<f32> = (0..16).map(|i| i as f32 / 100.0).collect();
        sink.push(&ramp[..2], 8_000, 1).unwrap();
        sink.push(&ramp[2..], 8_000, 1).unwrap();
        assert_eq!(sink.finish(0).unwrap()[0].samples, ramp[3..10].to_vec());
        let mut sink = MonoSink::new(0, None, &[None], MAX_SECONDS);
        sink.push(&[0.0; 4], 8_000, 1).unwrap();
        let err = sink.push(&[0.0; 4], 16_000, 1).unwrap_err();
        assert!(err.contains("changes from 1 channels at 8000 Hz"), "{err}");
    }
}
