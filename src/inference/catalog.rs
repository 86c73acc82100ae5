//! The models a user can pick: the models embedded in the binary (the genre model in two speeds,
//! "Accurate" and "Fast", a lighter genre model and the musicnn tagger), and every model in the
//! per-user model folder
//! (`<platform data dir>/genrescope/models`, e.g. `~/.local/share/genrescope/models` on Linux).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::metadata::ModelMetadata;
use super::model::{GenreModel, ModelParts};
use super::provider::Provider;
use super::runtime::Runtime;
use crate::Error;

/// A model compiled into the binary: ONNX bytes (and a pooled model's heads) and metadata JSON.
struct Embedded {
    onnx: &'static [u8],
    head: Option<&'static [u8]>,
    window_head: Option<&'static [u8]>,
    /// The window graphs of the window head's companions, in order.
    with: &'static [&'static [u8]],
    json: &'static str,
}

impl Embedded {
    fn metadata(&self) -> ModelMetadata {
        ModelMetadata::from_json(self.json).expect("embedded metadata is valid")
    }
}

/// EfficientAT mn04's window graph (`models/mood.onnx`, byte for byte `models/genre-v2-fast.onnx`):
/// its 384-value embedding and AudioSet's 527 class probabilities for every 3-s window at
/// 32 kHz. Both genre models and the mood model read it, each through a window head of its own,
/// so it is built in once and, when a genre model and the mood model run, runs once per window
/// for both ([`GenreModel::follows_graph_of`]). Accurate reads it beside musicnn
/// (`models/genre-v2.mn04.onnx` is the same bytes).
const MN04_WINDOWS: &[u8] = include_bytes!("../../models/mood.onnx");

/// The default genre model (`models/genre-v2.*`): a genre head on two pre-trained networks side
/// by side, the narrowed musicnn (MSD, narrowed to the front-end filters that fire, at 16 kHz)
/// and EfficientAT mn04 (AudioSet, at 32 kHz, [`MN04_WINDOWS`], which the mood model reads too),
/// answering each window, windows averaged over the last ~30 s, with musicnn's 50 style tags
/// beside (see `models/REPORT.md`).
const GENRES: Embedded = Embedded {
    onnx: include_bytes!("../../models/genre-v2.onnx"),
    head: Some(include_bytes!("../../models/genre-v2.head.onnx")),
    window_head: Some(include_bytes!("../../models/genre-v2.window.onnx")),
    with: &[MN04_WINDOWS],
    json: include_str!("../../models/genre-v2.json"),
};

/// The fast genre model (`models/genre-v2-fast.*`): a genre head on EfficientAT mn04's
/// embedding, answering each window, windows averaged over the last ~30 s; as accurate as the
/// default genre model in cross-validation within the fold spread (`models/REPORT.md`), at a
/// fraction of its cost per window, and sharing its network runs with the mood model. `analyze`
/// and `tag` run it by default.
const FAST_GENRES: Embedded = Embedded {
    onnx: MN04_WINDOWS,
    head: Some(include_bytes!("../../models/genre-v2-fast.head.onnx")),
    window_head: Some(include_bytes!("../../models/genre-v2-fast.window.onnx")),
    with: &[],
    json: include_str!("../../models/genre-v2-fast.json"),
};

/// The small from-scratch genre model (`models/mfcc-cnn.onnx`): less accurate, ~20× cheaper.
const LIGHT_GENRES: Embedded = Embedded {
    onnx: include_bytes!("../../models/mfcc-cnn.onnx"),
    head: None,
    window_head: None,
    with: &[],
    json: include_str!("../../models/mfcc-cnn.json"),
};

/// musicnn's Million Song Dataset tagger, 50 tags (`models/msd-musicnn.onnx`, ISC licence, see
/// `models/README.md`).
const MSD_TAGS: Embedded = Embedded {
    onnx: include_bytes!("../../models/msd-musicnn.onnx"),
    head: None,
    window_head: None,
    with: &[],
    json: include_str!("../../models/msd-musicnn.json"),
};

/// The mood model (`models/mood.onnx` and its head: EfficientAT mn04's embedding, a head on the
/// 4Q quadrants, and AudioSet's 527 class probabilities as tags; see `models/REPORT.md`),
/// run beside the genre model.
const MOOD: Embedded = Embedded {
    onnx: MN04_WINDOWS,
    head: Some(include_bytes!("../../models/mood.head.onnx")),
    window_head: Some(include_bytes!("../../models/mood.window.onnx")),
    with: &[],
    json: include_str!("../../models/mood.json"),
};

/// Which model the analysis runs; saved with the project.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "path")]
pub enum ModelChoice {
    /// The default genre model embedded in the plugin binary ("Accurate").
    #[default]
    Builtin,
    /// The embedded fast genre model ("Fast"), the default of `analyze` and `tag`.
    Fast,
    /// The embedded small genre model (MFCC CNN).
    MfccCnn,
    /// The embedded musicnn tagger (50 Million Song Dataset tags).
    MsdMusicnn,
    /// The embedded mood model, which runs beside the genre model ([`mood_model`]).
    Mood,
    /// An `.onnx` file with its `.json` metadata beside it.
    File(PathBuf),
}

impl ModelChoice {
    /// `accurate` (or `default`, `builtin`), `fast`, `mfcc-cnn`, `msd-musicnn` and `mood` name
    /// the embedded models, anything else a model file.
    pub fn parse(text: &str) -> Self {
        match text {
            "accurate" | "default" | "builtin" => Self::Builtin,
            "fast" => Self::Fast,
            "msd-musicnn" => Self::MsdMusicnn,
            "mfcc-cnn" => Self::MfccCnn,
            "mood" => Self::Mood,
            path => Self::File(PathBuf::from(path)),
        }
    }

    fn embedded(&self) -> Option<&'static Embedded> {
        match self {
            Self::Builtin => Some(&GENRES),
            Self::Fast => Some(&FAST_GENRES),
            Self::MfccCnn => Some(&LIGHT_GENRES),
            Self::MsdMusicnn => Some(&MSD_TAGS),
            Self::Mood => Some(&MOOD),
            Self::File(_) => None,
        }
    }

    /// Short name for pickers and reports; the two speeds of the genre model are named for
    /// people.
    pub fn name(&self) -> String {
        match (self.embedded(), self) {
            (Some(embedded), Self::Builtin) => format!("Accurate ({})", embedded.metadata().name),
            (Some(embedded), Self::Fast) => format!("Fast ({})", embedded.metadata().name),
            (Some(embedded), _) => format!("{} (built-in)", embedded.metadata().name),
            (None, Self::File(path)) => path.file_stem().map_or_else(
                || path.display().to_string(),
                |s| s.to_string_lossy().into(),
            ),
            (None, _) => unreachable!("every other choice is embedded"),
        }
    }

    /// What sets a built-in genre model apart, for the picker (`None` for the others).
    pub fn trade_off(&self) -> Option<&'static str> {
        match self {
            Self::Builtin => Some(
                "The most accurate built-in genre model: musicnn and EfficientAT mn04 side by \
                 side (cross-validated accuracy 0.719, macro-F1 0.654), with musicnn's style \
                 tags; mn04 is the mood model's network, so one run of it serves both.",
            ),
            Self::Fast => Some(
                "The same 13 genres from EfficientAT mn04 alone, the mood model's network (one \
                 run serves both), for a fifth of Accurate's cost per window: 4 points less \
                 accurate (cross-validated accuracy 0.675 against 0.719, macro-F1 0.605 against \
                 0.654); no musicnn style tags.",
            ),
            _ => None,
        }
    }

    /// The model's metadata, without loading the model.
    pub fn metadata(&self) -> Result<ModelMetadata, Error> {
        match (self.embedded(), self) {
            (Some(embedded), _) => Ok(embedded.metadata()),
            (None, Self::File(path)) => ModelMetadata::load(&ModelMetadata::path_for(path))
                .map_err(|e| Error::Model(e.to_string())),
            (None, _) => unreachable!("every other choice is embedded"),
        }
    }

    /// Loads the model on `provider` (or the CPU, see [`GenreModel::from_parts`]).
    pub fn load(&self, runtime: &Runtime, provider: Provider) -> Result<GenreModel, Error> {
        self.load_beside(runtime, provider, None)
    }

    /// [`Self::load`] for a model that runs beside `beside`, reading its runs of the window graphs
    /// they share ([`GenreModel::from_parts_beside`]).
    pub fn load_beside(
        &self,
        runtime: &Runtime,
        provider: Provider,
        beside: Option<&GenreModel>,
    ) -> Result<GenreModel, Error> {
        match (self.embedded(), self) {
            (Some(embedded), _) => {
                let parts = ModelParts {
                    graph: embedded.onnx,
                    head: embedded.head,
                    window_head: embedded.window_head,
                    with: embedded.with,
                };
                GenreModel::from_parts_beside(runtime, parts, embedded.metadata(), provider, beside)
            }
            (None, Self::File(path)) => GenreModel::load_beside(runtime, path, provider, beside),
            (None, _) => unreachable!("every other choice is embedded"),
        }
    }
}

/// The file name of a mood model that replaces the built-in one (with its `.json` and head
/// beside it), looked for in the per-user model folder and beside genrescope's binary
/// ([`mood_dirs`]).
pub const MOOD_MODEL: &str = "mood.onnx";

/// The environment variable that names the mood model file, or `none` for no mood.
pub const MOOD_MODEL_ENV: &str = "GENRESCOPE_MOOD_MODEL";

/// The mood model: the file [`MOOD_MODEL_ENV`] names, else the first [`MOOD_MODEL`] in `dirs`
/// (see [`mood_dirs`]), else the built-in one ([`ModelChoice::Mood`]). An error only when the
/// variable says `none`: the mood is optional, the genre does not need it.
pub fn mood_model(dirs: &[PathBuf]) -> Result<ModelChoice, String> {
    match std::env::var_os(MOOD_MODEL_ENV) {
        Some(value) if value == "none" => Err(format!("{MOOD_MODEL_ENV}=none")),
        Some(value) => Ok(ModelChoice::File(PathBuf::from(value))),
        None => dirs
            .iter()
            .map(|dir| dir.join(MOOD_MODEL))
            .find(|path| path.is_file())
            .map_or(Ok(ModelChoice::Mood), |path| Ok(ModelChoice::File(path))),
    }
}

/// Where [`mood_model`] looks: the per-user model folder, then the folder of genrescope's own
/// binary (the plugin's library in a host, the standalone executable), where ONNX Runtime is
/// looked for too.
pub fn mood_dirs() -> Vec<PathBuf> {
    user_models_dir()
        .into_iter()
        .chain(super::runtime::default_dirs())
        .collect()
}

/// Loads a mood model: any pooled model (the genre model's format, [`PooledContext`]), whose
/// labels are the mood quadrants and whose tags are AudioSet's classes; beside the genre model
/// `beside`, it reads `beside`'s runs of the window graphs they share
/// ([`ModelChoice::load_beside`]).
///
/// [`PooledContext`]: super::context::PooledContext
pub fn load_pooled(
    choice: &ModelChoice,
    runtime: &Runtime,
    provider: Provider,
    beside: Option<&GenreModel>,
) -> Result<GenreModel, String> {
    let model = choice
        .load_beside(runtime, provider, beside)
        .map_err(|e| format!("{}: {e}", choice.name()))?;
    if model.metadata.context.is_none() {
        return Err(format!("{}: not a pooled model", choice.name()));
    }
    Ok(model)
}

/// The per-user model folder, if the platform has a data directory.
pub fn user_models_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("genrescope").join("models"))
}

/// The built-in models followed by every `*.onnx` in `dir` that has its `.json` beside it,
/// sorted by file name. A missing or unreadable folder lists only the built-in models.
pub fn list(dir: Option<&Path>) -> Vec<ModelChoice> {
    let mut files: Vec<PathBuf> = dir
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            path.extension().is_some_and(|e| e == "onnx") && ModelMetadata::path_for(path).is_file()
        })
        .collect();
    files.sort();
    [
        ModelChoice::Builtin,
        ModelChoice::Fast,
        ModelChoice::MfccCnn,
        ModelChoice::MsdMusicnn,
    ]
    .into_iter()
    .chain(files.into_iter().map(ModelChoice::File))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_metadata_is_valid_and_licensed() {
        for embedded in [&GENRES, &FAST_GENRES, &LIGHT_GENRES, &MSD_TAGS, &MOOD] {
            let metadata = embedded.metadata();
            metadata.validate().unwrap();
            assert!(metadata.labels.len() >= 2);
            assert!(!metadata.licence.is_empty());
        }
        assert_eq!(MSD_TAGS.metadata().labels.len(), 50);
    }

    #[test]
    fn the_genre_models_and_the_mood_model_share_one_built_in_network() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let fast_file = std::fs::read(models.join("genre-v2-fast.onnx")).unwrap();
        assert!(
            fast_file == MN04_WINDOWS,
            "models/genre-v2-fast.onnx and models/mood.onnx must be the same window graph"
        );
        let runtime = super::super::runtime::for_tests();
        let load = |choice: ModelChoice| choice.load(&runtime, Provider::Cpu).unwrap();
        let (fast, mood) = (load(ModelChoice::Fast), load(ModelChoice::Mood));
        assert_eq!(mood.follows_graph_of(&fast), Some(0));
        assert_eq!(fast.follows_graph_of(&mood), Some(0));
        // Accurate reads it beside musicnn: the mood model follows Accurate's second network.
        let accurate_file = std::fs::read(models.join("genre-v2.mn04.onnx")).unwrap();
        assert!(
            accurate_file == MN04_WINDOWS,
            "models/genre-v2.mn04.onnx is mn04's graph"
        );
        let accurate = load(ModelChoice::Builtin);
        assert_eq!(accurate.window_graphs(), 2);
        assert_eq!(mood.follows_graph_of(&accurate), Some(1));
        assert_eq!(
            accurate.follows_graph_of(&mood),
            None,
            "Accurate reads two networks"
        );
        // Loaded beside Accurate, the mood model has no mn04 session of its own, and reading
        // Accurate's runs it answers as the mood model on its own does.
        let mut beside = ModelChoice::Mood
            .load_beside(&runtime, Provider::Cpu, Some(&accurate))
            .unwrap();
        let (mut accurate, mut alone) = (accurate, mood);
        let window = ndarray::Array3::from_shape_fn((2, 300, 128), |(w, f, b)| {
            ((w * 31 + f * 7 + b) % 13) as f32 / 6.0 - 1.0
        });
        assert!(beside.graph_outputs(0, window.view()).is_err());
        let runs = accurate.graph_outputs(1, window.view()).unwrap();
        assert_eq!(
            beside.follow(&[runs.view()]).unwrap(),
            alone.outputs(window.view()).unwrap()
        );
        // Built in as loaded from the files.
        let from_file =
            GenreModel::load(&runtime, &models.join("genre-v2-fast.onnx"), Provider::Cpu);
        assert_eq!(from_file.unwrap().follows_graph_of(&fast), Some(0));
    }

    #[test]
    fn lists_only_models_with_metadata() {
        let dir = std::env::temp_dir().join(format!("genrescope-catalog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "b.onnx",
            "b.json",
            "a.onnx",
            "a.json",
            "orphan.onnx",
            "notes.txt",
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let listed = list(Some(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            listed,
            vec![
                ModelChoice::Builtin,
                ModelChoice::Fast,
                ModelChoice::MfccCnn,
                ModelChoice::MsdMusicnn,
                ModelChoice::File(dir.join("a.onnx")),
                ModelChoice::File(dir.join("b.onnx")),
            ]
        );
        assert_eq!(
            list(Some(Path::new("/nonexistent/genrescope"))),
            vec![
                ModelChoice::Builtin,
                ModelChoice::Fast,
                ModelChoice::MfccCnn,
                ModelChoice::MsdMusicnn
            ]
        );
    }

    #[test]
    fn the_mood_model_is_a_file_in_the_folders_or_the_built_in_one() {
        let dir = std::env::temp_dir().join(format!("genrescope-mood-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let builtin = mood_model(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(
            builtin,
            ModelChoice::Mood,
            "none in the folders: the built-in one"
        );
        std::fs::write(dir.join(MOOD_MODEL), b"").unwrap();
        let found = mood_model(&[PathBuf::from("/nonexistent"), dir.clone()]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found.unwrap(), ModelChoice::File(dir.join(MOOD_MODEL)));
        let runtime = super::super::runtime::for_tests();
        let per_window = load_pooled(&ModelChoice::MfccCnn, &runtime, Provider::Cpu, None).err();
        assert!(per_window.unwrap().contains("not a pooled model"));
        let mood = load_pooled(&ModelChoice::Mood, &runtime, Provider::Cpu, None).unwrap();
        assert_eq!(mood.metadata.labels, ["q1", "q2", "q3", "q4"]);
        let tags = mood.metadata.context.unwrap().tags;
        assert_eq!(tags.len(), 527);
        // Every class the vocabulary shows is one the built-in mood model scores.
        for class in &crate::audioset::Sounds::builtin().classes {
            assert!(tags.contains(&class.audioset), "{}", class.audioset);
        }
    }

    #[test]
    fn parses_cli_names() {
        assert_eq!(ModelChoice::parse("default"), ModelChoice::Builtin);
        assert_eq!(ModelChoice::parse("accurate"), ModelChoice::Builtin);
        assert_eq!(ModelChoice::parse("fast"), ModelChoice::Fast);
        assert_eq!(ModelChoice::Builtin.name(), "Accurate (genre-v2)");
        assert_eq!(ModelChoice::Fast.name(), "Fast (genre-v2-fast)");
        assert!(ModelChoice::Fast
            .trade_off()
            .unwrap()
            .contains("one run serves both"));
        assert_eq!(ModelChoice::MfccCnn.trade_off(), None);
        assert_eq!(ModelChoice::parse("msd-musicnn"), ModelChoice::MsdMusicnn);
        assert_eq!(ModelChoice::parse("mfcc-cnn"), ModelChoice::MfccCnn);
        assert_eq!(ModelChoice::parse("mood"), ModelChoice::Mood);
        assert_eq!(
            ModelChoice::parse("models/crnn.onnx"),
            ModelChoice::File("models/crnn.onnx".into())
        );
        assert_eq!(ModelChoice::File("x/crnn.onnx".into()).name(), "crnn");
    }
}
