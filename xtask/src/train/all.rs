//! `cargo xtask train-all`: trains every family on one split, evaluates each exported model on
//! the held-out test clips through `eval` (ONNX Runtime, the plugin's code path), measures CPU
//! inference time, and writes `models/REPORT.md` next to the models.

use genrescope::inference::runtime::repository_dirs;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use genrescope::genres::Vocabulary;
use genrescope::inference::{ModelMetadata, Runtime};

use super::models::Family;
use super::{train, TrainOptions};
use crate::data::args::{DataArgs, Selected};
use crate::eval;
use crate::markdown;
use crate::model_report::Section;
use crate::musicnn::{finetune, transfer};
use crate::timing::{features_ms, inference_ms};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    /// Families to train (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub families: Vec<Family>,
    /// Folder for the evaluation reports (git-ignored); plots are also copied to
    /// `<out>/report/`.
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Skip the musicnn transfer model (`cargo xtask musicnn transfer` with its defaults on the
    /// same split; needs the exported musicnn weights, see `tools/musicnn/`).
    #[arg(long)]
    pub no_transfer: bool,
    /// Also fine-tune musicnn as a whole (`cargo xtask musicnn finetune` with its defaults; about
    /// an hour on two CPU cores). With `--resume`, a finished fine-tuning is re-exported only.
    #[arg(long)]
    pub finetune: bool,
    #[command(flatten)]
    pub options: TrainOptions,
}

const TRANSFER_RESEARCH: &str = "source 003 transferred ImageNet's MobileNetV2 (73–75.9 %, random split); musicnn (MSD) transfer is reported at 77.2 % on the artist-filtered GTZAN split";

/// What the research sources reported for each family, and how they measured it.
fn research(family: Family) -> &'static str {
    match family {
        Family::MfccCnn => "source 000: 69.67 % test accuracy (GTZAN, 10 genres, random split of 3-s segments: segments of one track on both sides)",
        Family::MfccLstm => "source 000: 75.89 % test accuracy (same leaky segment split)",
        Family::Crnn => "source 004: 0.76 accuracy (CNN 0.62, RNN 0.57; GTZAN, random 3:1:1 split, probably of segments)",
        Family::DescriptorMlp => "source 002: MLP alone ≈ 0.65 validation accuracy on features_30_sec.csv (GTZAN, random stratified 80/20 track split); hybrid with a mel-CNN: F1 0.80",
        Family::Mobilenet => "source 003: ImageNet-pretrained MobileNetV2 on spectrogram images, 73 % (75.9 % on full 30-s clips; GTZAN, random split)",
        Family::Hybrid => "source 002: mel-CNN + descriptor-MLP hybrid, F1 0.80 (GTZAN, random stratified 80/20 track split)",
    }
}

/// One model's part of `REPORT.md`, kept in `<out>/report/entries/<name>.json` so that a run of
/// some families updates their rows and keeps the others'.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    name: String,
    row: String,
    section: String,
    /// The `cargo xtask train-all` invocation that wrote the entry, and its split.
    command: String,
    split: String,
}

impl Entry {
    fn dir(out: &Path) -> PathBuf {
        out.join("report").join("entries")
    }

    fn path(out: &Path, name: &str) -> PathBuf {
        Self::dir(out).join(format!("{name}.json"))
    }

    /// Every stored entry, in family order, then the musicnn models, then by name. A file there
    /// that is not an entry is an error, not a silently missing row.
    fn all(out: &Path) -> anyhow::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for file in std::fs::read_dir(Self::dir(out))? {
            let path = file?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let entry = serde_json::from_str::<Entry>(&std::fs::read_to_string(&path)?)
                    .with_context(|| format!("{}: not a report entry", path.display()))?;
                entries.push(entry);
            }
        }
        let rank = |name: &str| {
            Family::ALL
                .iter()
                .position(|f| f.name() == name)
                .unwrap_or(Family::ALL.len())
        };
        entries.sort_by(|a, b| (rank(&a.name), &a.name).cmp(&(rank(&b.name), &b.name)));
        Ok(entries)
    }
}

/// Evaluates and describes each model of a run.
struct Report<'a> {
    command: String,
    split: String,
    runtime: &'a Runtime,
    args: &'a Args,
    test_list: &'a Path,
    plots: &'a Path,
}

impl Report<'_> {
    /// Evaluates `model` on the test clips, times it, and adds its row and section.
    fn add(
        &mut self,
        name: &str,
        model: &Path,
        research: &str,
        started: Instant,
    ) -> anyhow::Result<()> {
        let report_dir = self.args.reports.join(name);
        eval::run(eval::Args {
            model: model.to_owned(),
            data: self.args.data.source.clone(),
            list: Some(self.test_list.to_owned()),
            report: Some(report_dir.clone()),
            threads: None,
        })?;
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(report_dir.join("report.json"))?)?;
        let metadata = ModelMetadata::load(&ModelMetadata::path_for(model))?;
        let ms = inference_ms(self.runtime, model)?;
        let feature_ms = features_ms(&metadata)?;
        let size = std::fs::metadata(model)?.len() as f64 / 1e6;
        let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        let shape = metadata.input.shape();
        let row = markdown::row([
            name.to_owned(),
            format!(
                "{}×{} every {:.2} s",
                shape[0],
                shape[1],
                metadata.input.hop_seconds()
            ),
            metadata.training["parameters"].to_string(),
            format!("{size:.2}"),
            format!("{feature_ms:.2} + {ms:.2}"),
            format!(
                "{:.3} / {:.3}",
                f(&metadata.metrics["valid_clip_accuracy"]),
                f(&metadata.metrics["valid_clip_macro_f1"])
            ),
            format!(
                "**{:.3}** / **{:.3}** ({} clips)",
                f(&report["accuracy"]),
                f(&report["macro_f1"]),
                report["scored"]
            ),
            format!(
                "{:.2}: {:.3} → {:.3}",
                metadata.calibration.temperature,
                f(&metadata.metrics["calibration"]["fitted"]["ece_before"]),
                f(&metadata.metrics["calibration"]["fitted"]["ece_after"])
            ),
            format!("{:.3}", f(&report["ece"])),
            research.to_owned(),
        ]);
        for png in ["confusion.png", "training.png"] {
            let _ = std::fs::copy(
                report_dir.join(png),
                self.plots.join(format!("{name}-{png}")),
            );
        }
        let eval_md = std::fs::read_to_string(report_dir.join("report.md"))?;
        let body = eval_md
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with("!["))
            .collect::<Vec<_>>()
            .join("\n");
        let history = metadata.training["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let training_seconds: f64 = history.iter().filter_map(|e| e["seconds"].as_f64()).sum();
        let section = format!(
            "\n## {name}\n\nBy `{}`. Best epoch {} of {} ({:.1} min of training epochs; \
             {:.1} min including feature extraction, evaluation and timing). \
             Test-set evaluation by `cargo xtask eval`:\n{body}\n\n\
             ![{name} confusion](report/{name}-confusion.png) ![{name} training](report/{name}-training.png)\n",
            self.command,
            metadata.training["best_epoch"],
            history.len(),
            training_seconds / 60.0,
            started.elapsed().as_secs_f64() / 60.0
        );
        let entry = Entry {
            name: name.to_owned(),
            row,
            section,
            command: self.command.clone(),
            split: self.split.clone(),
        };
        std::fs::write(
            Entry::path(&self.args.options.out, name),
            serde_json::to_string_pretty(&entry)? + "\n",
        )?;
        Ok(())
    }
}

/// The classes of a run as REPORT.md names them: genre names, never dataset labels or ids.
fn class_names(classes: &[String]) -> String {
    Vocabulary::builtin().names(classes).join(", ")
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let selected = args.data.select()?;
    anyhow::ensure!(
        !selected.test.is_empty(),
        "train-all reports on held-out test clips: give --test-fraction (e.g. 0.15)"
    );
    let test_list = write_test_list(&args.reports, &selected)?;
    let runtime = Runtime::find(&repository_dirs())?;
    let plots = args.options.out.join("report");
    std::fs::create_dir_all(Entry::dir(&args.options.out))?;
    let command = format!(
        "cargo xtask train-all {}",
        std::env::args().skip(2).collect::<Vec<_>>().join(" ")
    );
    let mut report = Report {
        command: command.clone(),
        split: selected.description.clone(),
        runtime: &runtime,
        args: &args,
        test_list: &test_list,
        plots: &plots,
    };
    train_each(&args, &selected, &mut report)?;
    let entries = Entry::all(&args.options.out)?;
    let doc = document(&args, &selected, &command, &entries, started);
    std::fs::write(args.options.out.join("REPORT.md"), doc)?;
    println!(
        "wrote {} ({:.0} min)",
        args.options.out.join("REPORT.md").display(),
        started.elapsed().as_secs_f64() / 60.0
    );
    Ok(())
}

/// The test clips as a list file, for `eval --list` and for anyone re-running it.
fn write_test_list(reports: &Path, selected: &Selected) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(reports)?;
    let test_list = reports.join("test_clips.txt");
    let paths: Vec<String> = selected
        .test
        .iter()
        .map(|&i| selected.data.clips[i].path.display().to_string())
        .collect();
    std::fs::write(&test_list, paths.join("\n") + "\n")?;
    Ok(test_list)
}

/// Trains each asked-for family, then the musicnn transfer and fine-tuning unless left out,
/// and adds each model to `report`.
fn train_each(args: &Args, selected: &Selected, report: &mut Report) -> anyhow::Result<()> {
    let families = if args.families.is_empty() {
        Family::ALL.to_vec()
    } else {
        args.families.clone()
    };
    for &family in &families {
        let family_started = Instant::now();
        let name = family.name();
        let model = train(&args.data, selected, family, name, &args.options)?;
        report.add(name, &model, research(family), family_started)?;
    }
    let musicnn = transfer::Options {
        out: args.options.out.clone(),
        checkpoints: args.options.checkpoints.clone(),
        ..Default::default()
    };
    if !args.no_transfer {
        let started = Instant::now();
        let name = "musicnn-transfer";
        let model = transfer::transfer(&args.data, selected, name, &musicnn)?;
        report.add(name, &model, TRANSFER_RESEARCH, started)?;
    }
    if args.finetune {
        let started = Instant::now();
        let name = "musicnn-finetune";
        let tune = finetune::Tune {
            resume: args.options.resume,
            backend: args.options.backend,
            ..Default::default()
        };
        let model = finetune::finetune(&args.data, selected, name, &musicnn, &tune)?;
        report.add(name, &model, TRANSFER_RESEARCH, started)?;
    }
    Ok(())
}

/// `REPORT.md`: the other commands' sections, then the per-window models' protocol, table
/// (one row per stored entry) and sections.
fn document(
    args: &Args,
    selected: &Selected,
    command: &str,
    entries: &[Entry],
    started: Instant,
) -> String {
    let mut doc = String::from("# Model report\n\n");
    for section in Section::all() {
        doc += &section.text(&args.options.out);
    }
    doc += "## Per-window models (`train-all`, one artist-grouped split)\n\n";
    doc += &protocol(args, selected, command, entries, started);
    doc += &markdown::header([
        "model",
        "input (frames×values)",
        "parameters",
        "ONNX MB",
        "CPU ms/window (features + model)",
        "validation acc / macro-F1",
        "**test acc / macro-F1**",
        "T: valid window ECE",
        "test clip ECE",
        "research sources report",
    ]);
    for entry in entries {
        doc += &entry.row;
    }
    for entry in entries {
        doc += &entry.section;
    }
    doc
}

/// How the per-window models were trained, split and measured, as `REPORT.md` says it above
/// their table.
fn protocol(
    args: &Args,
    selected: &Selected,
    command: &str,
    entries: &[Entry],
    started: Instant,
) -> String {
    let mut doc = String::new();
    let _ = writeln!(
        doc,
        "Rebuilt by `{command}` on {} ({} CPU threads, backend {:?}; {:.0} min). Each model's \
         row comes from the last `train-all` run that included it; its section names that \
         command (with `--resume`, finished runs are only re-exported and re-evaluated).\n",
        args.data.source.display(),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        args.options.backend,
        started.elapsed().as_secs_f64() / 60.0
    );
    if let Some(other) = entries.iter().find(|e| e.split != selected.description) {
        let _ = writeln!(
            doc,
            "**Warning:** {} was judged on another split ({}).\n",
            other.name, other.split
        );
    }
    let _ = writeln!(
        doc,
        "Data: {} of {} clips in {} classes ({}). Split: {}. Train {} / validation {} / test {} clips; \
         no artist appears on two sides. Validation drives early stopping and the learning-rate \
         schedule; the **test** clips are used only by `eval`, once per model, at clip level \
         (mean of the window probabilities).\n",
        selected.data.clips.len(),
        selected.all,
        selected.classes.len(),
        class_names(&selected.classes),
        selected.description,
        selected.split.train.len(),
        selected.split.valid.len(),
        selected.test.len()
    );
    doc += "**Protocol difference from the research sources:** they report accuracy on random \
            splits of GTZAN (10 balanced classes, 100 tracks each, artists and often segments of \
            one track on both sides), which overstates accuracy. Here the classes, their balance \
            and the recording sources differ, and artists never straddle a split, so the \
            numbers are not directly comparable and are expected to be lower.\n\n";
    doc += "CPU ms/window = features + model on this machine, single thread: the feature time is \
            the shared feature code cutting all windows of 30 s of audio (median of 5 runs) \
            divided by the number of windows; the model time is the median of 200 \
            single-window ONNX Runtime inferences (batch 1, one thread).\n\n";
    doc += "Calibration: temperature scaling fitted on the validation windows (`T`: ECE of the \
            window probabilities before → after, 15 bins); the plugin and `eval` apply it. Test \
            ECE is of the calibrated clip distributions (mean window probability), as `eval` \
            reports them.\n\n";
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_md_names_the_classes_by_genre_name() {
        let classes = [
            "blues",
            "hiphop",
            "international",
            "pop-rock(allmusic)",
            "rnb",
        ]
        .map(String::from);
        assert_eq!(
            class_names(&classes),
            "Blues, Hip-Hop, World, Pop or Rock, R&B / Soul"
        );
    }

    #[test]
    fn entries_come_back_in_family_order_and_a_malformed_one_is_an_error() {
        let out = std::env::temp_dir().join(format!("genrescope-entries-{}", std::process::id()));
        std::fs::create_dir_all(Entry::dir(&out)).unwrap();
        for name in ["musicnn-transfer", "crnn", "mfcc-cnn"] {
            let entry = Entry {
                name: name.into(),
                row: format!("| {name} |\n"),
                section: String::new(),
                command: "cargo xtask train-all".into(),
                split: "seed 1".into(),
            };
            std::fs::write(
                Entry::path(&out, name),
                serde_json::to_string(&entry).unwrap(),
            )
            .unwrap();
        }
        let names: Vec<String> = Entry::all(&out)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["mfcc-cnn", "crnn", "musicnn-transfer"]);

        std::fs::write(Entry::path(&out, "broken"), "{\"name\": \"broken\"").unwrap();
        let error = format!("{:#}", Entry::all(&out).err().expect("a malformed entry"));
        assert!(error.contains("broken.json: not a report entry"), "{error}");
        std::fs::remove_dir_all(&out).unwrap();
    }
}
