//! The standalone application: `genrescope --backend dummy|jack|alsa ...` (see `--help`).

fn main() {
    nice_plug::nice_export_standalone::<genrescope::Genrescope>();
}
