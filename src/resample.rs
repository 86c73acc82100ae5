//! Streaming mono resampling from the host rate to the analysis rate.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, ResamplerConstructionError, WindowFunction};

use crate::features::limit::clip;

/// Frames of one FFT block on the lower-rate side, at least. rubato's FFT resampler filters
/// with a windowed sinc as long as its block, so the block sets the anti-aliasing cutoff:
/// about `1 - 13.7 / block` of the lower rate's Nyquist frequency for the Blackman-Harris²
/// window (rubato's `calculate_cutoff`). With 1024 frames the passband reaches 98.7 % of it
/// (7.89 kHz at a 16-kHz model rate) for every rate pair.
///
/// NOTE: rubato's own default targets ~256 input frames per block whatever the ratio, which
///       leaves only 86 output frames for 48 kHz → 16 kHz and cut at 6.7 kHz there (3.3 kHz
///       from 192 kHz, 1 kHz from 384 kHz): the same music read differently at every rate.
const MIN_BLOCK_FRAMES: usize = 1024;

/// What the resampler is, for caches of anything computed after it (a change here must change
/// this text).
pub const DESIGN: &str = "rubato FFT, Blackman-Harris² sinc, blocks of at least 1024 frames";

/// Converts an arbitrary-length mono stream from `input_rate` to `output_rate` (both in Hz),
/// calling a sink with each resampled run. Allocates only in [`StreamResampler::new()`].
///
/// The resampler's own start-up delay is trimmed, so output sample `k` lines up with input time
/// `k / output_rate` seconds. Input must be finite; it is clipped to
/// ±[`SAMPLE_LIMIT`](crate::features::limit::SAMPLE_LIMIT) before resampling, so it never
/// overflows the FFT. Equal rates pass samples straight through.
pub struct StreamResampler {
    /// `None` when the rates are equal.
    fft: Option<Fft<f32>>,
    /// Input gathered until the resampler has a full chunk.
    pending: Vec<f32>,
    output: Vec<f32>,
    /// Output samples still to discard to compensate the resampler delay.
    delay_left: usize,
}

impl StreamResampler {
    pub fn new(input_rate: u32, output_rate: u32) -> Result<Self, ResamplerConstructionError> {
        if input_rate == output_rate {
            return Ok(Self {
                fft: None,
                pending: Vec::new(),
                output: Vec::new(),
                delay_left: 0,
            });
        }

        let block_in = block_frames(input_rate, output_rate);
        let fft = Fft::<f32>::new_custom(
            input_rate as usize,
            output_rate as usize,
            block_in,
            1,
            1,
            WindowFunction::BlackmanHarris2,
            FixedSync::Both,
        )?;
        let pending = Vec::with_capacity(fft.input_frames_max());
        let output = vec![0.0; fft.output_frames_max()];
        let delay_left = fft.output_delay();
        Ok(Self {
            fft: Some(fft),
            pending,
            output,
            delay_left,
        })
    }

    /// Feeds `input` and hands every complete run of resampled audio to `sink`, in order.
    pub fn process(&mut self, mut input: &[f32], mut sink: impl FnMut(&[f32])) {
        let Some(fft) = &mut self.fft else {
            sink(input);
            return;
        };

        while !input.is_empty() {
            let needed = fft.input_frames_next() - self.pending.len();
            let taken = needed.min(input.len());
            self.pending.extend(input[..taken].iter().map(|&x| clip(x)));
            input = &input[taken..];
            if self.pending.len() < fft.input_frames_next() {
                break;
            }

            let frames_in = self.pending.len();
            let frames_out = self.output.len();
            let adapter_in = InterleavedSlice::new(&self.pending[..], 1, frames_in)
                .expect("input buffer matches its frame count");
            let mut adapter_out = InterleavedSlice::new_mut(&mut self.output[..], 1, frames_out)
                .expect("output buffer matches its frame count");
            let (_, written) = fft
                .process_into_buffer(&adapter_in, &mut adapter_out, None)
                .expect("buffers are sized from the resampler's own limits");
            self.pending.clear();

            let skipped = self.delay_left.min(written);
            self.delay_left -= skipped;
            if written > skipped {
                sink(&self.output[skipped..written]);
            }
        }
    }
}

/// Input frames of the resampler's FFT block for `input_rate` → `output_rate`: the smallest
/// whole number of the pair's minimum blocks (`rate / gcd` on each side) that gives the
/// lower-rate side at least [`MIN_BLOCK_FRAMES`].
fn block_frames(input_rate: u32, output_rate: u32) -> usize {
    let (input_rate, output_rate) = (input_rate as usize, output_rate as usize);
    let gcd = num_integer::gcd(input_rate, output_rate);
    let (min_in, min_out) = (input_rate / gcd, output_rate / gcd);
    MIN_BLOCK_FRAMES.div_ceil(min_in.min(min_out)) * min_in
}

/// Resamples a whole clip given in pieces, with the same resampler the plugin's worker uses:
/// after [`ClipResampler::finish()`] the output has `round(len · output_rate / input_rate)`
/// samples for `len` input samples, aligned with the input (the tail is flushed with silence).
pub struct ClipResampler {
    stream: StreamResampler,
    input_rate: u32,
    output_rate: u32,
    /// Input samples pushed so far.
    input_len: usize,
    out: Vec<f32>,
}

impl ClipResampler {
    pub fn new(input_rate: u32, output_rate: u32) -> Result<Self, ResamplerConstructionError> {
        Ok(Self {
            stream: StreamResampler::new(input_rate, output_rate)?,
            input_rate,
            output_rate,
            input_len: 0,
            out: Vec::new(),
        })
    }

    /// Feeds the clip's next samples.
    pub fn push(&mut self, samples: &[f32]) {
        self.input_len += samples.len();
        let out = &mut self.out;
        self.stream
            .process(samples, |run| out.extend_from_slice(run));
    }

    /// The resampled clip.
    pub fn finish(mut self) -> Vec<f32> {
        let expected = (self.input_len as f64 * f64::from(self.output_rate)
            / f64::from(self.input_rate))
        .round() as usize;
        let silence = vec![0.0; MIN_BLOCK_FRAMES];
        let out = &mut self.out;
        while out.len() < expected {
            self.stream
                .process(&silence, |run| out.extend_from_slice(run));
        }
        self.out.truncate(expected);
        self.out
    }
}

/// Resamples a whole clip from `input_rate` to `output_rate` Hz (see [`ClipResampler`]).
pub fn resample_clip(
    samples: &[f32],
    input_rate: u32,
    output_rate: u32,
) -> Result<Vec<f32>, ResamplerConstructionError> {
    let mut resampler = ClipResampler::new(input_rate, output_rate)?;
    resampler.push(samples);
    Ok(resampler.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::limit::{MAX_RATE_HZ, MIN_RATE_HZ};

    fn sine(rate: u32, freq: f32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n)
            .map(|i| {
                (std::f64::consts::TAU * f64::from(freq) * i as f64 / f64::from(rate)).sin() as f32
            })
            .collect()
    }

    fn resample_in_odd_pieces(input_rate: u32, output_rate: u32, input: &[f32]) -> Vec<f32> {
        let mut resampler = StreamResampler::new(input_rate, output_rate).unwrap();
        let mut out = Vec::new();
        let mut rest = input;
        let mut piece = 1;
        while !rest.is_empty() {
            let n = piece.min(rest.len());
            resampler.process(&rest[..n], |run| out.extend_from_slice(run));
            rest = &rest[n..];
            piece = (piece * 7 + 3) % 5000 + 1;
        }
        out
    }

    #[test]
    fn whole_clips_keep_their_duration_and_content() {
        let input = sine(44_100, 440.0, 1.5);
        let out = resample_clip(&input, 44_100, 22_050).unwrap();
        assert_eq!(out.len(), 33_075);
        let reference = sine(22_050, 440.0, 1.5);
        // Away from the clip edges the resampled sine lines up within one sample.
        let max_error = out[1000..32_000]
            .iter()
            .zip(&reference[1000..32_000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_error < 0.13, "{max_error}");
        assert_eq!(resample_clip(&input, 44_100, 44_100).unwrap(), input);
    }

    #[test]
    fn equal_rates_pass_through_unchanged() {
        let input = sine(22_050, 440.0, 0.1);
        assert_eq!(resample_in_odd_pieces(22_050, 22_050, &input), input);
    }

    /// Amplitude of the `freq`-Hz component of `signal` (at `rate` Hz), away from the edges.
    fn amplitude_at(signal: &[f32], rate: u32, freq: f64) -> f64 {
        let settled = 4096..signal.len() - 4096;
        let (mut sin_sum, mut cos_sum) = (0.0f64, 0.0f64);
        for i in settled.clone() {
            let phase = std::f64::consts::TAU * freq * i as f64 / f64::from(rate);
            sin_sum += f64::from(signal[i]) * phase.sin();
            cos_sum += f64::from(signal[i]) * phase.cos();
        }
        2.0 * (sin_sum * sin_sum + cos_sum * cos_sum).sqrt() / settled.len() as f64
    }

    #[test]
    fn the_passband_and_the_stopband_do_not_depend_on_the_rate_pair() {
        // Every rate the issue of rate-dependent answers listed, and the extremes, into the
        // musicnn rate: a tone at 95 % of the lower Nyquist frequency keeps its level within
        // 0.1 dB, and a tone 5 % above the output's Nyquist frequency is gone (-60 dB).
        let output_rate = 16_000;
        for input_rate in [
            MIN_RATE_HZ,
            11_025,
            20_000,
            22_050,
            23_000,
            24_000,
            32_000,
            44_100,
            48_000,
            96_000,
            192_000,
            MAX_RATE_HZ,
        ] {
            let pass = 0.95 * f64::from(input_rate.min(output_rate)) / 2.0;
            let out = resample_clip(&sine(input_rate, pass as f32, 2.0), input_rate, output_rate)
                .unwrap();
            let gain_db = 20.0 * amplitude_at(&out, output_rate, pass).log10();
            assert!(
                gain_db.abs() < 0.1,
                "{input_rate} Hz: {pass} Hz at {gain_db} dB"
            );

            let stop = 1.05 * f64::from(output_rate) / 2.0;
            if f64::from(input_rate) / 2.0 > stop {
                let out =
                    resample_clip(&sine(input_rate, stop as f32, 2.0), input_rate, output_rate)
                        .unwrap();
                // What is left of it would fold to the mirror frequency.
                let alias = f64::from(output_rate) - stop;
                let leak_db = 20.0 * amplitude_at(&out, output_rate, alias).log10();
                assert!(
                    leak_db < -60.0,
                    "{input_rate} Hz: {stop} Hz leaks at {leak_db} dB"
                );
            }
        }
    }

    #[test]
    fn keeps_a_sine_aligned_in_time_at_every_supported_rate() {
        for input_rate in [
            MIN_RATE_HZ,
            11_025,
            44_100,
            48_000,
            96_000,
            192_000,
            MAX_RATE_HZ,
        ] {
            let input = sine(input_rate, 440.0, 2.0);
            let out = resample_in_odd_pieces(input_rate, 22_050, &input);

            // The output length is the resampled duration minus what is still in flight.
            let expected_len = 2.0 * 22_050.0;
            assert!(
                out.len() as f32 > expected_len - 4096.0 && out.len() as f32 <= expected_len,
                "{input_rate} Hz: {} samples",
                out.len()
            );

            // After the delay trim the output is the same sine on the analysis clock: fit its
            // amplitude and phase against sin/cos at 440 Hz, away from the edges.
            let (mut sin_sum, mut cos_sum) = (0.0f64, 0.0f64);
            let settled = 2048..out.len() - 2048;
            for i in settled.clone() {
                let phase = std::f64::consts::TAU * 440.0 * i as f64 / 22_050.0;
                sin_sum += f64::from(out[i]) * phase.sin();
                cos_sum += f64::from(out[i]) * phase.cos();
            }
            let n = settled.len() as f64;
            let amplitude = 2.0 * (sin_sum * sin_sum + cos_sum * cos_sum).sqrt() / n;
            let lag_samples = cos_sum.atan2(sin_sum) / std::f64::consts::TAU * 22_050.0 / 440.0;
            assert!(
                (amplitude - 1.0).abs() < 1e-3,
                "{input_rate} Hz: amplitude {amplitude}"
            );
            assert!(
                lag_samples.abs() <= 1.0,
                "{input_rate} Hz: off by {lag_samples} samples"
            );
        }
    }
}
