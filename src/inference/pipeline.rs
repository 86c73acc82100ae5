//! Whole-file analysis of many files on one model session, with the file preparation (decoding,
//! resampling, features, window cutting) on a helper thread: while the model runs one file's
//! windows, the next file is being prepared. It pays where a thread's core would otherwise wait
//! (a small model on fewer threads than cores: 1.1–2.0× in the analysis bench) and is neutral
//! with one thread per core, which is what `analyze` runs, so `analyze` keeps one file per step.

use std::path::Path;
use std::sync::mpsc;

use super::clip::{classify, file_windows, ClipAnalysis};
use super::model::GenreModel;
use super::windows::WindowCutter;
use crate::Error;

/// Prepared files waiting for the model. With the one the helper is preparing and the one the
/// model is running, at most three files' windows are held at once (a 30-s file's musicnn
/// windows are ~0.7 MB).
const PREPARED_AHEAD: usize = 1;

/// Analyses `files` (each with the index it is reported under) through `model`, calling `done`
/// with each outcome, in the order of `files`, as soon as it is known. Each outcome equals
/// [`super::analyze_file`]'s for the same file (a model that reads one window graph).
pub fn analyze_files<'a>(
    model: &mut GenreModel,
    cutter: &WindowCutter,
    files: impl IntoIterator<Item = (usize, &'a Path)> + Send,
    mut done: impl FnMut(usize, Result<ClipAnalysis, Error>),
) {
    std::thread::scope(|scope| {
        let (sender, prepared) = mpsc::sync_channel(PREPARED_AHEAD);
        std::thread::Builder::new()
            .name("genrescope-prepare".into())
            .spawn_scoped(scope, move || {
                for (index, path) in files {
                    // The receiver only hangs up when the model side panicked.
                    if sender.send((index, file_windows(cutter, path))).is_err() {
                        break;
                    }
                }
            })
            .expect("a thread can be started");
        for (index, cut) in prepared {
            done(index, cut.and_then(|cut| classify(model, cut)));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::{analyze_file, ModelChoice, Provider};
    use std::path::PathBuf;

    #[test]
    fn outcomes_arrive_in_order_and_equal_analyze_file() {
        let runtime = crate::inference::runtime::for_tests();
        let mut model = ModelChoice::MfccCnn.load(&runtime, Provider::Cpu).unwrap();
        let cutter = WindowCutter::new(&model.metadata.input).unwrap();
        let music = crate::research::music_dir().join("gtzan");
        let files: Vec<PathBuf> = vec![
            music.join("blues/blues.00000.ogg"),
            music.join("no/such/file.ogg"),
            music.join("hiphop/hiphop.00001.ogg"),
            music.join("classical/classical.00000.ogg"),
        ];
        let mut outcomes = Vec::new();
        analyze_files(
            &mut model,
            &cutter,
            files.iter().enumerate().map(|(i, p)| (i + 10, p.as_path())),
            |index, outcome| outcomes.push((index, outcome)),
        );
        assert_eq!(
            outcomes.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [10, 11, 12, 13]
        );
        for ((_, outcome), path) in outcomes.into_iter().zip(&files) {
            let alone = analyze_file(&mut model, &cutter, path);
            match (outcome, alone) {
                (Ok(piped), Ok(alone)) => {
                    assert_eq!(piped.summary, alone.summary, "{}", path.display());
                    assert_eq!(piped.answers, alone.answers);
                }
                (Err(piped), Err(alone)) => assert_eq!(piped, alone),
                (piped, alone) => panic!("{}: {piped:?} vs {alone:?}", path.display()),
            }
        }
    }
}
