//! The audio thread's only job besides passing audio through: downmix each block to mono and
//! push it into a preallocated lock-free ring for the analysis worker.

use std::mem::MaybeUninit;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::stats::Stats;

/// The ring always holds at least this much audio at the host rate, in seconds.
pub const RING_SECONDS: f64 = 10.0;

/// Producer half of the analysis ring, owned by the plugin and used only on the audio thread.
pub struct AudioTap {
    producer: rtrb::Producer<f32>,
    stats: Arc<Stats>,
    /// Running totals behind `stats.pushed` and `stats.dropped`, which only this side writes:
    /// publishing them is a plain store rather than an atomic read-modify-write.
    pushed: u64,
    dropped: u64,
}

/// Creates the ring for a host running at `sample_rate` Hz with blocks of at most
/// `max_block_size` frames. The capacity is at least [`RING_SECONDS`] of audio and at least two
/// maximum-sized blocks, so a worker that keeps up never loses a sample.
/// `stats.pushed` and `stats.dropped` count what happens to every sample.
pub fn ring(
    sample_rate: f32,
    max_block_size: usize,
    stats: Arc<Stats>,
) -> (AudioTap, rtrb::Consumer<f32>) {
    let capacity = ring_capacity(sample_rate, max_block_size);
    let (producer, consumer) = rtrb::RingBuffer::new(capacity);
    let tap = AudioTap {
        producer,
        stats,
        pushed: 0,
        dropped: 0,
    };
    (tap, consumer)
}

/// The ring's capacity in mono samples; see [`ring()`].
pub fn ring_capacity(sample_rate: f32, max_block_size: usize) -> usize {
    let seconds = (f64::from(sample_rate) * RING_SECONDS).ceil() as usize;
    seconds.max(2 * max_block_size).max(1)
}

impl AudioTap {
    /// Downmixes `channels` (all the same length) to mono and pushes the result. Never blocks,
    /// allocates, locks or makes a syscall; samples that do not fit are dropped and counted.
    ///
    /// The downmix is the channel mean computed as a sum of `x / n` terms, so finite input can
    /// never overflow to infinity. Non-finite samples are pushed as they are: the worker
    /// sanitises them, which keeps this loop branch-free and vectorisable.
    pub fn push<C: AsRef<[f32]>>(&mut self, channels: &[C]) {
        let Some(first) = channels.first() else {
            return;
        };
        let len = first.as_ref().len();
        // NOTE: `write_chunk_uninit()` never allocates or blocks. It only re-reads the
        //       consumer's position when its cached one shows too little room.
        let chunk = match self.producer.write_chunk_uninit(len) {
            Err(rtrb::chunks::ChunkError::TooFewSlots(free)) => {
                self.producer.write_chunk_uninit(free)
            }
            whole => whole,
        };
        let written = match chunk {
            Ok(mut chunk) => {
                let (head, tail) = chunk.as_mut_slices();
                downmix_into(head, channels, 0);
                downmix_into(tail, channels, head.len());
                let written = chunk.len();
                // SAFETY: `downmix_into()` wrote every slot of both slices.
                unsafe { chunk.commit_all() };
                written
            }
            Err(_) => 0,
        };

        self.pushed += written as u64;
        self.stats.pushed.store(self.pushed, Ordering::Relaxed);
        if written < len {
            self.dropped += (len - written) as u64;
            self.stats.dropped.store(self.dropped, Ordering::Relaxed);
        }
    }
}

/// Writes the channel mean of frames `offset..offset + dst.len()` into every slot of `dst`.
/// Mono and stereo get straight zipped loops that the compiler vectorises.
fn downmix_into<C: AsRef<[f32]>>(dst: &mut [MaybeUninit<f32>], channels: &[C], offset: usize) {
    let frames = offset..offset + dst.len();
    match channels {
        [mono] => {
            for (slot, &x) in dst.iter_mut().zip(&mono.as_ref()[frames]) {
                slot.write(x);
            }
        }
        [left, right] => {
            let (left, right) = (&left.as_ref()[frames.clone()], &right.as_ref()[frames]);
            for ((slot, &l), &r) in dst.iter_mut().zip(left).zip(right) {
                slot.write(0.5 * l + 0.5 * r);
            }
        }
        _ => {
            let scale = 1.0 / channels.len() as f32;
            for (slot, frame) in dst.iter_mut().zip(frames) {
                slot.write(channels.iter().map(|ch| ch.as_ref()[frame] * scale).sum());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_covers_ten_seconds_and_two_blocks() {
        assert_eq!(ring_capacity(48_000.0, 512), 480_000);
        assert_eq!(ring_capacity(8_000.0, 16_384), 80_000);
        assert_eq!(ring_capacity(100.0, 16_384), 32_768);
    }

    fn counted_ring(sample_rate: f32, block: usize) -> (AudioTap, rtrb::Consumer<f32>, Arc<Stats>) {
        let stats = Arc::new(Stats::default());
        let (tap, consumer) = ring(sample_rate, block, stats.clone());
        (tap, consumer, stats)
    }

    #[test]
    fn downmixes_stereo_to_the_channel_mean() {
        let (mut tap, mut consumer, stats) = counted_ring(100.0, 4);
        tap.push(&[&[1.0, -1.0, f32::MAX], &[0.0, -1.0, f32::MAX]]);
        let got: Vec<f32> = std::iter::from_fn(|| consumer.pop().ok()).collect();
        assert_eq!(got, vec![0.5, -1.0, f32::MAX]);
        assert_eq!(stats.pushed.load(Ordering::Relaxed), 3);
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn downmixes_any_channel_count() {
        let (mut tap, mut consumer, _) = counted_ring(100.0, 4);
        tap.push(&[[3.0, 6.0], [0.0, 3.0], [3.0, 0.0]]);
        tap.push(&[[0.25]]);
        let got: Vec<f32> = std::iter::from_fn(|| consumer.pop().ok()).collect();
        assert_eq!(got, vec![2.0, 3.0, 0.25]);
    }

    #[test]
    fn overflow_drops_and_counts_instead_of_blocking() {
        let (mut tap, mut consumer, stats) = counted_ring(0.1, 3);
        // Capacity is 2 * 3 = 6 samples.
        tap.push(&[&[1.0; 4]]);
        tap.push(&[&[2.0; 4]]);
        assert_eq!(stats.pushed.load(Ordering::Relaxed), 6);
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 2);
        let got: Vec<f32> = std::iter::from_fn(|| consumer.pop().ok()).collect();
        assert_eq!(got, vec![1.0, 1.0, 1.0, 1.0, 2.0, 2.0]);
    }

    #[test]
    fn wraps_around_the_ring_boundary() {
        let (mut tap, mut consumer, _) = counted_ring(0.1, 3);
        tap.push(&[&[1.0; 5]]);
        for _ in 0..5 {
            consumer.pop().unwrap();
        }
        tap.push(&[&[3.0, 4.0, 5.0, 6.0]]);
        let got: Vec<f32> = std::iter::from_fn(|| consumer.pop().ok()).collect();
        assert_eq!(got, vec![3.0, 4.0, 5.0, 6.0]);
    }
}
