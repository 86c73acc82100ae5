//! The audio decoding path of `genrescope analyze` and the xtask (`decode_mono_at`): arbitrary
//! bytes as a file. Anything must give audio or an error.
//!
//! The decoder turns panics inside symphonia into errors, so the init block puts back the
//! default panic hook (libfuzzer-sys's aborts on any panic, caught or not); a panic that escapes
//! `decode_source` still aborts the run through libfuzzer-sys's own `catch_unwind`.
#![no_main]

use std::io::Cursor;

use genrescope::decode::decode_source;
use libfuzzer_sys::fuzz_target;

/// Rate the decoded audio is resampled to, as for the default model.
const MODEL_RATE: u32 = 22_050;

fuzz_target!(init: drop(std::panic::take_hook()), |data: &[u8]| {
    let source = Box::new(Cursor::new(data.to_vec()));
    let Ok(audio) = decode_source(source, Some(MODEL_RATE)) else {
        return;
    };
    assert_eq!(audio.sample_rate, MODEL_RATE);
    assert!(audio.channels > 0);
    assert!(audio.samples.iter().all(|x| x.is_finite()), "non-finite sample");
});
