//! Host state blobs: what the CLAP and VST3 wrappers do with the bytes a host hands back
//! (`serde_json` → `PluginState` → `Plugin::filter_state` → parameter values → the persisted
//! fields), then what the plugin reads from them. Garbage must leave usable settings.
#![no_main]

use genrescope::params::GenrescopeParams;
use genrescope::{editor, Genrescope};
use libfuzzer_sys::fuzz_target;
use nice_plug::params::internals::ParamPtr;
use nice_plug::params::{InternalParamMut, Params};
use nice_plug::plugin::{ParamValue, Plugin, PluginState};

fuzz_target!(|data: &[u8]| {
    let Ok(mut state) = serde_json::from_slice::<PluginState>(data) else {
        return;
    };
    Genrescope::filter_state(&mut state);
    let params = GenrescopeParams::default();
    for (id, ptr, _) in params.param_map() {
        // SAFETY: the pointers come from `params`, which outlives this loop; nothing else
        // touches the parameters meanwhile (as in the wrappers' `deserialize_object`).
        unsafe {
            match (ptr, state.params.get(&id)) {
                (ParamPtr::FloatParam(p), Some(ParamValue::F32(v))) => {
                    (*p)._internal_set_plain_value(*v);
                }
                (ParamPtr::BoolParam(p), Some(ParamValue::Bool(v))) => {
                    (*p)._internal_set_plain_value(*v);
                }
                _ => {}
            }
        }
    }
    params.deserialize_fields(&state.fields);

    // The plugin then reads these: the smoothing time, the model settings, the editor size.
    let smoothing = params.smoothing.value();
    assert!((0.0..=30.0).contains(&smoothing), "smoothing {smoothing}");
    let settings = params.settings.read().expect("settings lock").clone();
    let _ = editor::state(&params);

    // Saving what was loaded and loading it again gives the same settings.
    let saved = params.serialize_fields();
    let reloaded = GenrescopeParams::default();
    reloaded.deserialize_fields(&saved);
    assert_eq!(*reloaded.settings.read().expect("settings lock"), settings);
    assert_eq!(
        *reloaded.editor_size.read().expect("size lock"),
        *params.editor_size.read().expect("size lock")
    );
});
