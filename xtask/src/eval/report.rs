//! The evaluation report: terminal summary, `report.json`, `report.md` and the plots.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use genrescope::genres::{LabelKind, Meaning, Vocabulary};
use genrescope::inference::ModelMetadata;
use serde::Serialize;

use super::{confusion, model_label, plots, Args};
use crate::markdown::{self, cell};
use crate::metrics::{argmax, ClassScores, Confusion};

/// What happened to one clip.
pub struct ClipResult {
    pub path: PathBuf,
    /// Dataset labels, primary first.
    pub labels: Vec<String>,
    /// Mean window probabilities over the model's labels, or why the clip was skipped.
    pub outcome: Result<Vec<f32>, String>,
}

#[derive(Serialize)]
struct Prediction {
    path: String,
    labels: Vec<String>,
    predicted: String,
    confidence: f32,
    /// The clip's distribution over the model's labels (to compare two models clip by clip).
    probabilities: Vec<f32>,
}

#[derive(Serialize)]
pub struct Report {
    model: String,
    data: String,
    list: Option<String>,
    clips: usize,
    /// Clips scored (primary label known to the model).
    scored: usize,
    accuracy: f64,
    macro_f1: f64,
    /// Scored clips whose prediction is any of their labels (multi-genre clips).
    any_label_accuracy: f64,
    /// Expected calibration error of the scored clips' distributions (15 bins).
    ece: f64,
    /// Every clip by how its labels constrain it (genre vocabulary): single-genre, umbrella
    /// (partial) and multi-genre labels, each scored by whether the top genre is one of the
    /// clip's.
    by_kind: Vec<KindScore>,
    per_class: Vec<ClassScores>,
    confusion: Confusion,
    /// Clips whose primary label the model does not know, by label.
    unknown_labels: Vec<(String, usize)>,
    /// Clips that could not be classified, and why.
    failed: Vec<(String, String)>,
    predictions: Vec<Prediction>,
}

/// Clips of one [`LabelKind`] whose top genre is one of theirs.
#[derive(Serialize)]
struct KindScore {
    kind: LabelKind,
    clips: usize,
    top_in_set: f64,
}

/// The genre ids a model label stands for (an umbrella label stands for several).
fn genre_ids(vocabulary: &Vocabulary, label: &str) -> Vec<String> {
    match vocabulary.meaning(label) {
        Some(Meaning::Genre(id)) => vec![id.clone()],
        Some(Meaning::OneOf(ids)) => ids.clone(),
        Some(Meaning::NotAGenre(_)) | None => vec![label.to_owned()],
    }
}

fn by_kind(labels: &[String], results: &[ClipResult]) -> Vec<KindScore> {
    let vocabulary = Vocabulary::builtin();
    let mut counts: std::collections::BTreeMap<LabelKind, (usize, usize)> = Default::default();
    for r in results {
        let (Ok(p), Ok(genres)) = (
            &r.outcome,
            vocabulary.clip_genres(r.labels.iter().map(String::as_str)),
        ) else {
            continue;
        };
        if genres.genres.is_empty() {
            continue;
        }
        let top = genre_ids(vocabulary, &labels[argmax(p)]);
        let entry = counts.entry(genres.kind).or_default();
        entry.0 += usize::from(top.iter().any(|g| genres.genres.contains(g)));
        entry.1 += 1;
    }
    counts
        .into_iter()
        .map(|(kind, (hits, clips))| KindScore {
            kind,
            clips,
            top_in_set: hits as f64 / clips.max(1) as f64,
        })
        .collect()
}

impl Report {
    pub fn new(metadata: &ModelMetadata, args: &Args, results: &[ClipResult]) -> Self {
        let labels = &metadata.labels;
        let confusion = confusion(labels, results);
        let mut unknown = std::collections::BTreeMap::new();
        let mut failed = Vec::new();
        let mut predictions = Vec::new();
        let mut any_hits = 0;
        let (mut scored_rows, mut scored_truth) = (Vec::new(), Vec::new());
        for r in results {
            match &r.outcome {
                Err(why) => failed.push((r.path.display().to_string(), why.clone())),
                Ok(p) => {
                    let top = argmax(p);
                    if let Some(truth) = model_label(labels, &r.labels[0]) {
                        any_hits += r.labels.contains(&labels[top]) as usize;
                        scored_rows.extend_from_slice(p);
                        scored_truth.push(truth);
                    } else {
                        *unknown.entry(r.labels[0].clone()).or_insert(0) += 1;
                    }
                    predictions.push(Prediction {
                        path: r.path.display().to_string(),
                        labels: r.labels.clone(),
                        predicted: labels[top].clone(),
                        confidence: p[top],
                        probabilities: p.clone(),
                    });
                }
            }
        }
        let scored = confusion.total();
        Self {
            model: args.model.display().to_string(),
            data: args.data.display().to_string(),
            list: args.list.as_ref().map(|l| l.display().to_string()),
            clips: results.len(),
            scored,
            accuracy: confusion.accuracy(),
            macro_f1: confusion.macro_f1(),
            any_label_accuracy: any_hits as f64 / scored.max(1) as f64,
            ece: ndarray::ArrayView2::from_shape((scored_truth.len(), labels.len()), &scored_rows)
                .map_or(0.0, |p| crate::train::calibrate::ece(p, &scored_truth)),
            by_kind: by_kind(labels, results),
            per_class: confusion.per_class(),
            confusion,
            unknown_labels: unknown.into_iter().collect(),
            failed,
            predictions,
        }
    }

    fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} on {}{}: {} clips, {} scored (clip level, mean window probability)",
            self.model,
            self.data,
            self.list
                .as_ref()
                .map(|l| format!(" [{l}]"))
                .unwrap_or_default(),
            self.clips,
            self.scored
        );
        let _ = writeln!(
            s,
            "accuracy {:.3}  macro-F1 {:.3}  any-label accuracy {:.3}  ECE {:.3}",
            self.accuracy, self.macro_f1, self.any_label_accuracy, self.ece
        );
        for k in &self.by_kind {
            let _ = writeln!(
                s,
                "{:?} clips: {}, top genre one of theirs {:.3}",
                k.kind, k.clips, k.top_in_set
            );
        }
        for (label, n) in &self.unknown_labels {
            let _ = writeln!(
                s,
                "not scored: {n} clips labelled '{}', a label the model does not know",
                Vocabulary::builtin().display_name(label)
            );
        }
        for (path, why) in &self.failed {
            let _ = writeln!(s, "failed: {path}: {why}");
        }
        s
    }

    pub fn print(&self) {
        print!("{}", self.summary());
        println!(
            "{:<24} {:>9} {:>7} {:>6} {:>8}",
            "class", "precision", "recall", "F1", "support"
        );
        for (c, name) in self
            .per_class
            .iter()
            .zip(Vocabulary::builtin().names(&self.confusion.labels))
        {
            println!(
                "{:<24} {:>9.3} {:>7.3} {:>6.3} {:>8}",
                name, c.precision, c.recall, c.f1, c.support
            );
        }
        println!("confusion (rows: truth, columns: predicted, order as above):");
        for row in &self.confusion.matrix {
            println!(
                "  {}",
                row.iter().map(|n| format!("{n:>3}")).collect::<String>()
            );
        }
    }

    /// `report.md`: the summary, the per-class table and the confusion matrix, with genre
    /// names (`train-all` puts its body into `models/REPORT.md`).
    fn markdown(&self) -> String {
        // Genre names, never dataset labels such as `pop-rock(allmusic)` or ids.
        let names: Vec<String> = Vocabulary::builtin()
            .names(&self.confusion.labels)
            .iter()
            .map(|n| cell(n))
            .collect();
        let mut s = String::from("# Evaluation\n\n");
        s += &self
            .summary()
            .lines()
            .map(|l| format!("{l}  \n"))
            .collect::<String>();
        s += "\n";
        s += &markdown::header(["class", "precision", "recall", "F1", "support"]);
        for (c, name) in self.per_class.iter().zip(&names) {
            s += &markdown::row([
                name.clone(),
                format!("{:.3}", c.precision),
                format!("{:.3}", c.recall),
                format!("{:.3}", c.f1),
                c.support.to_string(),
            ]);
        }
        s += "\nConfusion matrix (rows: truth, columns: predicted):\n\n";
        s += &markdown::header(std::iter::once("").chain(names.iter().map(String::as_str)));
        for (l, row) in names.iter().zip(&self.confusion.matrix) {
            s += &markdown::row(
                std::iter::once(format!("**{l}**")).chain(row.iter().map(usize::to_string)),
            );
        }
        s += "\n![confusion](confusion.png)\n";
        s
    }

    /// Writes `report.json`, `report.md`, `confusion.png` and, when the metadata has a training
    /// history, `training.png`.
    pub fn write(&self, dir: &Path, metadata: &ModelMetadata) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(self)? + "\n",
        )?;
        let mut md = self.markdown();
        plots::confusion(&self.confusion, &metadata.name, &dir.join("confusion.png"))?;
        if plots::training_curves(metadata, &dir.join("training.png"))? {
            md += "\n![training curves](training.png)\n";
        }
        std::fs::write(dir.join("report.md"), md)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let labels: Vec<String> = ["hiphop", "pop-rock(allmusic)", "rnb"]
            .map(String::from)
            .to_vec();
        let confusion = Confusion::new(&labels, &[0, 0, 1, 2], &[0, 1, 1, 0]);
        Report {
            model: "m.onnx".into(),
            data: "music".into(),
            list: None,
            clips: 5,
            scored: 4,
            accuracy: confusion.accuracy(),
            macro_f1: confusion.macro_f1(),
            any_label_accuracy: 0.5,
            ece: 0.1,
            by_kind: Vec::new(),
            per_class: confusion.per_class(),
            confusion,
            unknown_labels: vec![("international".into(), 1)],
            failed: Vec::new(),
            predictions: Vec::new(),
        }
    }

    #[test]
    fn the_markdown_names_genres_in_the_tables_and_the_confusion_matrix() {
        let md = report().markdown();
        assert!(
            md.contains("| Hip-Hop | 0.500 | 0.500 | 0.500 | 2 |"),
            "{md}"
        );
        assert!(md.contains("| R&B / Soul | 0.000 |"), "{md}");
        assert!(
            md.contains("| | Hip-Hop | Pop or Rock | R&B / Soul |\n|---|---|---|---|\n"),
            "{md}"
        );
        assert!(md.contains("| **Pop or Rock** | 0 | 1 | 0 |"), "{md}");
        assert!(md.contains("not scored: 1 clips labelled 'World'"), "{md}");
        for artefact in ["hiphop", "allmusic", "rnb", "international"] {
            assert!(!md.contains(artefact), "{artefact} in {md}");
        }
        // report.json keeps the model's labels for programs.
        let json = serde_json::to_value(report()).unwrap();
        assert_eq!(json["confusion"]["labels"][0], "hiphop");
    }

    #[test]
    fn a_name_with_a_bar_does_not_split_a_markdown_cell() {
        assert_eq!(cell("Pop | Rock"), "Pop \\| Rock");
    }

    #[test]
    fn clips_are_scored_by_how_their_labels_constrain_them() {
        let labels: Vec<String> = ["hip-hop", "pop", "rock"].map(String::from).to_vec();
        let clip = |labels: &[&str], p: [f32; 3]| ClipResult {
            path: "x.ogg".into(),
            labels: labels
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            outcome: Ok(p.to_vec()),
        };
        let results = [
            clip(&["hiphop"], [0.8, 0.1, 0.1]),               // single, right
            clip(&["hiphop"], [0.1, 0.8, 0.1]),               // single, wrong
            clip(&["pop-rock(allmusic)"], [0.1, 0.2, 0.7]),   // umbrella: rock is in it
            clip(&["electronic", "hiphop"], [0.1, 0.6, 0.3]), // multi: pop is not
        ];
        let kinds = by_kind(&labels, &results);
        let rate = |kind| {
            kinds
                .iter()
                .find(|k| k.kind == kind)
                .map(|k| (k.clips, k.top_in_set))
        };
        assert_eq!(rate(LabelKind::Single), Some((2, 0.5)));
        assert_eq!(rate(LabelKind::Partial), Some((1, 1.0)));
        assert_eq!(rate(LabelKind::Multi), Some((1, 0.0)));
    }
}
