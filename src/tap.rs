//! The audio thread's only job besides passing audio through: downmix each block to mono and
//! push it into a preallocated lock-free ring for the analysis worker.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::stats::Stats;

/// The ring always holds at least this much audio at the host rate, in seconds.
pub const RING_SECONDS: f64 = 10.0;

/// Producer half of the analysis ring, owned by the plugin and used only on the audio thread.
pub struct AudioTap {
    producer: rtrb::Producer<f32>,
    stats: Arc<Stats>,
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
    (AudioTap { producer, stats }, consumer)
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
    /// sanitises them, which keeps this loop branch-free.
    pub fn push<C: AsRef<[f32]>>(&mut self, channels: &[C]) {
        let Some(first) = channels.first() else {
            return;
        };
        let len = first.as_ref().len();
        let writable = len.min(self.producer.slots());
        let dropped = len - writable;

        if writable > 0 {
            // NOTE: `write_chunk_uninit()` only fails when `writable > slots()`, which the `min`
            //       above rules out; it never allocates.
            if let Ok(mut chunk) = self.producer.write_chunk_uninit(writable) {
                let scale = 1.0 / channels.len() as f32;
                let (head, tail) = chunk.as_mut_slices();
                let mut frame = 0;
                for slot in head.iter_mut().chain(tail.iter_mut()) {
                    let mixed = channels
                        .iter()
                        .map(|ch| ch.as_ref()[frame] * scale)
                        .sum::<f32>();
                    slot.write(mixed);
                    frame += 1;
                }
                // SAFETY: every slot of both slices was written in the loop above.
                unsafe { chunk.commit_all() };
                self.stats
                    .pushed
                    .fetch_add(writable as u64, Ordering::Relaxed);
            }
        }
        if dropped > 0 {
            self.stats
                .dropped
                .fetch_add(dropped as u64, Ordering::Relaxed);
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
