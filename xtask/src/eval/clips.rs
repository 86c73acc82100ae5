//! The clips a run over labelled audio covers (`eval`, `embed`), and the worker pool that
//! processes them.

use std::path::Path;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::data::dataset::{Clip, Dataset};
use crate::data::split::ListIndex;

/// Every clip of `data` (a folder tree or labels table), or only those `list` names; at least
/// one. List entries without a clip are reported, not fatal.
pub(crate) fn select_clips(data: &Path, list: Option<&Path>) -> anyhow::Result<Vec<Clip>> {
    let dataset = Dataset::load(data)?;
    let clips: Vec<Clip> = match list {
        Some(list) => {
            let (found, missing) = ListIndex::new(&dataset.clips).read(list)?;
            if !missing.is_empty() {
                println!(
                    "{} list entries have no clip (first: {})",
                    missing.len(),
                    missing[0]
                );
            }
            found
                .into_iter()
                .map(|i| dataset.clips[i].clone())
                .collect()
        }
        None => dataset.clips,
    };
    anyhow::ensure!(!clips.is_empty(), "no clips in {}", data.display());
    Ok(clips)
}

/// `work` applied to every clip on `threads` workers (default: all cores), each with its own
/// state made by `init` (a model session, ...); results in clip order. A progress bar named
/// `label` counts the clips.
pub(crate) fn map_clips<S, T: Send>(
    clips: &[Clip],
    threads: Option<usize>,
    label: &str,
    init: impl Fn() -> anyhow::Result<S> + Sync,
    work: impl Fn(&mut S, &Clip) -> T + Sync,
) -> anyhow::Result<Vec<T>> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .clamp(1, clips.len().max(1));
    let bar = ProgressBar::new(clips.len() as u64).with_style(ProgressStyle::with_template(
        &format!("{label} {{bar:40}} {{pos}}/{{len}} clips, ETA {{eta}}"),
    )?);
    let results = Mutex::new(Vec::with_capacity(clips.len()));
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..threads)
            .map(|worker| {
                let (results, bar, init, work) = (&results, &bar, &init, &work);
                scope.spawn(move || -> anyhow::Result<()> {
                    let mut state = init()?;
                    for index in (worker..clips.len()).step_by(threads) {
                        let result = work(&mut state, &clips[index]);
                        results.lock().unwrap().push((index, result));
                        bar.inc(1);
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("worker panicked")?;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, result)| result).collect())
}
