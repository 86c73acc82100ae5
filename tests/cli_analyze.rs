//! `genrescope analyze` as a user runs it: folders, bad files in a batch, output formats, and
//! an unusable model.

mod harness;
mod odd_audio;

use std::process::{Command, Output};

fn genrescope(args: &[&std::ffi::OsStr]) -> Output {
    harness::provide_onnx_runtime();
    Command::new(env!("CARGO_BIN_EXE_genrescope"))
        .arg("analyze")
        .args(args)
        .output()
        .expect("run genrescope analyze")
}

/// A folder with one real clip, one junk file and one clip shorter than a model window,
/// removed when the test ends (also when it fails).
fn batch_folder() -> tempfile::TempDir {
    let temporary = tempfile::Builder::new()
        .prefix("genrescope-cli-")
        .tempdir()
        .unwrap();
    let dir = temporary.path();
    let nested = dir.join("nested");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::copy(
        harness::shared_music().join("gtzan/jazz/jazz.00000.ogg"),
        nested.join("a-jazz.ogg"),
    )
    .unwrap();
    std::fs::write(dir.join("b-junk.wav"), b"RIFF not really").unwrap();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut short = hound::WavWriter::create(dir.join("c-short.wav"), spec).unwrap();
    for i in 0..44_100 {
        short.write_sample((i % 100) as i16 * 50).unwrap();
    }
    short.finalize().unwrap();
    std::fs::write(dir.join("notes.txt"), b"not audio, not listed").unwrap();
    temporary
}

#[test]
fn a_batch_reports_every_file_and_bad_files_do_not_stop_it() {
    let temporary = batch_folder();
    let dir = temporary.path();
    let output = genrescope(&[dir.as_os_str(), "--json".as_ref(), "--timeline".as_ref()]);
    assert_eq!(output.status.code(), Some(1), "some files failed");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{json}");

    // Sorted by path: dir/b-junk.wav, dir/c-short.wav, dir/nested/a-jazz.ogg.
    let good = &files[2];
    assert!(good["file"]
        .as_str()
        .unwrap()
        .ends_with("nested/a-jazz.ogg"));
    let genres = good["tags"]["genres"].as_array().unwrap();
    assert_eq!(genres.len(), json["labels"].as_array().unwrap().len());
    let total: f64 = genres
        .iter()
        .map(|g| g["probability"].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-3, "{total}");
    // People read genre names; programs get the stable id and the model's label beside them.
    let names = strings(&json["names"]);
    let ids = strings(&json["ids"]);
    let labels = strings(&json["labels"]);
    let vocabulary = genrescope::genres::Vocabulary::builtin();
    assert_eq!(names, vocabulary.names(&labels));
    assert!(names.contains(&"Hip-Hop".to_owned()), "{names:?}");
    assert!(ids.contains(&"hip-hop".to_owned()), "{ids:?}");
    for genre in genres {
        let label = genre["label"].as_str().unwrap();
        let i = labels.iter().position(|l| l == label).unwrap();
        assert_eq!(genre["genre"], names[i].as_str(), "{genre}");
        assert_eq!(genre["id"], ids[i].as_str(), "{genre}");
    }
    let timeline = good["timeline"].as_array().unwrap();
    assert_eq!(
        timeline.len() as u64,
        good["tags"]["windows"].as_u64().unwrap()
    );
    for window in timeline {
        let top = labels.iter().position(|l| *l == window["top"]).unwrap();
        assert_eq!(window["top_genre"], names[top].as_str(), "{window}");
        assert_eq!(window["top_id"], ids[top].as_str(), "{window}");
    }
    let hop = timeline[1]["start_s"].as_f64().unwrap();
    let expected = genrescope::inference::ModelChoice::Fast
        .metadata()
        .unwrap()
        .input
        .hop_seconds();
    assert!((hop - f64::from(expected)).abs() < 1e-4, "{hop}");

    assert!(
        files[0]["error"].as_str().unwrap().len() > 5,
        "{}",
        files[0]
    );
    assert!(
        files[1]["error"].as_str().unwrap().contains("too short"),
        "{}",
        files[1]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("b-junk.wav: error"), "{stderr}");

    let csv = genrescope(&[dir.as_os_str(), "--csv".as_ref()]);
    let text = String::from_utf8(csv.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("source,model,rank,genre,probability,id,error,mood,mood_id,audioset_styles,instruments,voices")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows.len(),
        genres.len() + 2,
        "one row per genre of the good file, one per failed file"
    );
    let (good, failed): (Vec<_>, Vec<_>) = rows.iter().partition(|row| row[6].is_empty());
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed
        .iter()
        .all(|row| row[2..6].iter().all(|f| f.is_empty())));
    for row in &good {
        let i = ids.iter().position(|id| id == row[5]).unwrap();
        assert_eq!(row[3], names[i], "{row:?}");
    }

    // Text: names only, never a model label that reads otherwise (`hiphop`, `rnb`, ...).
    let plain = genrescope(&[dir.as_os_str(), "--timeline".as_ref()]);
    let text = String::from_utf8(plain.stdout).unwrap();
    let good = text.lines().find(|l| l.contains("a-jazz.ogg")).unwrap();
    let top = good.split(": ").nth(1).unwrap().split(" (").next().unwrap();
    assert!(names.iter().any(|n| n == top), "{good}");
    for (label, name) in labels.iter().zip(&names) {
        if !label.eq_ignore_ascii_case(name) {
            assert!(!text.contains(label.as_str()), "{label} in {text}");
        }
    }
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap()
}

#[test]
fn an_unusable_model_is_one_clear_error() {
    let output = genrescope(&[
        "--model".as_ref(),
        "/nonexistent/model.onnx".as_ref(),
        "x.ogg".as_ref(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/nonexistent/model.onnx not found"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

/// The mood model beside the genre model (`--mood-model`, here the shipped `models/mood.onnx`)
/// adds a `mood` to every analysed file and leaves the genres as they were; a mood model that
/// cannot be loaded leaves the genres as they were, with a note.
#[test]
fn a_mood_model_beside_the_genre_model_adds_a_mood_and_a_missing_one_a_note() {
    let clip = harness::shared_music().join("gtzan/jazz/jazz.00000.ogg");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mood.onnx");
    let run = |mood: &std::path::Path| {
        let output = genrescope(&[
            clip.as_os_str(),
            "--json".as_ref(),
            "--mood-model".as_ref(),
            mood.as_os_str(),
        ]);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        (json, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (with, _) = run(&shipped);
    let (without, note) = run(std::path::Path::new("/nonexistent/mood.onnx"));
    assert!(
        note.contains("genres only") && note.contains("/nonexistent/mood.onnx"),
        "{note}"
    );
    let (file, genre_only) = (&with["files"][0], &without["files"][0]);
    assert!(genre_only.get("mood").is_none(), "{genre_only}");
    assert_eq!(file["tags"]["genres"], genre_only["tags"]["genres"]);
    // The four quadrants in their order, by id and name, summing to 1; `top` the likeliest.
    let quadrants = file["mood"]["quadrants"].as_array().unwrap();
    for (quadrant, mood) in quadrants.iter().zip(genrescope::moods::MOODS) {
        assert_eq!(
            (quadrant["id"].as_str(), quadrant["name"].as_str()),
            (Some(mood.id), Some(mood.name))
        );
    }
    assert_eq!(quadrants.len(), 4);
    let total: f64 = quadrants
        .iter()
        .map(|q| q["probability"].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-3, "{total}");
    let top = quadrants
        .iter()
        .max_by(|a, b| {
            a["probability"]
                .as_f64()
                .partial_cmp(&b["probability"].as_f64())
                .unwrap()
        })
        .unwrap();
    assert_eq!(file["mood"]["top"], top["id"]);
    assert_eq!(file["mood"]["name"], top["name"]);
    // What AudioSet heard comes from the shipped vocabulary, each at most 3, most likely first.
    let sounds = genrescope::audioset::Sounds::builtin();
    for key in ["audioset_styles", "instruments", "voices"] {
        let heard = file[key].as_array().map_or(&[][..], Vec::as_slice);
        assert!(heard.len() <= 3, "{key}: {heard:?}");
        for sound in heard {
            let class = sounds
                .classes
                .iter()
                .find(|c| c.audioset == sound["audioset"]);
            assert_eq!(
                class.map(|c| c.name.as_str()),
                sound["name"].as_str(),
                "{sound}"
            );
        }
    }
}

#[test]
fn odd_files_are_analysed_in_full_or_reported_by_name() {
    let temporary = tempfile::Builder::new()
        .prefix("genrescope-cli-odd-")
        .tempdir()
        .unwrap();
    let dir = temporary.path();
    let files = odd_audio::write_odd_files(dir);
    // The small model: this test is about the files, and the 11-minute one is 440 windows.
    let output = genrescope(&[
        dir.as_os_str(),
        "--json".as_ref(),
        "--model".as_ref(),
        "mfcc-cnn".as_ref(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "some files fail, none panics"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let reports = json["files"].as_array().unwrap();
    assert_eq!(reports.len(), files.len(), "{json}");
    let input = genrescope::inference::ModelChoice::MfccCnn
        .metadata()
        .unwrap()
        .input;
    let (window, hop) = (input.window_seconds(), input.hop_seconds());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for file in &files {
        let report = reports
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(file.name))
            .unwrap_or_else(|| panic!("no report for {}", file.name));
        match file.outcome {
            odd_audio::Outcome::Analysed { seconds } => {
                let tags = &report["tags"];
                let decoded = tags["seconds"]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{report}"));
                assert!((decoded - seconds).abs() < 1e-3, "{report}");
                let windows = tags["windows"].as_u64().unwrap() as f64;
                let expected = ((seconds - f64::from(window)) / f64::from(hop)).floor() + 1.0;
                assert!((windows - expected).abs() <= 1.0, "{report}");
            }
            odd_audio::Outcome::Skipped(reason) => {
                let error = report["error"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{report}"));
                assert!(error.contains(reason), "{report}");
                assert!(
                    stderr.contains(&format!("{}: error", file.name)),
                    "{stderr}"
                );
            }
        }
    }
}

/// `genrescope --help` (and `-h`, `help`) lists every command, one line each, before the
/// standalone app's options; `analyze --help` ends with examples.
#[test]
fn help_lists_the_commands_and_each_command_help_has_examples() {
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_genrescope"))
            .args(args)
            .output()
            .expect("run genrescope");
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    for flag in ["--help", "-h", "help"] {
        let help = run(&[flag]);
        for command in ["analyze", "tag", "merge"] {
            let line = help
                .lines()
                .find(|line| line.trim_start().starts_with(&format!("{command} ")))
                .unwrap_or_else(|| panic!("`{flag}` does not list {command}:\n{help}"));
            assert!(
                line.contains(&format!("genrescope {command} --help")),
                "{line}"
            );
        }
        assert!(
            help.contains("--backend"),
            "`{flag}`: no standalone options:\n{help}"
        );
    }
    for args in [&["analyze", "--help"][..], &["help", "analyze"]] {
        let help = run(args);
        assert!(help.contains("Examples:"), "{args:?}:\n{help}");
        assert!(
            help.contains("genrescope analyze songs/ --format csv"),
            "{help}"
        );
        assert!(!help.contains("--json"), "hidden alias shown:\n{help}");
    }
    for (args, example) in [
        (["tag", "--help"], "genrescope tag music/ --dry-run"),
        (["merge", "--help"], "genrescope merge runs/"),
    ] {
        let help = run(&args);
        assert!(help.contains("Examples:"), "{args:?}:\n{help}");
        assert!(help.contains(example), "{help}");
    }
}
