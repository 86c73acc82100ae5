//! `cargo xtask aspects`: the thresholds above which mn04's AudioSet classes are shown as
//! styles, instruments or voices, fitted where the corpus has ground truth.
//!
//! AudioSet's probabilities are on very different scales from class to class (its labels are
//! sparse: a clear hip-hop clip may score 0.3 for Hip hop music, a clear folk clip 0.05 for
//! Folk music), so one absolute threshold fits no class well. Each class's threshold is instead
//! the same *quantile* of its own probabilities over the corpus's music: a class is shown when
//! a clip scores it higher than that share of the corpus does. The corpus labels genres, not
//! instruments or voices; the AudioSet classes that name one of our genres (Hip hop music,
//! Jazz, ...) are the ground truth at hand, and the quantile is chosen to maximise their mean F1
//! over the single-genre clips, on a clip's mean probability (the live context's mean is the
//! same statistic over ~30 s). Rapping against hip-hop clips is reported beside it as the one
//! check of a voice class. Everything else shown has no ground truth here, and the report says
//! so.

use std::fmt::Write as _;
use std::path::PathBuf;

use genrescope::genres::LabelKind;

use crate::context::corpus::{Corpus, CorpusArgs};
use crate::context::windows::{self, Layer, Network};
use crate::efficientat;
use crate::markdown;

/// AudioSet classes that name one of the model's genres: (class, genre id).
const GENRE_CLASSES: [(&str, &str); 12] = [
    ("Hip hop music", "hip-hop"),
    ("Rock music", "rock"),
    ("Pop music", "pop"),
    ("Jazz", "jazz"),
    ("Blues", "blues"),
    ("Country", "country"),
    ("Classical music", "classical"),
    ("Reggae", "reggae"),
    ("Electronic music", "electronic"),
    ("Folk music", "folk"),
    ("Rhythm and blues", "rnb"),
    ("Music of Latin America", "latin"),
];

/// Voice classes with a genre that stands for them: (class, genre id).
const VOICE_CHECKS: [(&str, &str); 1] = [("Rapping", "hip-hop")];

/// Quantiles tried, in percent.
const QUANTILES: std::ops::RangeInclusive<u32> = 50..=99;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    corpus: CorpusArgs,
    #[arg(long, default_value = "cache/context")]
    cache: PathBuf,
    #[arg(long, default_value = "models/report/aspects.md")]
    report: PathBuf,
    #[arg(long)]
    threads: Option<usize>,
}

/// Precision, recall and F1 of "probability ≥ threshold" against `truth`.
#[derive(Debug, Clone, Copy)]
struct Scores {
    precision: f64,
    recall: f64,
    f1: f64,
}

fn scores(probabilities: &[f32], truth: &[bool], threshold: f32) -> Scores {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (&p, &t) in probabilities.iter().zip(truth) {
        match (p >= threshold, t) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let f1 = 2.0 * precision * recall / (precision + recall).max(f64::MIN_POSITIVE);
    Scores {
        precision,
        recall,
        f1,
    }
}

/// One checked class: its probability on every corpus clip (for its quantile) and, on the
/// single-genre clips, which are its genre.
struct Check {
    class: &'static str,
    genre: &'static str,
    /// Sorted clip means over every corpus clip.
    corpus: Vec<f32>,
    probabilities: Vec<f32>,
    truth: Vec<bool>,
}

impl Check {
    /// The class's threshold at quantile `q` (percent) of its corpus probabilities.
    fn threshold(&self, q: u32) -> f32 {
        quantile(&self.corpus, q)
    }

    fn scores(&self, q: u32) -> Scores {
        scores(&self.probabilities, &self.truth, self.threshold(q))
    }
}

/// The value below which `q` % of `sorted` lie.
fn quantile(sorted: &[f32], q: u32) -> f32 {
    let at = ((sorted.len().saturating_sub(1)) as f64 * f64::from(q) / 100.0).round() as usize;
    sorted.get(at).copied().unwrap_or(1.0)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (_, corpus) = args.corpus.load()?;
    let rows = windows::probe_rows(
        Network::MN04,
        false,
        &args.corpus.weights,
        &corpus.clips,
        &args.cache,
        args.threads,
    )?;
    let names = efficientat::class_names(&efficientat::network_dir())?;
    let single: Vec<usize> = (0..corpus.clips.len())
        .filter(|&i| corpus.clips[i].kind == LabelKind::Single)
        .collect();
    let sorted_means = |index: usize| {
        let mut all: Vec<f32> = rows.iter().map(|r| clip_mean(r, index)).collect();
        all.sort_by(f32::total_cmp);
        all
    };
    let check = |(class, genre): (&'static str, &'static str)| -> anyhow::Result<Check> {
        let index = names
            .iter()
            .position(|n| n == class)
            .ok_or_else(|| anyhow::anyhow!("no AudioSet class {class}"))?;
        let genre_index = corpus.classes.iter().position(|c| c == genre);
        Ok(Check {
            class,
            genre,
            corpus: sorted_means(index),
            probabilities: single.iter().map(|&i| clip_mean(&rows[i], index)).collect(),
            truth: single
                .iter()
                .map(|&i| genre_index.is_some_and(|g| corpus.clips[i].genres == [g]))
                .collect(),
        })
    };
    let genres: Vec<Check> = GENRE_CLASSES
        .into_iter()
        .map(check)
        .collect::<anyhow::Result<_>>()?;
    let voices: Vec<Check> = VOICE_CHECKS
        .into_iter()
        .map(check)
        .collect::<anyhow::Result<_>>()?;
    let q = best_quantile(&genres);
    let thresholds: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                name.clone(),
                serde_json::json!(quantile(&sorted_means(i), q)),
            )
        })
        .collect();
    let report = write_report(&corpus, single.len(), q, &genres, &voices)?;
    std::fs::write(&args.report, &report)?;
    let json =
        serde_json::json!({ "quantile": q, "clips": corpus.clips.len(), "thresholds": thresholds });
    std::fs::write(
        args.report.with_extension("json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    println!("{report}");
    Ok(())
}

/// The mean over a clip's windows of AudioSet class `index`'s probability.
fn clip_mean(rows: &ndarray::Array2<f32>, index: usize) -> f32 {
    let tags = Layer::Tags.range(Network::MN04, rows.ncols());
    let column = rows.column(tags.start + index);
    column.sum() / column.len().max(1) as f32
}

/// The quantile (percent) with the best mean F1 over `checks`.
fn best_quantile(checks: &[Check]) -> u32 {
    let mean_f1 =
        |q: u32| checks.iter().map(|c| c.scores(q).f1).sum::<f64>() / checks.len().max(1) as f64;
    QUANTILES
        .max_by(|&a, &b| mean_f1(a).total_cmp(&mean_f1(b)))
        .expect("quantiles to try")
}

fn write_report(
    corpus: &Corpus,
    clips: usize,
    q: u32,
    genres: &[Check],
    voices: &[Check],
) -> anyhow::Result<String> {
    let mut md = String::new();
    writeln!(
        md,
        "## Styles, instruments and voices: when a class is shown\n"
    )?;
    writeln!(
        md,
        "By `cargo xtask aspects`. mn04's AudioSet probabilities, averaged over each clip's windows (as the live view averages its ~30-s context), on the {} clips of the genre corpus. AudioSet's classes score on very different scales, so each class gets its own threshold: the **{q}th percentile** of its clip means over the corpus (a class is shown when a clip scores it higher than {q} % of the corpus's music does). {q} % is the quantile with the best mean F1 over the AudioSet classes that name one of our genres, on the {clips} single-genre clips (a clip is positive when its genre is that genre). Fitted on these clips and reported on the same clips: read the F1 as how well the thresholds separate, not as a held-out score. Every class's threshold is in `models/report/aspects.json`.\n",
        corpus.clips.len()
    )?;
    let table = |md: &mut String, checks: &[Check]| {
        *md += &markdown::header([
            "AudioSet class",
            "stands for",
            "clips",
            "threshold",
            "precision",
            "recall",
            "F1",
        ]);
        for c in checks {
            let s = c.scores(q);
            *md += &markdown::row([
                c.class.to_owned(),
                c.genre.to_owned(),
                c.truth.iter().filter(|&&t| t).count().to_string(),
                format!("{:.3}", c.threshold(q)),
                format!("{:.2}", s.precision),
                format!("{:.2}", s.recall),
                format!("{:.2}", s.f1),
            ]);
        }
    };
    table(&mut md, genres);
    writeln!(
        md,
        "\nVoices, where a genre stands for them (at the same quantile):\n"
    )?;
    table(&mut md, voices);
    writeln!(
        md,
        "\nNo ground truth in the corpus for the other classes shown: the styles beyond our genres (House music, Techno, Drum and bass, Heavy metal, Disco, ...: the corpus has 7 metal and 3 disco clips, too few to measure), the instruments, and the voices other than Rapping. They use the same quantile of their own scores: what they show is AudioSet's judgement, relative to this corpus, not one measured here."
    )?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_count_hits_and_misses() {
        let s = scores(&[0.9, 0.6, 0.2, 0.1], &[true, false, true, false], 0.5);
        assert_eq!((s.precision, s.recall), (0.5, 0.5));
        assert!((s.f1 - 0.5).abs() < 1e-12);
    }

    #[test]
    fn each_class_is_shown_above_its_own_quantile() {
        let check = |corpus: Vec<f32>, probabilities: Vec<f32>, truth: Vec<bool>| Check {
            class: "c",
            genre: "g",
            corpus,
            probabilities,
            truth,
        };
        // Two classes on scales 10x apart; both separate at their own 75th percentile.
        let a = check(
            vec![0.01, 0.02, 0.03, 0.3],
            vec![0.3, 0.02],
            vec![true, false],
        );
        let b = check(vec![0.1, 0.2, 0.3, 3.0], vec![3.0, 0.2], vec![true, false]);
        assert!((a.threshold(75) - 0.03).abs() < 1e-6);
        assert!((b.threshold(75) - 0.3).abs() < 1e-6);
        let q = best_quantile(&[a, b]);
        assert!((50..=99).contains(&q));
        assert_eq!(quantile(&[0.1, 0.2, 0.3], 50), 0.2);
    }
}
