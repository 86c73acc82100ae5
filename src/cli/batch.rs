//! Large batches: the `--out DIR` journal that makes `analyze` and `tag` resumable, and
//! `--shard K/N`, which splits a catalog between independent workers.
//!
//! A journal is a folder of JSON-lines files, one per shard (`journal.jsonl`, or
//! `shard-K-of-N.jsonl`). Each run appends a [`Line::Run`] header (model and labels), then one
//! [`Line::File`] record per file as soon as the file is done, and fsyncs at least every
//! [`SYNC_EVERY`]. A process killed at any point loses at most the records of the last
//! [`SYNC_EVERY`] and leaves at most one partial last line, which readers skip. A re-run with
//! the same folder skips every file whose record still matches its [`Fingerprint`] and model;
//! records with an error are retried.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::render::FileReport;
use super::Input;

/// Longest time a finished record may wait in the page cache before an fsync.
pub const SYNC_EVERY: Duration = Duration::from_secs(2);

/// `--shard K/N`: the K-th of N disjoint subsets (1 ≤ K ≤ N) that together cover the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `K/N`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let usage = || format!("--shard wants K/N with 1 <= K <= N (e.g. 2/8), not {text:?}");
        let (k, n) = text.split_once('/').ok_or_else(usage)?;
        let index: usize = k.trim().parse().map_err(|_| usage())?;
        let count: usize = n.trim().parse().map_err(|_| usage())?;
        if index == 0 || index > count {
            return Err(usage());
        }
        Ok(Self { index, count })
    }

    /// This shard's files. Every file gets a stable 64-bit hash of its relative path
    /// ([`Input::relative`], so the split does not depend on where the catalog is mounted);
    /// files sorted by (hash, relative path) are dealt out in turn, so shard sizes differ by
    /// at most one and every worker that lists the same catalog computes the same split.
    pub fn select(self, files: Vec<Input>) -> Vec<Input> {
        let mut keyed: Vec<(u64, Input)> = files
            .into_iter()
            .map(|input| (stable_hash(&input.relative), input))
            .collect();
        keyed.sort_by(|a, b| (a.0, &a.1.relative).cmp(&(b.0, &b.1.relative)));
        let mut chosen: Vec<Input> = keyed
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index - 1)
            .map(|(_, (_, input))| input)
            .collect();
        chosen.sort_by(|a, b| a.path.cmp(&b.path));
        chosen
    }

    /// The journal file of this shard.
    fn journal_name(shard: Option<Self>) -> String {
        match shard {
            Some(s) => format!("shard-{}-of-{}.jsonl", s.index, s.count),
            None => "journal.jsonl".to_owned(),
        }
    }
}

/// The first 8 bytes of the SHA-256 of `text`, big-endian: the same on every platform and
/// release (unlike `std`'s hasher).
pub fn stable_hash(text: &str) -> u64 {
    let digest = Sha256::digest(text.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// What identifies a file's content for the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// In bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: u128,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
}

impl Fingerprint {
    /// The file's size and modification time, and the SHA-256 of its bytes (the whole file is
    /// read once: SHA-256 runs at a few hundred MB/s per core, small beside the analysis).
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        Ok(Self {
            size: meta.len(),
            mtime_ns: meta
                .modified()?
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            sha256: format!("{:x}", hasher.finalize()),
        })
    }
}

/// A run's header: which model wrote the records after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    /// The command (`analyze` or `tag`).
    pub command: String,
    pub model: String,
    /// `name@hash` (see [`super::Engine::model_id`]).
    pub model_id: String,
    /// The model's labels, in the order of a timeline's probabilities.
    pub labels: Vec<String>,
}

/// One finished file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The path as processed (what `analyze` prints as `file`).
    pub path: String,
    /// Relative to the folder named on the command line (what `--shard` hashes).
    pub relative: String,
    /// The file when its record was written (for `tag`: after writing its tags); `None` when
    /// the file could not be read.
    pub fingerprint: Option<Fingerprint>,
    pub model_id: String,
    /// The analysis, or the error.
    pub report: FileReport,
    /// What `tag` did to the file (`tag` records only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<serde_json::Value>,
}

impl Record {
    /// Whether the file failed (analysis or tagging): such records are retried.
    pub fn failed(&self) -> bool {
        self.report.error.is_some()
            || self.fingerprint.is_none()
            || self
                .tag
                .as_ref()
                .is_some_and(|t| t.get("error").is_some_and(|e| !e.is_null()))
    }
}

/// A journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    Run(RunHeader),
    File(Box<Record>),
}

/// Every journal line in `dir`'s `*.jsonl` files, file by file in name order. Lines that do
/// not parse (the partial last line of a killed run) are skipped.
pub fn read_dir(dir: &Path) -> Result<Vec<Line>, String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    names.sort();
    let mut lines = Vec::new();
    for name in names {
        let file = File::open(&name).map_err(|e| format!("{}: {e}", name.display()))?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| format!("{}: {e}", name.display()))?;
            if let Ok(parsed) = serde_json::from_str::<Line>(&line) {
                lines.push(parsed);
            }
        }
    }
    Ok(lines)
}

/// The latest record of each path among `lines`.
pub fn latest_records(lines: Vec<Line>) -> HashMap<String, Record> {
    let mut records = HashMap::new();
    for line in lines {
        if let Line::File(record) = line {
            records.insert(record.path.clone(), *record);
        }
    }
    records
}

/// The records of earlier runs in a journal folder (every shard's), latest per path. Shared
/// read-only by the worker threads, which check their files against it.
#[derive(Debug, Default)]
pub struct Previous(HashMap<String, Record>);

impl Previous {
    /// The earlier record of `input` if it still describes the file: not failed, same model
    /// and same fingerprint (`current`).
    pub fn matching(
        &self,
        input: &Input,
        current: &Fingerprint,
        model_id: &str,
    ) -> Option<&Record> {
        let record = self.0.get(&input.path.display().to_string())?;
        (!record.failed()
            && record.model_id == model_id
            && record.fingerprint.as_ref() == Some(current))
        .then_some(record)
    }
}

/// This shard's journal file, open for appending.
pub struct Journal {
    file: File,
    path: PathBuf,
    last_sync: Instant,
    unsynced: bool,
}

/// A run's journal, if it has one (`--out`): records go in as files finish, and the first write
/// error is kept until the batch is done, so one failed write never stops the analysis.
pub struct JournalSink {
    journal: Option<Journal>,
    error: Option<String>,
}

impl JournalSink {
    pub fn new(journal: Option<Journal>) -> Self {
        Self {
            journal,
            error: None,
        }
    }

    /// Whether there is a journal (records are worth building).
    pub fn is_open(&self) -> bool {
        self.journal.is_some()
    }

    /// Appends the record `record` builds, when there is a journal.
    pub fn append(&mut self, record: impl FnOnce() -> Record) {
        if let Some(journal) = &mut self.journal {
            if let Err(e) = journal.append(record()) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Syncs the journal; the first write error, if any, is the result.
    pub fn close(self) -> Result<(), String> {
        if let Some(journal) = self.journal {
            journal.finish()?;
        }
        match self.error {
            Some(e) => Err(format!("journal: {e}")),
            None => Ok(()),
        }
    }
}

impl Journal {
    /// Creates `dir` if needed, reads every earlier record in it and appends `header` to this
    /// shard's file.
    pub fn open(
        dir: &Path,
        shard: Option<Shard>,
        header: RunHeader,
    ) -> Result<(Self, Previous), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("--out {}: {e}", dir.display()))?;
        let previous = Previous(latest_records(read_dir(dir)?));
        let path = dir.join(Shard::journal_name(shard));
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let shown = path.display().to_string();
        let error = |e: std::io::Error| format!("{shown}: {e}");
        // A killed run may have left a partial last line: start on a fresh line.
        let len = file.metadata().map_err(error)?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1)).map_err(error)?;
            file.read_exact(&mut last).map_err(error)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(error)?;
            }
        }
        let mut journal = Self {
            file,
            path,
            last_sync: Instant::now(),
            unsynced: false,
        };
        journal.write(&Line::Run(header)).map_err(error)?;
        journal.sync().map_err(error)?;
        Ok((journal, previous))
    }

    /// Appends a record; fsyncs when the last fsync is [`SYNC_EVERY`] old.
    pub fn append(&mut self, record: Record) -> Result<(), String> {
        let shown = self.path.display().to_string();
        let error = |e: std::io::Error| format!("{shown}: {e}");
        self.write(&Line::File(Box::new(record))).map_err(error)?;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync().map_err(error)?;
        }
        Ok(())
    }

    /// Flushes what is left to disk.
    pub fn finish(mut self) -> Result<(), String> {
        self.sync()
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    fn write(&mut self, line: &Line) -> std::io::Result<()> {
        let mut text = serde_json::to_string(line).expect("journal lines serialise");
        text.push('\n');
        // One write per line: a kill leaves whole lines, or a partial last one.
        self.file.write_all(text.as_bytes())?;
        self.unsynced = true;
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
        }
        self.last_sync = Instant::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(n: usize) -> Vec<Input> {
        (0..n)
            .map(|i| Input {
                path: PathBuf::from(format!("/music/{i:03}.flac")),
                relative: format!("{i:03}.flac"),
            })
            .collect()
    }

    #[test]
    fn shards_are_disjoint_balanced_and_cover_everything() {
        let files = inputs(103);
        let mut seen = Vec::new();
        for k in 1..=4 {
            let shard = Shard::parse(&format!("{k}/4")).unwrap();
            let chosen = shard.select(files.clone());
            assert!((25..=26).contains(&chosen.len()), "{}", chosen.len());
            // Deterministic: the same split every time.
            assert_eq!(chosen, shard.select(files.clone()));
            seen.extend(chosen.into_iter().map(|f| f.relative));
        }
        seen.sort();
        let mut all: Vec<String> = files.into_iter().map(|f| f.relative).collect();
        all.sort();
        assert_eq!(seen, all, "every file exactly once");
    }

    #[test]
    fn the_split_depends_on_the_relative_path_only() {
        let here = inputs(20);
        let elsewhere: Vec<Input> = here
            .iter()
            .map(|f| Input {
                path: PathBuf::from("/mnt/other").join(&f.relative),
                relative: f.relative.clone(),
            })
            .collect();
        let shard = Shard::parse("2/3").unwrap();
        let names = |files: Vec<Input>| -> Vec<String> {
            shard
                .select(files)
                .into_iter()
                .map(|f| f.relative)
                .collect()
        };
        assert_eq!(names(here), names(elsewhere));
        // A pinned value: the hash must never change between releases.
        assert_eq!(stable_hash("a/b.flac"), 17_393_479_448_681_053_083);
        assert_ne!(stable_hash("a/b.flac"), stable_hash("a/c.flac"));
    }

    #[test]
    fn bad_shards_are_refused() {
        for bad in ["0/4", "5/4", "4", "a/b", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::parse("4/4").unwrap(), Shard { index: 4, count: 4 });
    }

    #[test]
    fn a_partial_last_line_is_skipped_and_the_next_run_starts_a_fresh_line() {
        let dir = std::env::temp_dir().join(format!("genrescope-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let header = RunHeader {
            command: "analyze".into(),
            model: "m".into(),
            model_id: "m@0".into(),
            labels: vec!["jazz".into()],
        };
        let record = |path: &str| Record {
            path: path.into(),
            relative: path.into(),
            fingerprint: Some(Fingerprint {
                size: 1,
                mtime_ns: 2,
                sha256: "00".into(),
            }),
            model_id: "m@0".into(),
            report: FileReport {
                file: path.into(),
                ..FileReport::default()
            },
            tag: None,
        };
        let (mut journal, _) = Journal::open(&dir, None, header.clone()).unwrap();
        journal.append(record("a")).unwrap();
        journal.finish().unwrap();
        // A kill in the middle of a line.
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.join("journal.jsonl"))
            .unwrap();
        file.write_all(b"{\"file\":{\"path\":\"b\",").unwrap();
        let (mut journal, previous) = Journal::open(&dir, None, header).unwrap();
        let input = Input {
            path: "a".into(),
            relative: "a".into(),
        };
        let fingerprint = record("a").fingerprint.unwrap();
        assert!(previous.matching(&input, &fingerprint, "m@0").is_some());
        assert!(
            previous.matching(&input, &fingerprint, "m@1").is_none(),
            "other model"
        );
        let changed = Fingerprint {
            sha256: "01".into(),
            ..fingerprint
        };
        assert!(
            previous.matching(&input, &changed, "m@0").is_none(),
            "changed file"
        );
        journal.append(record("c")).unwrap();
        journal.finish().unwrap();
        let records = latest_records(read_dir(&dir).unwrap());
        let mut paths: Vec<&String> = records.keys().collect();
        paths.sort();
        assert_eq!(paths, ["a", "c"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
