//! Decibel conversion as `librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=...)`.

use super::log::log10;

/// Smallest power converted; quieter bins read as `10 · log10(AMIN)` = -100 dB.
pub const AMIN: f32 = 1e-10;

/// `10 · log10(max(power, AMIN))`, in dB relative to a power of 1. Inline and branch-free
/// ([`log10`]): a loop over a frame vectorises.
#[inline(always)]
pub fn power_to_db(power: f32) -> f32 {
    10.0 * log10(power.max(AMIN))
}

/// Raises every value to at least `max(values) - top_db`, as librosa's `top_db` does over the
/// whole array it is given.
pub fn clamp_below_max(values: &mut [f32], top_db: f32) {
    let floor = values.iter().copied().fold(f32::NEG_INFINITY, f32::max) - top_db;
    for v in values {
        *v = v.max(floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_floors() {
        assert_eq!(power_to_db(1.0), 0.0);
        assert!((power_to_db(0.01) - -20.0).abs() < 1e-5);
        assert_eq!(power_to_db(0.0), -100.0);
    }

    #[test]
    fn clamps_relative_to_the_maximum() {
        let mut values = [0.0, -50.0, -90.0, -100.0, 10.0];
        clamp_below_max(&mut values, 80.0);
        assert_eq!(values, [0.0, -50.0, -70.0, -70.0, 10.0]);
    }
}
