//! The command line of the standalone binary: `genrescope analyze`, `genrescope tag`,
//! `genrescope untag` and `genrescope merge`.
//!
//! - [`analyze`](mod@analyze): the plugin's model pipeline on whole files, printed as text, JSON
//!   or CSV ([`render`]).
//! - [`tag`](mod@tag): the same analysis written into each file's own tags
//!   ([`crate::tagging`]), and optionally a rekordbox library XML.
//! - [`untag`](mod@untag): what `tag` changed in files, undone.
//! - [`summary`]: the closing line of `tag` and `untag` (how many files had what done).
//! - [`batch`]: what both share for large catalogs: the `--out` journal that makes a batch
//!   resumable, and `--shard K/N`.
//! - [`merge`](mod@merge): shard journals into one JSON or CSV.
//! - [`files`]: which files a run reads (folders walked, links, `--exclude`, each file once).
//!
//! This module holds what the commands share: the file and model arguments and the parallel
//! [`Engine`] that runs the model on each file.

pub mod analyze;
pub mod batch;
pub mod files;
pub mod merge;
pub mod render;
pub mod summary;
pub mod tag;
pub mod untag;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;

use clap::{Args, ValueEnum};

use crate::audioset::{shown_as_tags, Sounds};
use crate::inference::catalog::{load_pooled, mood_dirs, mood_model, user_models_dir};
use crate::inference::runtime::default_dirs;
use crate::inference::{FileAnalyzer, ModelChoice, ModelMetadata, Provider, Runtime};

pub use analyze::{analyze, AnalyzeArgs};
pub use files::{collect_files, Exclude, FileArgs, Input, AUDIO_EXTENSIONS};
pub use merge::{merge, MergeArgs};
pub use tag::{tag, TagArgs};
pub use untag::{untag, UntagArgs};

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per file, genre names as people read them.
    Text,
    /// One JSON document: the model, its labels, names and ids, and every file.
    Json,
    /// One row per genre (or with `--timeline`, per window).
    Csv,
}

/// The arguments `analyze` and `tag` share: what to read, with which model, and the batch
/// options.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    #[command(flatten)]
    pub files: files::FileArgs,
    /// `fast` (the built-in fast genre model), `accurate` (the built-in genre model the plugin
    /// starts with: 4 points more accurate, ~2.4× the time), `mfcc-cnn`, `msd-musicnn`,
    /// or a model `.onnx` file with its `.json` beside it.
    #[arg(long, default_value = "fast")]
    pub model: String,
    /// Execution provider: auto, cpu, cuda, tensorrt, directml, coreml (falls back to CPU).
    #[arg(long, default_value = "cpu", value_parser = parse_provider)]
    pub provider: Provider,
    /// Files analysed at once (default: all cores), each with its own single-threaded session.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Resumable batch: append one JSON line per finished file to DIR (fsync'd at least every
    /// 2 s) and skip files whose record there still matches (same size, modification time,
    /// content hash and model).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only this shard of the files: K of N (1 ≤ K ≤ N), a deterministic, balanced subset by a
    /// stable hash of each path relative to the folder named on the command line.
    #[arg(long, value_name = "K/N", value_parser = batch::Shard::parse)]
    pub shard: Option<batch::Shard>,
    /// The mood model (mood, styles, instruments, voices): a pooled model `.onnx` with its
    /// `.json` beside it, or `none` (genres only). Default: GENRESCOPE_MOOD_MODEL, else
    /// `mood.onnx` in the per-user model folder or beside this binary, else the built-in one.
    #[arg(long, value_name = "PATH|none")]
    pub mood_model: Option<String>,
}

fn parse_provider(text: &str) -> Result<Provider, String> {
    serde_json::from_value(serde_json::Value::String(text.to_lowercase()))
        .map_err(|_| format!("unknown provider {text:?}"))
}

/// The models one thread analyses files with: the genre model and, when there is one, the mood
/// model.
pub struct Analyzers {
    pub genre: FileAnalyzer,
    pub mood: Option<FileAnalyzer>,
}

/// The mood model as the commands use it.
pub struct MoodEngine {
    choice: ModelChoice,
    /// Its labels (`q1`…`q4`), in output order.
    pub labels: Vec<String>,
    /// Its tags (AudioSet's class names), in the order of a clip's tag probabilities.
    pub tags: Vec<String>,
    /// What of the tags is shown (`models/audioset.toml` or the user's).
    pub sounds: Sounds,
}

/// The models as the commands use them: loaded once up front (an unusable genre model is one
/// clear error, not one per file; an unusable mood model a note, and genres only), then once
/// more per worker thread.
pub struct Engine {
    runtime: Runtime,
    choice: ModelChoice,
    provider: Provider,
    /// The model's output labels, in output order.
    pub labels: Vec<String>,
    /// The names of a pooled model's style tags (empty for other models, and for AudioSet's
    /// classes: see [`shown_as_tags`]).
    pub style_labels: Vec<String>,
    /// The model's short name (`genre-v2`).
    pub model_name: String,
    /// `name@hash`: the name and the first 12 hex digits of the SHA-256 of its metadata
    /// (labels, calibration, training record), so a journal tells two versions apart; with a
    /// mood model, `+` and the mood model's.
    pub model_id: String,
    pub mood: Option<MoodEngine>,
}

/// `name@hash` of a model's metadata (see [`Engine::model_id`]).
fn model_id(metadata: &ModelMetadata) -> String {
    let digest = batch::sha256_hex(&serde_json::to_vec(metadata).unwrap_or_default());
    format!("{}@{}", metadata.name, &digest[..12])
}

impl Engine {
    /// Finds ONNX Runtime and loads the models once; prints the provider notice, if any, and
    /// why there is no mood, if so.
    pub fn load(args: &SourceArgs) -> Result<Self, String> {
        let runtime = Runtime::find(&default_dirs()).map_err(|e| e.to_string())?;
        let choice = ModelChoice::parse(&args.model);
        let probe = choice
            .load(&runtime, args.provider)
            .map_err(|e| format!("model {}: {e}", args.model))?;
        if let Some(notice) = &probe.notice {
            eprintln!("note: {notice}");
        }
        let metadata = &probe.metadata;
        let mood = MoodEngine::load(args, &runtime)
            .inspect_err(|e| eprintln!("note: genres only, no mood, styles or instruments: {e}"))
            .ok();
        let mood_id = mood.as_ref().map(|m| model_id(&m.metadata));
        Ok(Self {
            labels: metadata.labels.clone(),
            style_labels: metadata
                .context
                .as_ref()
                .map_or_else(Vec::new, |c| shown_as_tags(&c.tags)),
            model_name: metadata.name.clone(),
            model_id: [Some(model_id(metadata)), mood_id]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("+"),
            mood: mood.map(|m| m.engine),
            runtime,
            choice,
            provider: args.provider,
        })
    }

    /// The models of one worker thread.
    fn analyzers(&self) -> Result<Analyzers, String> {
        let load = |model| FileAnalyzer::new(model).map_err(|e| e.to_string());
        let genre = self
            .choice
            .load(&self.runtime, self.provider)
            .map_err(|e| e.to_string())?;
        let mood = self
            .mood
            .as_ref()
            .map(|mood| {
                load_pooled(&mood.choice, &self.runtime, self.provider, None).and_then(load)
            })
            .transpose()?;
        Ok(Analyzers {
            genre: load(genre)?,
            mood,
        })
    }

    /// Runs `work` on every file on `threads` threads (each with its own model sessions and
    /// window cutters) and hands each result to `done` on the calling thread as soon as it is
    /// ready, in completion order, with the file's index. A model that fails to load on a
    /// worker is an error for the whole run.
    pub fn run<T: Send>(
        &self,
        files: &[Input],
        threads: usize,
        work: impl Fn(&mut Analyzers, &Input) -> T + Sync,
        mut done: impl FnMut(usize, T),
    ) -> Result<(), String> {
        if files.is_empty() {
            return Ok(());
        }
        let threads = threads.clamp(1, files.len());
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (sender, receiver) = mpsc::channel::<(usize, T)>();
        std::thread::scope(|scope| -> Result<(), String> {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (sender, next, work) = (sender.clone(), &next, &work);
                    scope.spawn(move || -> Result<(), String> {
                        let mut analyzers = self.analyzers()?;
                        loop {
                            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(input) = files.get(index) else {
                                return Ok(());
                            };
                            let outcome = work(&mut analyzers, input);
                            if sender.send((index, outcome)).is_err() {
                                return Ok(());
                            }
                        }
                    })
                })
                .collect();
            drop(sender);
            for (index, outcome) in receiver {
                done(index, outcome);
            }
            for handle in handles {
                handle.join().map_err(|_| "an analysis thread panicked")??;
            }
            Ok(())
        })
    }
}

/// A loaded mood model's engine and metadata (for the journal's model id).
struct LoadedMood {
    engine: MoodEngine,
    metadata: ModelMetadata,
}

impl MoodEngine {
    /// `--mood-model`, else the mood model [`mood_model`] finds; loaded once to check it.
    fn load(args: &SourceArgs, runtime: &Runtime) -> Result<LoadedMood, String> {
        let choice = match args.mood_model.as_deref() {
            Some("none") => return Err("--mood-model none".into()),
            Some(path) => ModelChoice::File(path.into()),
            None => mood_model(&mood_dirs())?,
        };
        let metadata = load_pooled(&choice, runtime, args.provider, None)?.metadata;
        let sounds = Sounds::current(user_models_dir().as_deref()).map_err(|e| e.to_string())?;
        let context = metadata.context.as_ref().expect("load_pooled checks");
        Ok(LoadedMood {
            engine: MoodEngine {
                choice,
                labels: metadata.labels.clone(),
                tags: context.tags.clone(),
                sounds,
            },
            metadata,
        })
    }
}

/// `--threads`, or every core.
pub fn thread_count(requested: Option<usize>) -> usize {
    requested
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .max(1)
}

/// Writes `text` to stdout. A reader that went away (`genrescope merge … | head`) ends the
/// output quietly: what it did not read is dropped, and nothing panics as `print!` would.
/// Any other error (a full disk behind a redirect) is returned.
pub fn print_out(text: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write the output: {e}"))
        }
        _ => Ok(()),
    }
}

/// Runs command `name` on its arguments (after its name) and returns the process exit code:
/// 0 when `run` says everything succeeded, 1 when some files failed, 2 when nothing could run
/// (the reason printed as `genrescope <name>: ...`) or the arguments are wrong; 0 after
/// `--help`.
pub fn run_command<A: clap::Parser>(
    name: &str,
    args: impl IntoIterator<Item = String>,
    run: impl FnOnce(&A) -> Result<bool, String>,
) -> i32 {
    let parsed = A::try_parse_from(std::iter::once(format!("genrescope {name}")).chain(args));
    let args = match parsed {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(&args) {
        Ok(all_ok) => i32::from(!all_ok),
        Err(message) => {
            eprintln!("genrescope {name}: {message}");
            2
        }
    }
}
