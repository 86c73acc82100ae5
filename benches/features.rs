//! Single-threaded feature extraction of a 30-s 22.05-kHz clip, per research preset.
//!
//! Run: `cargo bench --bench features`. For the speed ratio against librosa on the same clip in
//! the same run, use `cargo xtask bench-features`.

use criterion::{criterion_group, criterion_main, Criterion};
use genrescope::features::{FeatureConfig, FeatureExtractor, FrameStream, Preset};

/// 30 s of a deterministic, music-like signal (the cost does not depend on the content).
fn clip() -> Vec<f32> {
    (0..30 * 22_050)
        .map(|i| {
            let t = i as f32 / 22_050.0;
            0.3 * (440.0 * std::f32::consts::TAU * t).sin()
                + 0.2 * (97.0 * std::f32::consts::TAU * t).sin() * (3.0 * t).cos()
                + 0.05 * ((i as u32).wrapping_mul(2_654_435_761) as f32 / u32::MAX as f32 - 0.5)
        })
        .collect()
}

fn batch(c: &mut Criterion) {
    let samples = clip();
    let mut group = c.benchmark_group("30 s clip");
    group.sample_size(20);
    for preset in [Preset::LogMel128, Preset::Mfcc13] {
        let extractor = FeatureExtractor::new(&FeatureConfig::preset(preset)).unwrap();
        group.bench_function(preset.name(), |b| b.iter(|| extractor.extract(&samples)));
    }
    group.finish();
}

/// The plugin's path: one hop of new samples into a running stream (one frame per push).
fn streaming(c: &mut Criterion) {
    let config = FeatureConfig::preset(Preset::Mfcc13);
    let samples = clip();
    let mut stream = FrameStream::new(&config).unwrap();
    let mut hops = samples.chunks_exact(config.hop_length).cycle();
    c.bench_function("streaming frame (mfcc13 front end)", |b| {
        b.iter(|| {
            stream.push(hops.next().unwrap(), |frame| {
                std::hint::black_box(frame);
            });
        });
    });
}

criterion_group!(benches, batch, streaming);
criterion_main!(benches);
