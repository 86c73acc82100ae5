//! What `embed` writes besides the plots: `summary.json`, `summary.md` and `points.tsv`.

use std::fmt::Write as _;
use std::path::Path;

use ndarray::ArrayView2;
use serde::Serialize;

use super::layer::Layer;
use super::tsne::Settings;
use crate::data::dataset::Clip;

#[derive(Serialize)]
pub struct TsneSummary {
    pub requested: Settings,
    /// The perplexity used (see [`super::tsne::Map::perplexity`]).
    pub perplexity: f32,
    /// Principal components of the standardised embeddings t-SNE ran on.
    pub input_components: usize,
    /// Share of the variance those components keep (0–1).
    pub input_explained_variance: f64,
    pub kl_divergence: f32,
}

#[derive(Serialize)]
pub struct Summary {
    pub model: String,
    pub model_path: String,
    pub data: String,
    pub list: Option<String>,
    pub layer: Layer,
    /// Values per clip embedding.
    pub dimension: usize,
    /// Embedding values that were the same for every clip (0 after standardisation).
    pub constant_dimensions: usize,
    /// Clips the data (and list) name.
    pub clips: usize,
    pub embedded: usize,
    /// Clips that could not be embedded, and why.
    pub skipped: Vec<(String, String)>,
    /// Wall time of decoding and running the model, seconds.
    pub embedding_seconds: f64,
    pub min_count: usize,
    /// Genres drawn in colour with their clip counts.
    pub genres: Vec<(String, usize)>,
    /// Clips drawn as "other".
    pub other: usize,
    /// Share of the variance along PC1 and PC2 (0–1).
    pub pca_explained_variance: Vec<f64>,
    pub tsne: TsneSummary,
}

impl Summary {
    /// The Markdown summary without its title and images (also printed to the terminal).
    pub fn markdown_body(&self) -> String {
        let mut s = String::new();
        let list = self
            .list
            .as_ref()
            .map(|l| format!(" [{l}]"))
            .unwrap_or_default();
        let _ = writeln!(s, "- model: {} (`{}`)", self.model, self.model_path);
        let _ = writeln!(
            s,
            "- data: {}{list}: {} clips, {} embedded, {} skipped",
            self.data,
            self.clips,
            self.embedded,
            self.skipped.len()
        );
        let _ = writeln!(s, "- layer: {}", self.layer.description);
        let _ = writeln!(
            s,
            "- embedding: {} values per clip (mean over its windows), {} constant over the corpus; standardised per value before PCA, t-SNE and cosine similarity",
            self.dimension, self.constant_dimensions
        );
        let pca: Vec<String> = self
            .pca_explained_variance
            .iter()
            .map(|v| format!("{:.1} %", 100.0 * v))
            .collect();
        let _ = writeln!(
            s,
            "- PCA: PC1, PC2 explain {} of the variance",
            pca.join(", ")
        );
        let _ = writeln!(
            s,
            "- t-SNE (exact): perplexity {} (requested {}), seed {}, {} iterations, on the first {} principal components ({:.1} % of the variance); final KL divergence {:.3}",
            self.tsne.perplexity,
            self.tsne.requested.perplexity,
            self.tsne.requested.seed,
            self.tsne.requested.epochs,
            self.tsne.input_components,
            100.0 * self.tsne.input_explained_variance,
            self.tsne.kl_divergence
        );
        let genres: Vec<String> = self
            .genres
            .iter()
            .map(|(g, n)| format!("{g} {n}"))
            .collect();
        let _ = writeln!(
            s,
            "- genres (primary label, ≥ {} clips): {}; other: {}",
            self.min_count,
            genres.join(", "),
            self.other
        );
        let _ = writeln!(s, "- embedding time: {:.0} s", self.embedding_seconds);
        for (path, why) in &self.skipped {
            let _ = writeln!(s, "- skipped {path}: {why}");
        }
        s
    }

    /// Writes `summary.json` and `summary.md` into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(
            dir.join("summary.json"),
            serde_json::to_string_pretty(self)? + "\n",
        )?;
        let md = format!(
            "# Embedding maps: {}\n\nExploratory pictures of what the model's {} layer separates; not an accuracy measure.\n\n{}\n![PCA](pca.png)\n\n![t-SNE](tsne.png)\n\n![genre similarity](similarity.png)\n\nValues: `similarity.csv`; per-clip coordinates: `points.tsv`.\n",
            self.model,
            self.layer.name,
            self.markdown_body()
        );
        std::fs::write(dir.join("summary.md"), md)?;
        Ok(())
    }
}

/// One tab-separated row per embedded clip: path, primary label, colour group ("other" below the count),
/// PC1, PC2 and the two t-SNE coordinates.
pub fn points_tsv(
    clips: &[&Clip],
    group: &[Option<usize>],
    genres: &[String],
    pca: ArrayView2<f32>,
    tsne: ArrayView2<f32>,
) -> String {
    let mut tsv = String::from("path\tlabel\tgroup\tpc1\tpc2\ttsne1\ttsne2\n");
    for (i, clip) in clips.iter().enumerate() {
        let shown = group[i].map_or("other", |g| genres[g].as_str());
        let _ = writeln!(
            tsv,
            "{}\t{}\t{shown}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
            clip.path.display(),
            clip.primary_label(),
            pca[[i, 0]],
            pca[[i, 1]],
            tsne[[i, 0]],
            tsne[[i, 1]]
        );
    }
    tsv
}
