//! Where the research corpus is: the labelled clips that tests, benchmarks and the model tools
//! (`cargo xtask`) read. The plugin and `genrescope analyze` never look for it.

use std::path::PathBuf;

/// The variable that names the corpus folder (the one holding `labels.tsv`).
pub const MUSIC_VAR: &str = "GENRESCOPE_MUSIC";

/// The research corpus: `$GENRESCOPE_MUSIC` when set, else `../shared/music` beside this
/// repository.
pub fn music_dir() -> PathBuf {
    std::env::var_os(MUSIC_VAR).map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/music")),
        PathBuf::from,
    )
}
