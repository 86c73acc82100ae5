//! `cargo xtask dataset <folder|labels.tsv>`: what a training run would see — classes, clips
//! per class, groups, and the validation split — before any audio is decoded.

use std::path::PathBuf;

use genrescope::features::FeatureExtractor;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::args::{DataArgs, Selected};
use crate::data::prepare::{prepare, FeatureCache};
use crate::features::load_config;
use genrescope::inference::windows::frame_windows;
use genrescope::inference::ModelInput;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Also decode every clip and cut model windows for this feature preset or config file,
    /// reporting unusable files and windows per class.
    #[arg(long)]
    features: Option<String>,
    /// Window hop for `--features`, in frames; default: half a window.
    #[arg(long)]
    segment_hop: Option<usize>,
    /// Feature cache folder (git-ignored).
    #[arg(long, default_value = "cache/features")]
    cache: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let Selected {
        all,
        data,
        classes,
        split,
        ..
    } = args.data.select()?;
    let groups = |indices: &[usize]| {
        let mut g: Vec<&str> = indices
            .iter()
            .map(|&i| data.clips[i].group.as_str())
            .collect();
        g.sort_unstable();
        g.dedup();
        g.len()
    };
    println!(
        "{}: {} of {} clips in {} classes; train {} clips / {} groups, valid {} clips / {} groups",
        args.data.source.display(),
        data.clips.len(),
        all,
        classes.len(),
        split.train.len(),
        groups(&split.train),
        split.valid.len(),
        groups(&split.valid)
    );
    // Windows per clip, when features were asked for.
    let mut windows = vec![None; data.clips.len()];
    if let Some(features) = &args.features {
        let config = load_config(features)?;
        let hop = args.segment_hop.unwrap_or(config.frames / 2);
        let input = ModelInput::Frames {
            features: config.clone(),
            hop_frames: hop,
        };
        let cache = FeatureCache::new(&args.cache, &input)?;
        let bar = ProgressBar::new(data.clips.len() as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} clips, ETA {eta} {msg}")?,
        );
        let (prepared, skipped) = prepare(&data.clips, &input, &cache, |clip| {
            bar.set_message(clip.path.display().to_string());
            bar.inc(1);
        })?;
        bar.finish_and_clear();
        let extractor = FeatureExtractor::new(&config)?;
        for clip in &prepared {
            windows[clip.clip] = Some(frame_windows(&extractor, clip.frames.view(), hop).dim().0);
        }
        for skip in &skipped {
            println!("skipped {}: {}", skip.path.display(), skip.reason);
        }
        println!(
            "{} clips usable, {} skipped; windows of {} frames ({:.2} s) every {hop} frames",
            prepared.len(),
            skipped.len(),
            config.frames,
            config.window_seconds()
        );
    }

    println!(
        "{:<28} {:>6} {:>6} {:>11} {:>9} {:>9}",
        "class", "train", "valid", "multi-label", "win-train", "win-valid"
    );
    for class in &classes {
        let of_class = |indices: &[usize]| -> Vec<usize> {
            indices
                .iter()
                .copied()
                .filter(|&i| data.clips[i].primary_label() == class)
                .collect()
        };
        let (train, valid) = (of_class(&split.train), of_class(&split.valid));
        let window_count = |indices: &[usize]| -> String {
            match args.features {
                Some(_) => indices
                    .iter()
                    .filter_map(|&i| windows[i])
                    .sum::<usize>()
                    .to_string(),
                None => "-".into(),
            }
        };
        let multi = data
            .clips
            .iter()
            .filter(|c| c.primary_label() == class && c.labels.len() > 1)
            .count();
        println!(
            "{class:<28} {:>6} {:>6} {multi:>11} {:>9} {:>9}",
            train.len(),
            valid.len(),
            window_count(&train),
            window_count(&valid)
        );
    }
    Ok(())
}
