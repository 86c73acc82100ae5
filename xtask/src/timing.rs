//! CPU time of a model's window: cutting it out of audio (the features) and running the model
//! on it, as `train-all`, `genre-v2` and `distill` report them. Below every command that
//! reports a cost, so that none of them imports another to time a model.

use std::path::Path;
use std::time::Instant;

use genrescope::inference::{GenreModel, ModelMetadata, Provider, Runtime, WindowCutter};
use ndarray::Array3;

/// Median CPU time (ms) of cutting one model window out of audio: the features of 30 s of a
/// noisy chord, divided by the number of windows.
pub fn features_ms(metadata: &ModelMetadata) -> anyhow::Result<f64> {
    let cutter = WindowCutter::new(&metadata.input)?;
    let rate = metadata.input.sample_rate() as f32;
    let mut noise = 1u32;
    let audio: Vec<f32> = (0..(30.0 * rate) as usize)
        .map(|i| {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = i as f32 / rate;
            0.2 * ((440.0 * std::f32::consts::TAU * t).sin()
                + (554.4 * std::f32::consts::TAU * t).sin())
                + 0.05 * ((noise >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
        })
        .collect();
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let n = cutter.windows(&audio).dim().0.max(1);
            start.elapsed().as_secs_f64() * 1e3 / n as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    Ok(times[2])
}

/// Median CPU time of one single-window inference (batch 1, one thread), in ms.
pub fn inference_ms(runtime: &Runtime, model: &Path) -> anyhow::Result<f64> {
    window_ms(&mut GenreModel::load(runtime, model, Provider::Cpu)?)
}

/// Median CPU time of `model` on one window (batch 1, as loaded: one thread), in ms.
pub fn window_ms(model: &mut GenreModel) -> anyhow::Result<f64> {
    let shape = model.metadata.input.shape();
    let window = Array3::from_shape_fn((1, shape[0], shape[1]), |(_, t, f)| {
        ((t * 31 + f * 17) % 23) as f32 / 23.0 - 0.5
    });
    for _ in 0..10 {
        model.outputs(window.view())?;
    }
    let mut times: Vec<f64> = (0..200)
        .map(|_| {
            let start = Instant::now();
            model
                .outputs(window.view())
                .map(|_| start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, _>>()?;
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}
