//! `models/report/<name>.md` and `.json` (`genre-v2`, `genre-v2-fast`): the cross-validation
//! table of every candidate, and for the chosen one its figures per source and per genre, the
//! confusion matrix and the calibration. `REPORT.md` includes the Markdown at its top.

use std::fmt::Write as _;
use std::path::Path;

use genrescope::genres::{LabelKind, Vocabulary};
use serde_json::json;

use super::corpus::{Corpus, Target};
use super::cv::{self, Settings};
use super::export::{Fitted, Shipped};
use super::summary::{summary, Exploration};
use crate::eval::plots;
use crate::markdown;
use crate::metrics::Confusion;
use crate::model_report::{Section, DEFAULT_MODEL};

/// The cross-validation table of candidate [`summary`]s, `chosen` in bold; the columns of
/// umbrella and multi-genre clips only where the corpus has such clips (`sets`).
fn table(md: &mut String, results: &[serde_json::Value], chosen: Option<&str>, sets: bool) {
    let mut header = vec![
        "candidate (networks, layer, pools, classifier)",
        "single acc",
        "single macro-F1",
        "partial top-in-set",
        "multi top-in-set",
        "first window acc",
        "s",
    ];
    if !sets {
        header.retain(|h| !h.ends_with("top-in-set"));
    }
    *md += &markdown::header(header);
    let pm = |s: &serde_json::Value| {
        format!(
            "{:.3} ± {:.3}",
            s["mean"].as_f64().unwrap_or(f64::NAN),
            s["std"].as_f64().unwrap_or(f64::NAN)
        )
    };
    for r in results {
        let candidate = r["candidate"].as_str().unwrap_or("?");
        let mark = if chosen == Some(candidate) { "**" } else { "" };
        let today = if candidate == cv::Candidate::today().name() {
            " (today's head)"
        } else {
            ""
        };
        let mut row = vec![
            format!("{mark}{candidate}{mark}{today}"),
            pm(&r["single_accuracy"]),
            pm(&r["single_macro_f1"]),
        ];
        if sets {
            row.extend([pm(&r["partial_top_in_set"]), pm(&r["multi_top_in_set"])]);
        }
        row.extend([
            pm(&r["first_window_single_accuracy"]),
            format!("{:.0}", r["seconds"].as_f64().unwrap_or(f64::NAN)),
        ]);
        *md += &markdown::row(row);
    }
}

/// What a `genre-v2` run was asked for, as its report says it.
pub struct Run<'a> {
    /// The model's name (`--name`) and the folder its report goes to (`--out`).
    pub model: &'a str,
    pub out: &'a Path,
    /// `--only` (empty: every candidate).
    pub only: &'a [String],
    pub threads: Option<usize>,
    pub max_networks: usize,
    /// An earlier run's wider table, shown before this run's ([`super::summary::exploration`]).
    pub exploration: Option<&'a Exploration>,
}

/// The heading and corpus description of a genre model's report.
fn genre_corpus(
    md: &mut String,
    corpus: &Corpus,
    which: &str,
    name: &dyn Fn(&str) -> String,
) -> anyhow::Result<()> {
    let kinds = |kind| corpus.clips.iter().filter(|c| c.kind == kind).count();
    writeln!(
        md,
        "## Genre model v2{which}: pooled context, chosen by cross-validation\n"
    )?;
    writeln!(
        md,
        "By `cargo xtask genre-v2` on a {}-core machine. Corpus: {} clips of `../shared/music` in {} genres ({}): {} single-genre, {} umbrella-labelled (partial: one of a set, e.g. AllMusic's Pop/Rock), {} multi-genre; {} clips left out (no genre label, or only genres below the thresholds). A genre is in the model with at least {} single-genre clips and {} clips in all (`models/genres.toml`).\n",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        corpus.clips.len(),
        corpus.classes.len(),
        corpus.classes.iter().map(|c| name(c)).collect::<Vec<_>>().join(", "),
        kinds(LabelKind::Single),
        kinds(LabelKind::Partial),
        kinds(LabelKind::Multi),
        corpus.dropped,
        corpus.thresholds.single,
        corpus.thresholds.any,
    )?;
    writeln!(
        md,
        "| genre | single-genre clips | clips in all | in the model |\n|---|---|---|---|"
    )?;
    for (id, (single, any)) in &corpus.counts {
        let kept = if corpus.classes.contains(id) {
            "yes"
        } else {
            "no"
        };
        writeln!(md, "| {} | {single} | {any} | {kept} |", name(id))?;
    }
    writeln!(md)?;
    Ok(())
}

/// The heading and corpus description of a mood model's report.
fn mood_corpus(
    md: &mut String,
    corpus: &Corpus,
    which: &str,
    name: &dyn Fn(&str) -> String,
) -> anyhow::Result<()> {
    writeln!(
        md,
        "## Mood model{which}: the four valence-arousal quadrants, chosen by cross-validation\n"
    )?;
    writeln!(
        md,
        "By `cargo xtask genre-v2 --target mood` on a {}-core machine. Corpus: the {} clips of `../shared/music` that carry the 4Q emotion dataset's quadrant (Panda, Malheiro & Paiva 2018; `Q1`-`Q4` in `source_path`), one quadrant each; {} other clips left out. (In the tables below, *genre* stands for the quadrant.)\n",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        corpus.clips.len(),
        corpus.dropped,
    )?;
    writeln!(md, "| quadrant | id | where | clips |\n|---|---|---|---|")?;
    for mood in genrescope::moods::MOODS {
        let clips = corpus.counts.get(mood.id).map_or(0, |c| c.0);
        writeln!(
            md,
            "| {} | `{}` | {} | {clips} |",
            name(mood.id),
            mood.id,
            mood.plane
        )?;
    }
    writeln!(md)?;
    Ok(())
}

/// Rewrites the report of `run.model` with every result so far; `chosen` adds the chosen
/// candidate's details.
pub fn write_cv(
    corpus: &Corpus,
    vocabulary: &Vocabulary,
    settings: &Settings,
    run: &Run,
    results: &[cv::Result],
    chosen: Option<(usize, &Fitted, &Shipped)>,
) -> anyhow::Result<()> {
    let (model, out) = (run.model, run.out);
    let dir = out.join("report");
    std::fs::create_dir_all(&dir)?;
    let name = |id: &str| {
        genrescope::moods::find(id).map_or_else(|| vocabulary.display_name(id), |m| m.name.into())
    };
    let mut md = String::new();
    let which = if model == DEFAULT_MODEL {
        String::new()
    } else {
        format!(" (`{model}`)")
    };
    match corpus.target {
        Target::Genre => genre_corpus(&mut md, corpus, &which, &name)?,
        Target::Mood => mood_corpus(&mut md, corpus, &which, &name)?,
    }
    writeln!(
        md,
        "Protocol: {}-fold cross-validation on the whole corpus, artists never on two sides (clips without a known artist are their own group), the same folds for every candidate. Each head's weight decay is chosen from {:?} on {} of the training part's own folds (criterion: single-genre macro-F1 and top-in-set over all clips, equally weighted), then the head is trained on the whole training part and scored once on the held-out fold. Training rows: each clip's whole-clip pool plus {} random sub-contexts (1 window to the whole clip); {} full-batch Adam steps at {}. Scores are of whole clips: {}. *First window*: single-genre accuracy from the first 3-s window alone (the first live answer). Mean ± standard deviation over the folds.\n",
        corpus.k,
        settings.grid,
        settings.inner_folds,
        settings.contexts,
        settings.steps,
        settings.learning_rate,
        match corpus.target {
            Target::Genre => "single-genre clips by accuracy and macro-F1; umbrella and multi-genre clips by whether the top genre is one of theirs",
            Target::Mood => "accuracy and macro-F1 (every clip has one quadrant)",
        }
    )?;
    let summaries: Vec<serde_json::Value> = results.iter().map(summary).collect();
    let sets = corpus.clips.iter().any(|c| c.kind != LabelKind::Single);
    let chosen_name = chosen.map(|(c, ..)| results[c].candidate.as_str());
    if let Some(exploration) = run.exploration {
        writeln!(md, "**Exploration** ({}):\n", exploration.note)?;
        table(&mut md, &exploration.results, None, sets);
        writeln!(
            md,
            "\n**Decision run** (`--only`: the leading candidates again{}; the default is the simplest candidate running at most {} network(s) within one standard error of the best single-genre macro-F1):\n",
            if run.threads == Some(1) {
                ", one head at a time (`--threads 1`), so a build reproduces its own figures"
            } else {
                ""
            },
            run.max_networks
        )?;
    }
    table(&mut md, &summaries, chosen_name, sets);
    if let Some((c, calibration, shipped)) = chosen {
        let png = format!("{model}-confusion.png");
        write_chosen(&mut md, (&dir, &png), &name, &results[c], calibration)?;
        writeln!(md, "\nShipped networks: {}\n", shipped.describe())?;
    }
    Section::cv(model).write(out, &md)?;
    let doc = json!({
        "settings": settings,
        "classes": corpus.classes,
        "only": run.only,
        "results": summaries,
        "exploration": run.exploration,
        "chosen": chosen.map(|(c, f, s)| json!({ "candidate": results[c].candidate, "calibration": f, "shipped": s })),
    });
    std::fs::write(
        dir.join(format!("{model}.json")),
        serde_json::to_string_pretty(&doc)? + "\n",
    )?;
    Ok(())
}

/// The chosen candidate's figures, its confusion matrix plotted as `dir/png`.
fn write_chosen(
    md: &mut String,
    (dir, png): (&Path, &str),
    name: &dyn Fn(&str) -> String,
    result: &cv::Result,
    calibration: &Fitted,
) -> anyhow::Result<()> {
    writeln!(md, "\n### Chosen: {}\n", result.candidate)?;
    writeln!(md, "{}\n", describe_calibration(calibration))?;
    writeln!(
        md,
        "Per source (out-of-fold, top genre one of the clip's):\n"
    )?;
    *md += &markdown::header(["source", "clips", "top-in-set"]);
    for (source, (hits, n)) in &result.sources {
        *md += &markdown::row([
            source.clone(),
            n.to_string(),
            format!("{:.3}", *hits as f64 / (*n).max(1) as f64),
        ]);
    }
    let named = Confusion {
        labels: result.confusion.labels.iter().map(|l| name(l)).collect(),
        matrix: result.confusion.matrix.clone(),
    };
    writeln!(md, "\nPer genre (single-genre clips, all folds):\n")?;
    *md += &markdown::header(["genre", "clips", "precision", "recall", "F1"]);
    for s in named.per_class() {
        *md += &markdown::row([
            s.label,
            s.support.to_string(),
            format!("{:.3}", s.precision),
            format!("{:.3}", s.recall),
            format!("{:.3}", s.f1),
        ]);
    }
    plots::confusion(&named, &result.candidate, &dir.join(png))?;
    writeln!(md, "\n![confusion](report/{png})\n")?;
    writeln!(
        md,
        "Confusion (rows: truth, columns: predicted, single-genre clips):\n"
    )?;
    *md += &markdown::header(std::iter::once("").chain(named.labels.iter().map(String::as_str)));
    for (label, row) in named.labels.iter().zip(&named.matrix) {
        *md +=
            &markdown::row(std::iter::once(label.clone()).chain(row.iter().map(usize::to_string)));
    }
    Ok(())
}

/// The report's paragraph on the chosen candidate's calibration.
fn describe_calibration(c: &Fitted) -> String {
    let fitted = format!(
        "A temperature fitted on the out-of-fold answers of single-genre clips (NLL) is {:.2}; the 15-bin ECE of those answers is {:.3} as they are and {:.3} cross-fitted with it (each fold calibrated by a temperature fitted on the other folds; {:.3} ± {:.3} per fold of ~110 clips, where sampling noise dominates).",
        c.nll_temperature, c.ece_before, c.ece_after, c.ece_fold_mean, c.ece_fold_std
    );
    let shipped = if c.kept {
        format!("The model ships temperature {:.2}.", c.temperature)
    } else {
        "It raises the ECE, so the model ships its answers as they are (temperature 1).".into()
    };
    format!(
        "Calibration: {fitted} {shipped} A perfectly calibrated model with the shipped confidences would show {:.3} ± {:.3} on these clips (labels drawn from its own probabilities, 1000 draws): the sampling noise of 15 bins over this many clips, below which no ECE can be read.",
        c.ece_floor.0, c.ece_floor.1
    )
}
