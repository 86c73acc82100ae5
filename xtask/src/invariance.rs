//! `cargo xtask invariance`: the same music as people have it (other sample rates, stereo,
//! other levels, lossy codecs) must get the same answer. Each clip is converted by ffmpeg into
//! every [`Condition`], each conversion is analysed by `genrescope analyze`'s own path
//! ([`FileAnalyzer`]), and its track distribution is compared with the unconverted clip's:
//! top-1 agreement, mean L1 distance of the distributions and accuracy per condition, against
//! the targets of each [`Group`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use genrescope::inference::runtime::repository_dirs;
use genrescope::inference::{FileAnalyzer, ModelChoice, ModelInput, Provider, Runtime};

use crate::data::dataset::Clip;
use crate::eval::clips::{map_clips, select_clips};
use crate::eval::model_label;
use crate::metrics::argmax;

#[derive(clap::Args)]
pub struct Args {
    /// A labels table (`../shared/music/labels.tsv`) or a `<label>/<file>` folder tree.
    pub data: PathBuf,
    /// `accurate`, `fast`, another built-in model, or a model `.onnx` file with its `.json`.
    #[arg(long, default_value = "accurate")]
    pub model: String,
    /// Only this many clips, spread evenly over the table (default: every clip).
    #[arg(long)]
    pub clips: Option<usize>,
    /// Only the first seconds of each clip (default: the whole clip).
    #[arg(long)]
    pub seconds: Option<f32>,
    /// The Markdown report.
    #[arg(long, default_value = "models/report/invariance.md")]
    pub out: PathBuf,
    /// Worker threads (default: all cores), each with its own single-threaded session.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Fail when a condition misses its group's targets.
    #[arg(long)]
    pub check: bool,
}

/// What a condition changes, and the targets its answers must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Rate,
    Channels,
    Level,
    Codec,
    /// Rates whose Nyquist frequency lies below the model's top mel band: the audio itself
    /// lacks part of what the model reads, so these are reported without a target.
    BandLimited,
}

impl Group {
    /// Minimum top-1 agreement and maximum mean L1 distance, if the group has targets.
    pub fn targets(self) -> Option<(f64, f64)> {
        match self {
            Group::Rate | Group::Channels | Group::Level => Some((0.98, 0.05)),
            Group::Codec => Some((0.95, 0.10)),
            Group::BandLimited => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Group::Rate => "rate",
            Group::Channels => "channels",
            Group::Level => "level",
            Group::Codec => "codec",
            Group::BandLimited => "band-limited rate",
        }
    }
}

/// The research corpus's Nyquist frequency (its clips are 22.05 kHz), in Hz.
const CORPUS_NYQUIST_HZ: f32 = 11_025.0;

/// One conversion of a clip.
#[derive(Debug, Clone)]
pub struct Condition {
    pub name: String,
    pub group: Group,
    /// ffmpeg's output options (filters, rate, codec).
    ffmpeg: Vec<String>,
    /// The output file's extension.
    extension: &'static str,
}

/// ffmpeg's SoX resampler to `rate` Hz at 28-bit precision with its passband to 97 % of the
/// Nyquist frequency: a reference conversion, so that what changes is the rate alone.
fn soxr(rate: u32) -> String {
    format!("aresample={rate}:resampler=soxr:precision=28:cutoff=0.97")
}

const FLOAT_WAV: [&str; 2] = ["-c:a", "pcm_f32le"];

impl Condition {
    fn new(
        name: String,
        group: Group,
        filter: &str,
        output: &[&str],
        extension: &'static str,
    ) -> Self {
        let mut ffmpeg = vec!["-af".to_owned(), filter.to_owned()];
        ffmpeg.extend(output.iter().map(|s| (*s).to_owned()));
        Self {
            name,
            group,
            ffmpeg,
            extension,
        }
    }

    /// Every condition of the suite for a model that reads up to `top_hz` (its top mel band):
    /// a rate whose Nyquist frequency lies below it, or below the research corpus's own
    /// (11 025 Hz: its clips are 22.05 kHz), removes audio the model reads, and is
    /// [`Group::BandLimited`].
    pub fn all(top_hz: f32) -> Vec<Condition> {
        let limit = top_hz.min(CORPUS_NYQUIST_HZ);
        let mut conditions = Vec::new();
        for rate in [
            8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000, 192_000,
            384_000,
        ] {
            let group = if (rate as f32) / 2.0 < limit {
                Group::BandLimited
            } else {
                Group::Rate
            };
            let name = format!("{} kHz mono WAV", f64::from(rate) / 1000.0);
            conditions.push(Self::new(name, group, &soxr(rate), &FLOAT_WAV, "wav"));
        }
        let at_44k = |filter: &str| format!("{},{filter}", soxr(44_100));
        let stereo = [
            ("dual-mono stereo", "pan=stereo|c0=c0|c1=c0"),
            ("stereo at -3 dB per channel", "pan=stereo|c0=0.7071*c0|c1=0.7071*c0"),
            // Left and right differ by a side signal (the clip 12 ms later at -6 dB) that the
            // channel mean cancels: a stereo image whose mono sum is the clip.
            (
                "stereo mix (mid + side)",
                "asplit[m][d];[d]adelay=delays=12:all=1,volume=0.5[s];[m][s]join=inputs=2:channel_layout=stereo,\
                 pan=stereo|c0=c0+c1|c1=c0-c1",
            ),
        ];
        for (name, pan) in stereo {
            let name = format!("44.1 kHz {name} WAV");
            conditions.push(Self::new(
                name,
                Group::Channels,
                &at_44k(pan),
                &FLOAT_WAV,
                "wav",
            ));
        }
        for gain_db in [-20, -6, 6, 20] {
            let filter = format!("volume={gain_db}dB");
            let name = format!("{gain_db:+} dB (float WAV, no clipping)");
            conditions.push(Self::new(name, Group::Level, &filter, &FLOAT_WAV, "wav"));
        }
        let dual_mono = at_44k("pan=stereo|c0=c0|c1=c0");
        let codecs: [(&str, &[&str], &str); 4] = [
            (
                "MP3 128 kb/s",
                &["-c:a", "libmp3lame", "-b:a", "128k"],
                "mp3",
            ),
            (
                "MP3 320 kb/s",
                &["-c:a", "libmp3lame", "-b:a", "320k"],
                "mp3",
            ),
            ("AAC 128 kb/s", &["-c:a", "aac", "-b:a", "128k"], "m4a"),
            (
                "FLAC 24-bit",
                &["-c:a", "flac", "-sample_fmt", "s32"],
                "flac",
            ),
        ];
        for (name, output, extension) in codecs {
            let name = format!("44.1 kHz stereo {name}");
            conditions.push(Self::new(name, Group::Codec, &dual_mono, output, extension));
        }
        conditions
    }

    /// Converts `source` into a file in `dir`.
    fn convert(&self, source: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
        let out = dir.join(format!("converted.{}", self.extension));
        ffmpeg(source, &self.ffmpeg, &out).with_context(|| self.name.clone())?;
        Ok(out)
    }
}

/// The first `seconds` of `source` as a float WAV in `dir`.
fn excerpt(source: &Path, dir: &Path, seconds: f32) -> anyhow::Result<PathBuf> {
    let out = dir.join("excerpt.wav");
    let options = ["-t", &seconds.to_string(), FLOAT_WAV[0], FLOAT_WAV[1]].map(String::from);
    ffmpeg(source, &options, &out)?;
    Ok(out)
}

/// `ffmpeg -i input <options> out`, quietly.
fn ffmpeg(input: &Path, options: &[String], out: &Path) -> anyhow::Result<()> {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-i"])
        .arg(input)
        .args(options)
        .arg(out)
        .status()
        .context("ffmpeg (Debian's ffmpeg package) makes the conversions")?;
    anyhow::ensure!(status.success(), "ffmpeg failed on {}", input.display());
    Ok(())
}

/// One clip's answers: the unconverted clip's distribution and each condition's.
struct ClipAnswers {
    /// The model's index of the clip's genre, for clips with exactly one genre it knows.
    truth: Option<usize>,
    original: Vec<f32>,
    converted: Vec<Vec<f32>>,
}

/// A condition's figures over every clip.
#[derive(Debug, Clone)]
pub struct Row {
    pub condition: String,
    pub group: Group,
    pub agreement: f64,
    pub mean_l1: f64,
    /// Single-genre accuracy of the converted clips, and of the unconverted ones.
    pub accuracy: f64,
    pub original_accuracy: f64,
}

impl Row {
    pub fn meets_targets(&self) -> bool {
        self.group
            .targets()
            .is_none_or(|(agreement, l1)| self.agreement >= agreement && self.mean_l1 <= l1)
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let clips = spread(select_clips(&args.data, None)?, args.clips);
    let choice = ModelChoice::parse(&args.model);
    let Outcome { rows, failed } = suite(&clips, &choice, args.seconds, args.threads)?;
    for failure in &failed {
        eprintln!("left out: {failure}");
    }
    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let used = clips.len() - failed.len();
    let top_hz = top_hz(&choice)?;
    let report = markdown(&rows, (&choice.name(), top_hz), used, &failed, &command);
    print!("{report}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &report)?;
    println!("report written to {}", args.out.display());
    let missed: Vec<&str> = rows
        .iter()
        .filter(|row| !row.meets_targets())
        .map(|row| row.condition.as_str())
        .collect();
    anyhow::ensure!(
        !args.check || (missed.is_empty() && failed.is_empty()),
        "below target: {}; clips left out: {}",
        missed.join(", "),
        failed.len()
    );
    Ok(())
}

/// `count` clips spread evenly over `clips` (all of them without a count).
fn spread(clips: Vec<Clip>, count: Option<usize>) -> Vec<Clip> {
    let Some(count) = count.filter(|&c| c > 0 && c < clips.len()) else {
        return clips;
    };
    (0..count)
        .map(|i| clips[i * clips.len() / count].clone())
        .collect()
}

/// What the suite measured: one row per condition, in [`Condition::all`]'s order, over the
/// clips that every conversion and analysis worked on; the others, with the reason.
pub struct Outcome {
    pub rows: Vec<Row>,
    pub failed: Vec<String>,
}

/// The highest frequency the model reads, in Hz: the top mel band (or the Nyquist frequency) of
/// whichever of its window graphs reads highest.
fn top_hz(choice: &ModelChoice) -> anyhow::Result<f32> {
    let metadata = choice.metadata()?;
    let tops = metadata.graph_inputs().into_iter().map(ModelInput::top_hz);
    Ok(tops.fold(0.0, f32::max))
}

/// Runs every condition on every clip.
pub fn suite(
    clips: &[Clip],
    choice: &ModelChoice,
    seconds: Option<f32>,
    threads: Option<usize>,
) -> anyhow::Result<Outcome> {
    let runtime = Runtime::find(&repository_dirs())?;
    let conditions = Condition::all(top_hz(choice)?);
    let scratch = tempfile::tempdir()?;
    let answers = map_clips(
        clips,
        threads,
        "invariance",
        || -> anyhow::Result<_> {
            let analyzer = FileAnalyzer::new(choice.load(&runtime, Provider::Cpu)?)?;
            let dir = tempfile::tempdir_in(scratch.path())?;
            Ok((analyzer, dir))
        },
        |(analyzer, dir), clip| -> anyhow::Result<ClipAnswers> {
            let source = match seconds {
                Some(seconds) => excerpt(&clip.path, dir.path(), seconds)?,
                None => clip.path.clone(),
            };
            let summary = |analyzer: &mut FileAnalyzer, path: &Path| {
                analyzer
                    .analyze(path)
                    .map(|analysis| analysis.summary)
                    .with_context(|| format!("{}", clip.path.display()))
            };
            let original = summary(analyzer, &source)?;
            let converted = conditions
                .iter()
                .map(|condition| {
                    let path = condition.convert(&source, dir.path())?;
                    summary(analyzer, &path)
                })
                .collect::<anyhow::Result<_>>()?;
            let truth = match clip.labels.as_slice() {
                [label] => model_label(&analyzer.model.metadata.labels, label),
                _ => None,
            };
            Ok(ClipAnswers {
                truth,
                original,
                converted,
            })
        },
    )?;
    let mut used = Vec::new();
    let mut failed = Vec::new();
    for (clip, answer) in clips.iter().zip(answers) {
        match answer {
            Ok(answer) => used.push(answer),
            Err(err) => failed.push(format!("{}: {err:#}", clip.path.display())),
        }
    }
    let rows = conditions
        .iter()
        .enumerate()
        .map(|(c, condition)| row(condition, &used, c))
        .collect();
    Ok(Outcome { rows, failed })
}

fn row(condition: &Condition, answers: &[ClipAnswers], c: usize) -> Row {
    let n = answers.len().max(1) as f64;
    let agreeing = answers
        .iter()
        .filter(|a| argmax(&a.converted[c]) == argmax(&a.original))
        .count();
    let l1: f64 = answers
        .iter()
        .map(|a| {
            a.converted[c]
                .iter()
                .zip(&a.original)
                .map(|(p, q)| f64::from((p - q).abs()))
                .sum::<f64>()
        })
        .sum();
    let labelled: Vec<&ClipAnswers> = answers.iter().filter(|a| a.truth.is_some()).collect();
    let accuracy = |answer: &dyn Fn(&ClipAnswers) -> &[f32]| {
        let right = labelled
            .iter()
            .filter(|a| a.truth == Some(argmax(answer(a))))
            .count();
        right as f64 / labelled.len().max(1) as f64
    };
    Row {
        condition: condition.name.clone(),
        group: condition.group,
        agreement: agreeing as f64 / n,
        mean_l1: l1 / n,
        accuracy: accuracy(&|a| &a.converted[c]),
        original_accuracy: accuracy(&|a| &a.original),
    }
}

/// The report: one table row per condition, with its group's targets and whether it meets
/// them.
fn markdown(
    rows: &[Row],
    (model, top_hz): (&str, f32),
    clips: usize,
    failed: &[String],
    command: &str,
) -> String {
    let mut out = String::new();
    let original = rows.first().map_or(0.0, |r| r.original_accuracy);
    let limit_khz = 2.0 * top_hz.min(CORPUS_NYQUIST_HZ) / 1000.0;
    let top_khz = top_hz / 1000.0;
    let _ = writeln!(
        out,
        "# Invariance: the same music, the same answer\n\n\
         By `cargo xtask {command}`: {clips} clips, model {model}. Each clip is converted by \
         ffmpeg (rates through the SoX resampler at 28-bit precision, passband to 97 % of \
         Nyquist), analysed by `genrescope analyze`'s own path, and its track distribution \
         compared with the unconverted clip's: *top-1 agrees* is the share of clips with the \
         same top genre, *mean L1* the mean sum of absolute differences of the genre \
         probabilities (0 to 2), *accuracy* the share of single-genre clips whose top genre is \
         their label (unconverted: {original:.3}; the shipped head was trained on these clips, \
         so this is not a cross-validated figure: see REPORT.md for those). Targets: top-1 \
         ≥ 0.98 and L1 ≤ 0.05 for rates, channels and levels; ≥ 0.95 and ≤ 0.10 for lossy \
         codecs; rates below {limit_khz} kHz remove audio the model reads (its bands reach \
         {top_khz} kHz, the corpus's clips 11.025 kHz) and have none.\n"
    );
    let _ = writeln!(
        out,
        "| group | condition | top-1 agrees | mean L1 | accuracy | target |\n|---|---|---|---|---|---|"
    );
    for row in rows {
        let target = match (row.group.targets(), row.meets_targets()) {
            (None, _) => "—".to_owned(),
            (Some((a, l)), met) => {
                format!(
                    "≥ {a:.2}, ≤ {l:.2}: {}",
                    if met { "met" } else { "**missed**" }
                )
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.3} | {:.3} | {:.3} | {target} |",
            row.group.name(),
            row.condition,
            row.agreement,
            row.mean_l1,
            row.accuracy
        );
    }
    if !failed.is_empty() {
        let _ = writeln!(out, "\nLeft out ({}):\n", failed.len());
        for failure in failed {
            let _ = writeln!(out, "- {failure}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::Dataset;

    /// The suite's short version (what CI runs): a few corpus clips of different genres, 12 s
    /// each, through every condition, against the targets.
    #[test]
    fn a_few_corpus_clips_keep_their_answer_in_every_condition() {
        let table = genrescope::research::music_dir().join("labels.tsv");
        let dataset = Dataset::load(&table).unwrap();
        let clips: Vec<Clip> = [
            "gtzan/blues/blues.00000.ogg",
            "emotify/electronic/emotify_202.ogg",
            "gtzan/classical/classical.00000.ogg",
        ]
        .iter()
        .map(|path| {
            let path = table.parent().unwrap().join(path);
            dataset
                .clips
                .iter()
                .find(|c| c.path == path)
                .unwrap()
                .clone()
        })
        .collect();
        let outcome = suite(&clips, &ModelChoice::Builtin, Some(12.0), None).unwrap();
        assert_eq!(outcome.failed, Vec::<String>::new());
        assert_eq!(outcome.rows.len(), Condition::all(8_000.0).len());
        for row in outcome.rows {
            assert!(row.meets_targets(), "{row:?}");
        }
    }

    #[test]
    fn spreading_keeps_the_order_and_the_count() {
        let clip = |i: usize| Clip {
            path: PathBuf::from(format!("{i}.ogg")),
            labels: vec!["rock".into()],
            group: String::new(),
            licence: None,
        };
        let clips: Vec<Clip> = (0..10).map(clip).collect();
        let picked = spread(clips.clone(), Some(3));
        let names: Vec<_> = picked.iter().map(|c| c.path.clone()).collect();
        assert_eq!(names, [clip(0).path, clip(3).path, clip(6).path]);
        assert_eq!(spread(clips.clone(), None), clips);
        assert_eq!(spread(clips.clone(), Some(50)), clips);
    }
}
