//! `cargo xtask embed`: maps of what a model has learnt. Every clip goes through the model (the
//! same windows as `eval` and the plugin) up to one layer, by default its penultimate (see
//! [`layer`]); a clip's embedding is the mean of its windows'. The embeddings are standardised,
//! then drawn as a PCA map and a seeded t-SNE map coloured by genre, and summarised as the
//! genre × genre mean cosine-similarity matrix. Exploratory pictures, not accuracy figures.
//!
//! Genres are the clips' primary labels in the data (the label `eval` scores against). Genres
//! with fewer than `--min-count` embedded clips are drawn grey as "other": they shape the maps
//! like every clip but have no row in the similarity matrix, whose small-sample means would be
//! noise. The same rule for every model keeps maps of different models comparable.

mod extract;
mod layer;
mod pca;
mod plots;
mod similarity;
mod summary;
mod tsne;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{ensure, Context};
use genrescope::inference::{ModelMetadata, Runtime, WindowCutter};
use ndarray::{s, Array2};

use crate::data::dataset::Clip;
use crate::eval::clips::{map_clips, select_clips};
use extract::Embedder;
use genrescope::inference::runtime::repository_dirs;
use summary::Summary;

/// Principal components t-SNE starts from (the usual PCA-50 denoising step before t-SNE).
const TSNE_COMPONENTS: usize = 50;

#[derive(clap::Args)]
pub struct Args {
    /// A model in `models/` by name (`musicnn-transfer`) or an `.onnx` path (its `.json`
    /// metadata beside it).
    #[arg(long)]
    pub model: String,
    /// A `<label>/<file>` folder tree or a labels table.
    #[arg(long)]
    pub data: PathBuf,
    /// Only the clips this list file names.
    #[arg(long)]
    pub list: Option<PathBuf>,
    /// Output folder (default: `reports/embed/<model name>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Embed this named value of the graph instead of the input of the final dense layer (an
    /// unknown name lists the graph's last values).
    #[arg(long)]
    pub layer: Option<String>,
    /// Genres with fewer embedded clips are drawn as "other" and left out of the matrix.
    #[arg(long, default_value_t = 10)]
    pub min_count: usize,
    /// t-SNE perplexity (lowered to (clips − 1) / 3 for small sets).
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f32,
    /// Seed of the t-SNE starting layout.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// t-SNE iterations.
    #[arg(long, default_value_t = 1000)]
    pub epochs: usize,
    /// Worker threads (default: all cores), each with its own single-threaded session.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// `name` as a model in `models/` unless it is an existing file.
fn model_path(name: &str) -> PathBuf {
    let path = PathBuf::from(name);
    if path.is_file() {
        path
    } else {
        Path::new("models").join(format!("{name}.onnx"))
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    ensure!(args.min_count >= 2, "--min-count must be at least 2");
    let path = model_path(&args.model);
    ensure!(
        path.is_file(),
        "model {} not found (give a name in models/ or an .onnx path)",
        path.display()
    );
    let metadata = ModelMetadata::load(&ModelMetadata::path_for(&path))?;
    let onnx = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let model = layer::with_embedding_output(&onnx, args.layer.as_deref())
        .with_context(|| path.display().to_string())?;
    println!("{}: embedding {}", metadata.name, model.layer.description);
    let runtime = Runtime::find(&repository_dirs())?;
    // Fail early, before decoding anything, when the graph does not load.
    Embedder::new(&runtime, &model)?;
    let clips = select_clips(&args.data, args.list.as_deref())?;
    let embedded = embed_clips(&clips, &runtime, &model, &metadata, args.threads)?;
    let dimension = embedded.x.ncols();
    ensure!(
        dimension >= 2,
        "layer `{}` has {dimension} value per clip: nothing to map",
        model.layer.name
    );
    let maps = Maps::of(embedded.x, &embedded.clips, &args)?;

    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports/embed").join(&metadata.name));
    std::fs::create_dir_all(&dir)?;
    let subtitle = format!(
        "{} clips, {dimension}-d `{}`",
        embedded.clips.len(),
        model.layer.name
    );
    maps.draw(&metadata.name, &subtitle, args.seed, &dir)?;
    let explained = &maps.components.explained;
    let summary = Summary {
        model: metadata.name.clone(),
        model_path: path.display().to_string(),
        data: args.data.display().to_string(),
        list: args.list.as_ref().map(|l| l.display().to_string()),
        layer: model.layer.clone(),
        dimension,
        constant_dimensions: maps.constant,
        clips: clips.len(),
        embedded: embedded.clips.len(),
        skipped: embedded.skipped,
        embedding_seconds: embedded.seconds,
        min_count: args.min_count,
        genres: maps.genres.clone(),
        other: maps.other,
        pca_explained_variance: explained.iter().take(2).copied().collect(),
        tsne: summary::TsneSummary {
            requested: maps.settings,
            perplexity: maps.tsne.perplexity,
            input_components: maps.components.coordinates.ncols(),
            input_explained_variance: explained.iter().sum(),
            kl_divergence: maps.tsne.kl_divergence,
        },
    };
    let points = summary::points_tsv(
        &embedded.clips,
        &maps.group,
        &maps.labels,
        maps.components.coordinates.view(),
        maps.tsne.coordinates.view(),
    );
    std::fs::write(dir.join("points.tsv"), points)?;
    summary.write(&dir)?;
    print!("{}", summary.markdown_body());
    println!("written to {}", dir.display());
    Ok(())
}

/// The clips that could be embedded, one row of `x` each, and the others with the reason.
struct Embedded<'a> {
    /// `[clips, dimension]`.
    x: Array2<f32>,
    clips: Vec<&'a Clip>,
    skipped: Vec<(String, String)>,
    /// Wall time of the embedding, in seconds.
    seconds: f64,
}

/// Each clip's mean embedding over its windows, on `threads` threads.
fn embed_clips<'a>(
    clips: &'a [Clip],
    runtime: &Runtime,
    model: &layer::EmbeddingModel,
    metadata: &ModelMetadata,
    threads: Option<usize>,
) -> anyhow::Result<Embedded<'a>> {
    let started = Instant::now();
    let outcomes = map_clips(
        clips,
        threads,
        "embed",
        || {
            Ok((
                Embedder::new(runtime, model)?,
                WindowCutter::new(&metadata.input)?,
            ))
        },
        |(embedder, cutter), clip| embedder.clip(cutter, &clip.path),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let (mut rows, mut embedded, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for (clip, outcome) in clips.iter().zip(outcomes) {
        match outcome {
            Ok(row) => {
                rows.push(row);
                embedded.push(clip);
            }
            Err(why) => {
                println!("skipped {}: {why}", clip.path.display());
                skipped.push((clip.path.display().to_string(), why));
            }
        }
    }
    ensure!(
        embedded.len() >= 4,
        "only {} clips could be embedded",
        embedded.len()
    );
    let x = Array2::from_shape_vec((rows.len(), rows[0].len()), rows.concat())?;
    Ok(Embedded {
        x,
        clips: embedded,
        skipped,
        seconds,
    })
}

/// The maps of standardised clip embeddings: PCA, t-SNE (of the first PCA components) and the
/// genre × genre cosine similarity, with the genres drawn in colour.
struct Maps {
    /// Dimensions that were constant over the clips (left at 0 by the standardisation).
    constant: usize,
    components: pca::Pca,
    settings: tsne::Settings,
    tsne: tsne::Map,
    matrix: Vec<Vec<f64>>,
    /// Genres drawn in colour, with their clip counts; `labels` are their names.
    genres: Vec<(String, usize)>,
    labels: Vec<String>,
    /// Each clip's genre index (`None`: "other"), and how many are "other".
    group: Vec<Option<usize>>,
    other: usize,
}

impl Maps {
    fn of(mut x: Array2<f32>, clips: &[&Clip], args: &Args) -> anyhow::Result<Self> {
        let primary: Vec<&str> = clips.iter().map(|c| c.primary_label()).collect();
        let (genres, group) = genres(&primary, args.min_count);
        let constant = pca::standardise(&mut x);
        let components = pca::pca(x.view(), TSNE_COMPONENTS);
        let settings = tsne::Settings {
            perplexity: args.perplexity,
            seed: args.seed,
            epochs: args.epochs,
        };
        let tsne = tsne::tsne(components.coordinates.view(), settings)?;
        let matrix = similarity::genre_cosine(x.view(), &group, genres.len());
        Ok(Self {
            constant,
            components,
            settings,
            tsne,
            matrix,
            labels: genres.iter().map(|(g, _)| g.clone()).collect(),
            genres,
            other: group.iter().filter(|g| g.is_none()).count(),
            group,
        })
    }

    /// `pca.png`, `tsne.png`, `similarity.png` and `similarity.csv` in `dir`.
    fn draw(&self, model: &str, subtitle: &str, seed: u64, dir: &Path) -> anyhow::Result<()> {
        let explained = &self.components.explained;
        plots::map(
            &format!("{model}: PCA of clip embeddings ({subtitle})"),
            (
                &format!("PC1 ({:.1} % of variance)", 100.0 * explained[0]),
                &format!(
                    "PC2 ({:.1} % of variance)",
                    100.0 * explained.get(1).unwrap_or(&0.0)
                ),
            ),
            self.components.coordinates.slice(s![.., ..2]),
            &self.group,
            &self.genres,
            self.other,
            &dir.join("pca.png"),
        )?;
        plots::map(
            &format!(
                "{model}: t-SNE of clip embeddings ({subtitle}, perplexity {}, seed {seed})",
                self.tsne.perplexity
            ),
            ("t-SNE 1", "t-SNE 2"),
            self.tsne.coordinates.view(),
            &self.group,
            &self.genres,
            self.other,
            &dir.join("tsne.png"),
        )?;
        plots::similarity(
            &format!("{model}: genre × genre mean cosine similarity (standardised embeddings)"),
            &self.labels,
            &self.matrix,
            &dir.join("similarity.png"),
        )?;
        std::fs::write(
            dir.join("similarity.csv"),
            similarity::to_csv(&self.labels, &self.matrix),
        )?;
        Ok(())
    }
}

/// The genres drawn in colour (primary labels with at least `min_count` clips, alphabetical,
/// with their counts) and each clip's genre index (`None`: "other").
fn genres(primary: &[&str], min_count: usize) -> (Vec<(String, usize)>, Vec<Option<usize>>) {
    let mut counts = BTreeMap::new();
    for label in primary {
        *counts.entry(*label).or_insert(0usize) += 1;
    }
    let kept: Vec<(String, usize)> = counts
        .into_iter()
        .filter(|&(_, n)| n >= min_count)
        .map(|(g, n)| (g.to_owned(), n))
        .collect();
    let group = primary
        .iter()
        .map(|label| kept.iter().position(|(g, _)| g == label))
        .collect();
    (kept, group)
}

#[cfg(test)]
mod tests;
