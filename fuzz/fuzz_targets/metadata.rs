//! Model metadata JSON (`model.json` beside every `.onnx`): parsing and validation must reject
//! bad files with an error, and whatever they accept must be usable by a model run.
#![no_main]

use genrescope::inference::metadata::{ModelInput, ModelMetadata};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(metadata) = ModelMetadata::from_json(text) else {
        return;
    };
    // Accepted metadata round-trips and describes a usable input.
    assert_eq!(
        ModelMetadata::from_json(&metadata.to_json()).expect("written metadata loads"),
        metadata
    );
    let input = &metadata.input;
    assert!(input.shape().iter().all(|&n| n > 0));
    for seconds in [input.window_seconds(), input.hop_seconds()] {
        assert!(seconds.is_finite() && seconds >= 0.0, "{seconds}");
    }
    // What loading the model does next: build the frame extractor and run it on a window.
    let extractor = input.frame_extractor().expect("validated configuration");
    if let (Some(extractor), ModelInput::Frames { features, .. }) = (extractor, input) {
        let window = vec![0.25f32; features.n_fft];
        let values = extractor.extract(&window);
        assert_eq!(values.ncols(), features.feature_width());
        assert!(values.iter().all(|x| x.is_finite()), "{features:?}");
    }
});
