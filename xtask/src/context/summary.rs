//! A cross-validation run as the reports and the model metadata carry it: each candidate's
//! figures as mean ± std over folds ([`summary`]) and the wider table a decision run keeps from
//! the run before it ([`Exploration`]). Below `export` and `report`, which both write them.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::cv;
use crate::metrics::mean_std;

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

#[cfg(test)]
mod tests {
    use super::*;

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
