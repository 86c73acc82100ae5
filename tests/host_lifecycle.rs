//! Activation lifecycle through a real CLAP host. Kept in its own test binary (its own process)
//! so that thread counts are not disturbed by other tests.

mod harness;

use harness::{assert_worker_threads, process, thread_names, worker_threads, PluginUnderTest};

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
