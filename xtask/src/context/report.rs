//! `models/report/<name>.md` and `.json` (`genre-v2`, `genre-v2-fast`): the cross-validation
//! table of every candidate, and for the chosen one its figures per source and per genre, the
//! confusion matrix and the calibration. `REPORT.md` includes the Markdown at its top.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use genrescope::genres::{LabelKind, Vocabulary};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::corpus::Corpus;
use super::cv::{self, Settings};
use super::export::{Fitted, Shipped};
use crate::eval::plots;
use crate::metrics::{mean_std, Confusion};

/// The shipped genre models, by `genre-v2 --name`: the default ("Accurate") and the fast one.
pub const DEFAULT_MODEL: &str = "genre-v2";
pub const FAST_MODEL: &str = "genre-v2-fast";

/// A part of `REPORT.md` that a command writes as `<out>/report/<stem>.md`; `train-all` keeps
/// every one when it rebuilds the rest, in [`Section::all`]'s order.
pub struct Section {
    stem: String,
    /// The `cargo xtask` command that writes it.
    command: &'static str,
}

impl Section {
    /// The cross-validation report of `cargo xtask genre-v2 --name <name>`.
    pub fn cv(name: &str) -> Self {
        Self {
            stem: name.to_owned(),
            command: "genre-v2",
        }
    }

    /// The table of `cargo xtask distill`.
    pub fn distill() -> Self {
        Self {
            stem: "distill".to_owned(),
            command: "distill",
        }
    }

    /// Every section, in `REPORT.md`'s order (another `--name`'s goes after them).
    pub fn all() -> [Section; 3] {
        [
            Section::cv(DEFAULT_MODEL),
            Section::cv(FAST_MODEL),
            Section::distill(),
        ]
    }

    /// Where the section starts in `REPORT.md`.
    fn begin(&self) -> String {
        let (stem, command) = (&self.stem, self.command);
        format!("<!-- {stem}: written by `cargo xtask {command}` (models/report/{stem}.md) -->\n")
    }

    /// Where the section ends in `REPORT.md`.
    fn end(&self) -> String {
        format!("<!-- /{} -->\n", self.stem)
    }

    /// The section as `REPORT.md` carries it (empty before the command's first run).
    pub fn text(&self, out: &Path) -> String {
        std::fs::read_to_string(out.join("report").join(format!("{}.md", self.stem)))
            .map(|md| format!("{}{md}\n{}\n", self.begin(), self.end()))
            .unwrap_or_default()
    }

    /// Writes `md` as `<out>/report/<stem>.md` and puts it into `<out>/REPORT.md`, replacing
    /// the previous one, else after the sections before it in [`Section::all`], else after the
    /// title.
    pub fn write(&self, out: &Path, md: &str) -> anyhow::Result<()> {
        let dir = out.join("report");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}.md", self.stem)), md)?;
        let path = out.join("REPORT.md");
        let doc = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Model report\n\n".into());
        let (begin, end) = (self.begin(), self.end());
        let (before, after) = match (doc.find(&begin), doc.find(&end)) {
            (Some(b), Some(e)) => (&doc[..b], &doc[e + end.len()..]),
            _ => {
                let earlier = Section::all()
                    .iter()
                    .take_while(|s| s.stem != self.stem)
                    .filter_map(|s| doc.find(&s.end()).map(|e| e + s.end().len()))
                    .max();
                let at = earlier.unwrap_or_else(|| doc.find("\n\n").map_or(0, |i| i + 2));
                (&doc[..at], &doc[at..])
            }
        };
        let after = after.trim_start_matches('\n');
        std::fs::write(&path, format!("{before}{}{after}", self.text(out)))?;
        Ok(())
    }
}

/// A result's figures as mean ± std over folds.
pub fn summary(result: &cv::Result) -> serde_json::Value {
    let stat = |f: &dyn Fn(&cv::Scores) -> f64| {
        let (mean, std) = result.stat(f);
        json!({ "mean": mean, "std": std })
    };
    let (first_acc, first_sd) = mean_std(
        &result
            .first_window
            .iter()
            .map(|s| s.accuracy)
            .collect::<Vec<_>>(),
    );
    json!({
        "candidate": result.candidate,
        "single_accuracy": stat(&|s| s.accuracy),
        "single_macro_f1": stat(&|s| s.macro_f1),
        "partial_top_in_set": stat(&|s| s.partial_in_set),
        "multi_top_in_set": stat(&|s| s.multi_in_set),
        "all_top_in_set": stat(&|s| s.all_in_set),
        "first_window_single_accuracy": { "mean": first_acc, "std": first_sd },
        "weight_decays": result.weight_decays,
        "sources": result.sources,
        "seconds": result.seconds,
    })
}

/// A wider cross-validation kept beside a decision run: the candidates of an earlier run
/// without `--only`, carried over while the same model is re-run with `--only`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exploration {
    /// How the table was made (e.g. how many candidates, on how many threads).
    pub note: String,
    /// Each candidate's [`summary`].
    pub results: Vec<serde_json::Value>,
}

/// The exploration a run of `model` keeps: none for a run without `--only` (its own table is
/// the exploration); for an `--only` run, the earlier report's exploration, or the earlier
/// report's whole table if that run had no `--only`.
pub fn exploration(
    out: &Path,
    model: &str,
    only: &[String],
) -> anyhow::Result<Option<Exploration>> {
    if only.is_empty() {
        return Ok(None);
    }
    let path = out.join("report").join(format!("{model}.json"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let earlier: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a genre-v2 report", path.display()))?;
    // `null`: the earlier run kept none (what `write_cv` writes then).
    if let Some(kept) = earlier.get("exploration").filter(|e| !e.is_null()) {
        return Ok(Some(serde_json::from_value(kept.clone()).with_context(
            || format!("the exploration in {}", path.display()),
        )?));
    }
    let full = earlier["only"].as_array().is_some_and(Vec::is_empty);
    let results = earlier["results"].as_array().cloned().unwrap_or_default();
    Ok(full.then(|| Exploration {
        note: format!("all {} candidates of a run without `--only`", results.len()),
        results,
    }))
}

/// The cross-validation table of candidate [`summary`]s, `chosen` in bold.
fn table(md: &mut String, results: &[serde_json::Value], chosen: Option<&str>) -> std::fmt::Result {
    writeln!(md, "| candidate (networks, layer, pools, classifier) | single acc | single macro-F1 | partial top-in-set | multi top-in-set | first window acc | s |")?;
    writeln!(md, "|---|---|---|---|---|---|---|")?;
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
        writeln!(
            md,
            "| {mark}{candidate}{mark}{today} | {} | {} | {} | {} | {} | {:.0} |",
            pm(&r["single_accuracy"]),
            pm(&r["single_macro_f1"]),
            pm(&r["partial_top_in_set"]),
            pm(&r["multi_top_in_set"]),
            pm(&r["first_window_single_accuracy"]),
            r["seconds"].as_f64().unwrap_or(f64::NAN)
        )?;
    }
    Ok(())
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
    /// An earlier run's wider table, shown before this run's ([`exploration`]).
    pub exploration: Option<&'a Exploration>,
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
    let name = |id: &str| vocabulary.display_name(id);
    let mut md = String::new();
    let kinds = |kind| corpus.clips.iter().filter(|c| c.kind == kind).count();
    let which = if model == DEFAULT_MODEL {
        String::new()
    } else {
        format!(" (`{model}`)")
    };
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
    writeln!(
        md,
        "Protocol: {}-fold cross-validation on the whole corpus, artists never on two sides (clips without a known artist are their own group), the same folds for every candidate. Each head's weight decay is chosen from {:?} on {} of the training part's own folds (criterion: single-genre macro-F1 and top-in-set over all clips, equally weighted), then the head is trained on the whole training part and scored once on the held-out fold. Training rows: each clip's whole-clip pool plus {} random sub-contexts (1 window to the whole clip); {} full-batch Adam steps at {}. Scores are of whole clips: single-genre clips by accuracy and macro-F1; umbrella and multi-genre clips by whether the top genre is one of theirs. *First window*: single-genre accuracy from the first 3-s window alone (the first live answer). Mean ± standard deviation over the folds.\n",
        corpus.k,
        settings.grid,
        settings.inner_folds,
        settings.contexts,
        settings.steps,
        settings.learning_rate
    )?;
    let summaries: Vec<serde_json::Value> = results.iter().map(summary).collect();
    let chosen_name = chosen.map(|(c, ..)| results[c].candidate.as_str());
    if let Some(exploration) = run.exploration {
        writeln!(md, "**Exploration** ({}):\n", exploration.note)?;
        table(&mut md, &exploration.results, None)?;
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
    table(&mut md, &summaries, chosen_name)?;
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
    writeln!(
        md,
        "Calibration: temperature {:.2} fitted on the out-of-fold answers of single-genre clips (15-bin ECE {:.3} before). Cross-fitted, each fold calibrated by a temperature fitted on the other folds: ECE {:.3} over all single-genre clips ({:.3} ± {:.3} per fold of ~110 clips, where sampling noise dominates). A perfectly calibrated model with the same confidences would show {:.3} ± {:.3} on these clips (labels drawn from its own probabilities, 1000 draws): the sampling noise of 15 bins over this many clips, below which no ECE can be read.\n",
        calibration.temperature, calibration.ece_before, calibration.ece_after, calibration.ece_fold_mean, calibration.ece_fold_std, calibration.ece_floor.0, calibration.ece_floor.1
    )?;
    writeln!(
        md,
        "Per source (out-of-fold, top genre one of the clip's):\n"
    )?;
    writeln!(md, "| source | clips | top-in-set |\n|---|---|---|")?;
    for (source, (hits, n)) in &result.sources {
        writeln!(
            md,
            "| {source} | {n} | {:.3} |",
            *hits as f64 / (*n).max(1) as f64
        )?;
    }
    let named = Confusion {
        labels: result.confusion.labels.iter().map(|l| name(l)).collect(),
        matrix: result.confusion.matrix.clone(),
    };
    writeln!(md, "\nPer genre (single-genre clips, all folds):\n")?;
    writeln!(
        md,
        "| genre | clips | precision | recall | F1 |\n|---|---|---|---|---|"
    )?;
    for s in named.per_class() {
        writeln!(
            md,
            "| {} | {} | {:.3} | {:.3} | {:.3} |",
            s.label, s.support, s.precision, s.recall, s.f1
        )?;
    }
    plots::confusion(&named, &result.candidate, &dir.join(png))?;
    writeln!(md, "\n![confusion](report/{png})\n")?;
    writeln!(
        md,
        "Confusion (rows: truth, columns: predicted, single-genre clips):\n"
    )?;
    writeln!(md, "| | {} |", named.labels.join(" | "))?;
    writeln!(md, "|---|{}", "---|".repeat(named.labels.len()))?;
    for (label, row) in named.labels.iter().zip(&named.matrix) {
        let cells: Vec<String> = row.iter().map(usize::to_string).collect();
        writeln!(md, "| {label} | {} |", cells.join(" | "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_in_place_or_added_after_the_earlier_ones() {
        let out = std::env::temp_dir().join(format!("genrescope-sections-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let report = out.join("REPORT.md");
        std::fs::write(
            &report,
            "# Model report\n\nIntro.\n\n## Per-window models\n",
        )
        .unwrap();
        Section::distill().write(&out, "students v1\n").unwrap();
        Section::cv(DEFAULT_MODEL)
            .write(&out, "pooled v1\n")
            .unwrap();
        Section::distill().write(&out, "students v2\n").unwrap();
        Section::cv(FAST_MODEL).write(&out, "fast v1\n").unwrap();
        let doc = std::fs::read_to_string(&report).unwrap();
        let at = |text: &str| doc.find(text).unwrap_or_else(|| panic!("{text} in {doc}"));
        assert!(!doc.contains("students v1"), "{doc}");
        assert!(at("# Model report") < at("pooled v1"));
        assert!(at("pooled v1") < at("fast v1"), "{doc}");
        assert!(at("fast v1") < at("students v2"), "{doc}");
        assert!(at("students v2") < at("## Per-window models"), "{doc}");
        assert_eq!(doc.matches("<!-- /distill -->").count(), 1, "{doc}");
        assert!(
            doc.contains("<!-- genre-v2-fast: written by `cargo xtask genre-v2`"),
            "{doc}"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn a_decision_run_keeps_the_wider_table_of_the_run_before_it() {
        let out = tempfile::tempdir().unwrap();
        let report = out.path().join("report");
        std::fs::create_dir_all(&report).unwrap();
        let write = |doc: serde_json::Value| {
            std::fs::write(report.join("m.json"), doc.to_string()).unwrap();
        };
        let only = ["msd".to_owned()];
        let kept = |only: &[String]| exploration(out.path(), "m", only).unwrap();
        // No earlier report, or a run of every candidate: nothing to keep.
        assert!(kept(&only).is_none());
        write(json!({ "only": [], "results": [{ "candidate": "a" }, { "candidate": "b" }] }));
        assert!(kept(&[]).is_none());
        // An --only run after a full one keeps the full table.
        let first = kept(&only).expect("the full run's table");
        assert_eq!(first.results.len(), 2);
        assert_eq!(first.note, "all 2 candidates of a run without `--only`");
        // The next --only run keeps what the previous one kept, not its own narrower table.
        write(json!({ "only": ["msd"], "results": [{ "candidate": "a" }], "exploration": first }));
        let again = kept(&only).expect("kept again");
        assert_eq!(again.results, first.results);
        // An --only run after an --only run that kept nothing keeps nothing, whether that
        // report says so with `null` (as `write_cv` writes it) or leaves the key out.
        write(json!({ "only": ["msd"], "results": [{ "candidate": "a" }], "exploration": null }));
        assert!(kept(&only).is_none());
        write(json!({ "only": ["msd"], "results": [{ "candidate": "a" }] }));
        assert!(kept(&only).is_none());
        // A damaged report is an error, not a silently lost table.
        std::fs::write(report.join("m.json"), "{ not json").unwrap();
        let error = exploration(out.path(), "m", &only).unwrap_err();
        assert!(
            format!("{error:#}").contains("not a genre-v2 report"),
            "{error:#}"
        );
    }
}
