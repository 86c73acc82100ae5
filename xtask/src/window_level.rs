//! `cargo xtask window-level`: the level of the research corpus's windows as a network's
//! front end sees them, the figure a network's window level (`Level::Window`'s target) is set
//! to, so that the network reads music at the level it usually comes at.

use std::path::PathBuf;

use genrescope::decode::decode_mono_at;
use genrescope::features::FeatureExtractor;

use crate::context::windows::{window_metadata, Network};
use crate::data::dataset::Dataset;
use crate::eval::clips::map_clips;

#[derive(clap::Args)]
pub struct Args {
    /// A labels table or a `<root>/<label>/<file>` tree.
    #[arg(default_value_os_t = genrescope::research::music_dir().join("labels.tsv"))]
    data: PathBuf,
    /// The network whose front end and windows to measure.
    #[arg(long, default_value = "mn04")]
    network: Network,
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let clips = Dataset::load(&args.data)?.clips;
    let genrescope::inference::ModelInput::Frames {
        features,
        hop_frames,
    } = window_metadata(args.network, 0).input
    else {
        anyhow::bail!("{}: not a frame model", args.network.name());
    };
    let levels = map_clips(
        &clips,
        args.threads,
        "levels",
        || Ok(FeatureExtractor::new(&features)?),
        |extractor, clip| -> anyhow::Result<Vec<f64>> {
            let audio = decode_mono_at(&clip.path, features.sample_rate)?;
            let frames = extractor.frames(&audio.samples);
            let starts = (0..).map(|w| w * hop_frames);
            Ok(starts
                .take_while(|start| start + features.frames <= frames.nrows())
                .filter_map(|start| {
                    let window = frames.slice(ndarray::s![start..start + features.frames, ..]);
                    extractor.window_level_db(window)
                })
                .collect())
        },
    )?;
    let mut all: Vec<f64> = levels
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?
        .concat();
    anyhow::ensure!(!all.is_empty(), "no windows");
    all.sort_by(f64::total_cmp);
    let at = |q: f64| all[((all.len() - 1) as f64 * q).round() as usize];
    println!(
        "{}: {} windows of {} clips; level (dB re a full-scale 1-kHz sine through the same front end): median {:.1}, quartiles {:.1} to {:.1}, quietest {:.1}, loudest {:.1}",
        args.network.name(),
        all.len(),
        clips.len(),
        at(0.5),
        at(0.25),
        at(0.75),
        all[0],
        all[all.len() - 1]
    );
    Ok(())
}
