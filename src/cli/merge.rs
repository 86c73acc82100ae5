//! `genrescope merge DIR...`: the `--out` journals of one or more runs or shards, combined
//! into one JSON or CSV document (as `analyze` prints it, files sorted by path).

use std::path::PathBuf;

use clap::Parser;

use super::batch::{latest_records, read_dir, Line};
use super::render::{render, FileReport, Output};
use super::{print_out, run_command, Format};

const EXAMPLES: &str = "\
Examples:
  genrescope merge runs/shard-*/ > catalog.json
  genrescope merge runs/a runs/b --format csv > catalog.csv

Each folder is an `--out` folder of `analyze` or `tag` (any number of shards each). For a file
recorded more than once, the latest record counts. Journals of different models are refused.";

/// Combines `--out` journals into one JSON or CSV document.
#[derive(Debug, Parser)]
#[command(name = "genrescope merge", after_help = EXAMPLES)]
pub struct MergeArgs {
    /// `--out` folders.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output on stdout.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// CSV: one row per window of the recorded timelines (runs with `--timeline`).
    #[arg(long)]
    pub timeline: bool,
}

/// Runs `merge` on already-split arguments; returns the exit code (0, or 2 on an error).
pub fn merge(args: impl IntoIterator<Item = String>) -> i32 {
    run_command::<MergeArgs>("merge", args, |args| {
        print_out(&merged(args)?)?;
        Ok(true)
    })
}

/// The merged document.
pub fn merged(args: &MergeArgs) -> Result<String, String> {
    let mut lines = Vec::new();
    for dir in &args.dirs {
        lines.extend(read_dir(dir)?);
    }
    let mut header = None;
    for line in &lines {
        if let Line::Run(run) = line {
            match &header {
                None => header = Some(run.clone()),
                Some(first) if first.model_id != run.model_id => {
                    return Err(format!(
                        "journals of different models: {} and {}",
                        first.model_id, run.model_id
                    ))
                }
                Some(_) => {}
            }
        }
    }
    let header = header.ok_or("no journal records in these folders")?;
    let mut records: Vec<_> = latest_records(lines).into_values().collect();
    records.sort_by(|a, b| a.path.cmp(&b.path));
    let reports: Vec<FileReport> = records.into_iter().map(|r| r.report).collect();
    let output = Output::new(header.model, &header.labels, reports);
    Ok(render(&output, args.format, args.timeline))
}
