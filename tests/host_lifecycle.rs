//! Activation lifecycle through a real CLAP host. Kept in its own test binary (its own process)
//! so that thread counts are not disturbed by other tests.

mod harness;

use harness::{process, thread_names, PluginUnderTest};

use std::time::{Duration, Instant};

fn worker_threads() -> usize {
    thread_names()
        .iter()
        .filter(|name| name.as_str() == genrescope::analysis::worker::THREAD_NAME)
        .count()
}

/// Waits until exactly `expected` worker threads exist. A new thread names itself only once it
/// runs, so the count may lag the spawn by a moment.
fn assert_worker_threads(expected: usize, context: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while worker_threads() != expected {
        assert!(
            Instant::now() < deadline,
            "{context}: {} worker threads, expected {expected}",
            worker_threads()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn a_thousand_activate_deactivate_cycles_leave_no_thread_behind() {
    let mut plugin = PluginUnderTest::load();
    assert_eq!(worker_threads(), 0);
    let mut baseline = None;

    let rates = [
        8_000.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0, 384_000.0,
    ];
    let input = vec![vec![0.25f32; 64]; 2];
    for cycle in 0..1000 {
        let rate = rates[cycle % rates.len()];
        let processor = plugin.activate(rate, 1 + (cycle as u32 * 97) % 16_384);
        assert_worker_threads(1, &format!("cycle {cycle}, active"));
        let processor = if cycle % 10 == 0 {
            process(processor, &input, &[64]).0
        } else {
            processor
        };
        plugin.deactivate(processor);
        assert_worker_threads(0, &format!("cycle {cycle}, deactivated"));
        // ONNX Runtime starts its process-wide threads (named `genrescope-ort`) once, when the
        // first activation loads it; from then on the count must not move.
        baseline.get_or_insert_with(|| thread_names().len());
    }
    assert_eq!(
        thread_names().len(),
        baseline.unwrap(),
        "threads: {:?}",
        thread_names()
    );
}
