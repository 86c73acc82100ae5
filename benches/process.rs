//! Audio-thread cost of `process()` with the analysis running, against the same build with the
//! ring push switched off (the `analyze` parameter), both loaded through the CLAP harness in one
//! process and measured in interleaved rounds.
//!
//! Run: `cargo bench --features test-hooks --bench process`

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{BlockRunner, PluginUnderTest};

const SAMPLE_RATE: f64 = 48_000.0;
const CHANNELS: usize = 2;
/// Measured rounds per configuration under `cargo bench`.
const ROUNDS: usize = 200;
/// Audio per round, in frames: well under the ring's 10 s, so the push never meets a full ring.
const FRAMES_PER_ROUND: usize = 48_000 / 4;

/// One plugin instance with a started processor and its host buffers.
struct Bench {
    plugin: PluginUnderTest,
    runner: Option<BlockRunner>,
    input: Vec<Vec<f32>>,
    output: Vec<Vec<f32>>,
}

impl Bench {
    fn new(analyze: bool, block: usize) -> Self {
        let mut plugin = PluginUnderTest::load();
        plugin
            .edit_state(|state| state["params"]["analyze"] = serde_json::json!({ "bool": analyze }))
            .unwrap();
        let processor = plugin.activate(SAMPLE_RATE, block as u32);
        let input = (0..CHANNELS)
            .map(|ch| {
                (0..block)
                    .map(|i| 0.3 * ((i + ch * 17) as f32 * 0.05).sin())
                    .collect()
            })
            .collect();
        Self {
            plugin,
            runner: Some(BlockRunner::start(processor, CHANNELS)),
            input,
            output: vec![vec![0.0; block]; CHANNELS],
        }
    }

    /// Waits until the worker has drained the ring, then times `blocks` process calls.
    fn round(&mut self, blocks: usize) -> Duration {
        self.plugin.pacer(0)();
        let runner = self.runner.as_mut().unwrap();
        let start = Instant::now();
        for _ in 0..blocks {
            runner.run(
                self.input.iter_mut().map(|b| &mut b[..]),
                self.output.iter_mut().map(|b| &mut b[..]),
            );
        }
        start.elapsed()
    }

    fn finish(mut self) -> harness::TestReport {
        let processor = self.runner.take().unwrap().stop();
        let report = self.plugin.report();
        self.plugin.deactivate(processor);
        report
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and stays quick.
    let rounds = if std::env::args().any(|a| a == "--bench") {
        ROUNDS
    } else {
        3
    };
    println!("process() cost, {CHANNELS} ch at {SAMPLE_RATE} Hz, median of {rounds} rounds");
    println!(
        "{:>7} {:>14} {:>14} {:>8}",
        "block", "push ns/blk", "no-push ns/blk", "ratio"
    );
    for block in [32, 64, 512, 4096] {
        let blocks = (FRAMES_PER_ROUND / block).max(1);
        let mut with_push = Bench::new(true, block);
        let mut without_push = Bench::new(false, block);
        // Warm up caches, the worker and the branch predictors.
        with_push.round(blocks);
        without_push.round(blocks);

        let (mut on, mut off) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            // Alternate the order so drift and frequency changes hit both sides alike.
            if round % 2 == 0 {
                on.push(with_push.round(blocks));
                off.push(without_push.round(blocks));
            } else {
                off.push(without_push.round(blocks));
                on.push(with_push.round(blocks));
            }
        }
        let per_block = |times: Vec<Duration>| {
            median(
                times
                    .into_iter()
                    .map(|t| t.as_nanos() as f64 / blocks as f64)
                    .collect(),
            )
        };
        let (on, off) = (per_block(on), per_block(off));
        let pushed = with_push.finish();
        let not_pushed = without_push.finish();
        assert_eq!(pushed.stats.dropped, 0, "the ring overflowed: {pushed:?}");
        assert!(pushed.stats.pushed > 0 && not_pushed.stats.pushed == 0);
        println!("{block:>7} {on:>14.0} {off:>14.0} {:>8.3}", on / off);
    }
}
