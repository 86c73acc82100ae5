//! `cargo xtask genre-v2`: the pooled-context genre model, chosen by cross-validation.
//!
//! 1. The corpus: every clip's labels mapped through `models/genres.toml` to candidate genres;
//!    the genres with enough clips to be measured; 5 artist-grouped folds (`corpus.rs`).
//! 2. Every window of every clip through the pre-trained musicnn networks once, every layer the
//!    heads may read kept per clip in `cache/` (`windows.rs`).
//! 3. Every candidate (network, layer, pools, classifier; today's per-window head among them)
//!    cross-validated on the same folds, weight decay chosen inside each training part
//!    (`cv.rs`, `head.rs`); the table goes to `models/report/genre-v2.{md,json}`.
//! 4. The best candidate within the CPU budget trained on every clip, its temperature fitted on
//!    out-of-fold answers, and exported: the window graph (networks → layer + tags) and the head
//!    (`export.rs`).

pub mod corpus;
mod cv;
pub mod distill;
mod export;
mod head;
mod report;
mod summary;
pub mod windows;

use std::collections::BTreeMap;
use std::path::PathBuf;

use genrescope::inference::context::Pool;

use corpus::{Corpus, CorpusArgs};
use cv::{Candidate, Settings};
use head::Classifier;
use windows::{Layer, Network, Source};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Networks to measure (every one must have its weights): `msd`, `mtt`, a narrowed copy
    /// keeping a share of the front-end filters, e.g. `msd@25`, or EfficientAT's `mn04`.
    #[arg(long, value_delimiter = ',', default_value = "msd,mtt")]
    networks: Vec<Network>,
    /// The shipped model may run at most this many networks (a full musicnn costs ~0.75 % of a
    /// core live at a 3-s hop, MSD narrowed by `--narrow 12` ~0.18 %; the budget is 2 %).
    #[arg(long, default_value_t = 1)]
    max_networks: usize,
    /// Weight decays tried inside each training part.
    #[arg(long, value_delimiter = ',', default_value = "1e-4,1e-3,1e-2")]
    grid: Vec<f64>,
    /// Folds of the training part that validate each weight decay.
    #[arg(long, default_value_t = 2)]
    inner_folds: usize,
    /// Random sub-contexts per training clip (besides the whole clip).
    #[arg(long, default_value_t = 3)]
    contexts: usize,
    /// Full-batch Adam steps per head.
    #[arg(long, default_value_t = 300)]
    steps: usize,
    #[arg(long, default_value_t = 1e-2)]
    learning_rate: f64,
    /// Windows in the live context of the exported model (10 × 2.99 s ≈ 30 s).
    #[arg(long, default_value_t = 10)]
    live_windows: usize,
    /// Measure only today's head and the first few candidates (a quick check).
    #[arg(long)]
    quick: bool,
    /// Only the candidates whose name contains one of these (e.g. `pre-dense mean+std`).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Cross-validate only; export nothing.
    #[arg(long)]
    no_export: bool,
    /// Ship the chosen networks narrowed to this percentage of their front-end filters
    /// (`musicnn/narrow.rs`), provided every corpus window's values of the chosen layer stay
    /// within `--narrow-tolerance` of the full networks': the same answers, cheaper.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
    narrow: Option<u8>,
    #[arg(long, default_value_t = 1e-4)]
    narrow_tolerance: f32,
    #[arg(long, default_value = "genre-v2")]
    name: String,
    #[arg(long, default_value = "models")]
    out: PathBuf,
    #[arg(long, default_value = "cache/context")]
    cache: PathBuf,
    /// Worker threads for the networks (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

impl Args {
    /// How heads are trained and scored.
    fn settings(&self) -> Settings {
        Settings {
            grid: self.grid.clone(),
            inner_folds: self.inner_folds,
            contexts: self.contexts,
            steps: self.steps,
            learning_rate: self.learning_rate,
            dropout: 0.5,
            seed: self.corpus.seed,
        }
    }
}

/// Every candidate measured, in order: today's head (a per-window MLP on MSD's penultimate
/// layer, window answers averaged), per-window and pooled heads on MSD's layers, then MTT alone
/// and both networks side by side, narrowed networks alone, and narrowed MSD and MTT side by
/// side.
fn candidates(networks: &[Network], quick: bool) -> Vec<Candidate> {
    let mut list = msd_candidates();
    if networks.contains(&Network::MTT) {
        list.extend(mtt_candidates());
    }
    list.extend(narrowed_candidates(networks));
    if networks.contains(&Network::MN04) {
        list.extend(mn04_candidates(networks));
    }
    if quick {
        list.truncate(3);
    }
    list.retain(|c| c.networks.iter().all(|n| networks.contains(n)));
    list
}

/// A candidate: `layer` of `networks`, `pools` over the context's windows, a `classifier` head.
fn on(networks: Vec<Network>, layer: Layer, pools: &[Pool], classifier: Classifier) -> Candidate {
    Candidate {
        networks,
        layer,
        pools: pools.to_vec(),
        classifier,
    }
}

/// Today's head and the pooled heads on MSD musicnn's layers.
fn msd_candidates() -> Vec<Candidate> {
    let msd = || vec![Network::MSD];
    vec![
        Candidate::today(),
        on(msd(), Layer::Penultimate, &[], Classifier::Logistic),
        on(
            msd(),
            Layer::Penultimate,
            &[Pool::Mean],
            Classifier::Logistic,
        ),
        on(
            msd(),
            Layer::Penultimate,
            &[Pool::Mean, Pool::Std],
            Classifier::Logistic,
        ),
        on(
            msd(),
            Layer::Penultimate,
            &[Pool::Mean, Pool::Std],
            Classifier::Mlp(128),
        ),
        on(msd(), Layer::PreDense, &[Pool::Mean], Classifier::Logistic),
        on(
            msd(),
            Layer::PreDense,
            &[Pool::Mean, Pool::Max],
            Classifier::Logistic,
        ),
        on(
            msd(),
            Layer::PreDense,
            &[Pool::Mean, Pool::Std],
            Classifier::Logistic,
        ),
        on(
            msd(),
            Layer::PreDense,
            &[Pool::Mean, Pool::Max, Pool::Std],
            Classifier::Logistic,
        ),
        on(
            msd(),
            Layer::Tags,
            &[Pool::Mean, Pool::Std],
            Classifier::Logistic,
        ),
        on(msd(), Layer::Tags, &[], Classifier::Mlp(128)),
    ]
}

/// MTT musicnn alone and beside MSD's.
fn mtt_candidates() -> [Candidate; 5] {
    let mtt = || vec![Network::MTT];
    let both = || vec![Network::MSD, Network::MTT];
    [
        on(mtt(), Layer::Penultimate, &[], Classifier::Mlp(128)),
        on(
            mtt(),
            Layer::PreDense,
            &[Pool::Mean, Pool::Std],
            Classifier::Logistic,
        ),
        on(both(), Layer::Penultimate, &[], Classifier::Logistic),
        on(both(), Layer::Penultimate, &[], Classifier::Mlp(128)),
        on(
            both(),
            Layer::PreDense,
            &[Pool::Mean, Pool::Std],
            Classifier::Logistic,
        ),
    ]
}

/// The narrowed networks among `networks` (`msd@25`), each alone and MSD's beside MTT's.
fn narrowed_candidates(networks: &[Network]) -> Vec<Candidate> {
    let mut list = Vec::new();
    // A narrowed network (`msd@25`) with the teacher's recipe, and a pooled head on its
    // pre-dense values (which may make up for what the narrowing changed downstream).
    for &narrow in networks.iter().filter(|n| n.percent < 100) {
        list.extend([
            on(vec![narrow], Layer::Penultimate, &[], Classifier::Logistic),
            on(
                vec![narrow],
                Layer::PreDense,
                &[Pool::Mean],
                Classifier::Logistic,
            ),
        ]);
    }
    // Both sources narrowed (`msd@12,mtt@45`): the per-window logistic head on their
    // penultimate layers side by side, the two views at the cost of narrowed networks.
    let narrowed = |source| {
        networks
            .iter()
            .copied()
            .filter(move |n| n.source == source && n.percent < 100)
    };
    for msd in narrowed(Source::Msd) {
        for mtt in narrowed(Source::Mtt) {
            list.push(on(
                vec![msd, mtt],
                Layer::Penultimate,
                &[],
                Classifier::Logistic,
            ));
        }
    }
    list
}

/// EfficientAT's mn04 alone (its embedding, its AudioSet probabilities) and its embedding beside
/// each musicnn's penultimate layer among `networks` (windows of either network cover nearly
/// the same 3 s, `windows::MN04_HOP_FRAMES`).
fn mn04_candidates(networks: &[Network]) -> Vec<Candidate> {
    let mn04 = || vec![Network::MN04];
    let mean_std = [Pool::Mean, Pool::Std];
    let mut list = vec![
        on(mn04(), Layer::Penultimate, &[], Classifier::Logistic),
        on(mn04(), Layer::Penultimate, &[], Classifier::Mlp(128)),
        on(mn04(), Layer::Penultimate, &mean_std, Classifier::Logistic),
        on(mn04(), Layer::Penultimate, &mean_std, Classifier::Mlp(128)),
        on(mn04(), Layer::Tags, &mean_std, Classifier::Logistic),
        on(mn04(), Layer::Tags, &[], Classifier::Mlp(128)),
    ];
    for &musicnn in networks.iter().filter(|n| n.is_musicnn()) {
        let both = || vec![musicnn, Network::MN04];
        list.extend([
            on(both(), Layer::Penultimate, &[], Classifier::Logistic),
            on(both(), Layer::Penultimate, &[], Classifier::Mlp(128)),
            on(both(), Layer::Penultimate, &mean_std, Classifier::Logistic),
            on(both(), Layer::Penultimate, &mean_std, Classifier::Mlp(128)),
        ]);
    }
    list
}

/// Cross-validates every candidate, `threads` at a time (the heads train on one core each);
/// `progress` sees the finished results, in list order, after each one.
fn cross_validate_all(
    list: &[Candidate],
    probes: &BTreeMap<Network, Vec<ndarray::Array2<f32>>>,
    corpus: &Corpus,
    settings: &Settings,
    threads: Option<usize>,
    progress: impl Fn(&[cv::Result]) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<Vec<cv::Result>> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .clamp(1, list.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<cv::Result>>> =
        std::sync::Mutex::new(vec![None; list.len()]);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(candidate) = list.get(i) else {
                            return Ok(());
                        };
                        let result = cv::cross_validate(candidate, probes, corpus, settings);
                        let (acc, acc_sd) = result.stat(|s| s.accuracy);
                        let (f1, f1_sd) = result.stat(|s| s.macro_f1);
                        println!(
                            "{} → acc {acc:.3} ± {acc_sd:.3}, macro-F1 {f1:.3} ± {f1_sd:.3} ({:.0} s)",
                            result.candidate, result.seconds
                        );
                        let mut all = results.lock().expect("no worker panicked");
                        all[i] = Some(result);
                        let done: Vec<cv::Result> = all.iter().flatten().cloned().collect();
                        progress(&done)?;
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("worker panicked")?;
        }
        Ok(())
    })?;
    Ok(results
        .into_inner()
        .expect("no worker panicked")
        .into_iter()
        .flatten()
        .collect())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let (vocabulary, corpus) = args.corpus.load()?;
    println!(
        "{} clips in {} genres ({} left out: no genre, or only genres below the thresholds), {} folds",
        corpus.clips.len(),
        corpus.classes.len(),
        corpus.dropped,
        corpus.k
    );
    let mut probes = BTreeMap::new();
    let mut ms = BTreeMap::new();
    for &network in &args.networks {
        let rows = windows::probe_rows(
            network,
            false,
            &args.corpus.weights,
            &corpus.clips,
            &args.cache,
            args.threads,
        )?;
        probes.insert(network, rows);
        let network_ms = windows::window_ms(network, &args.corpus.weights)?;
        println!(
            "{}: {network_ms:.2} ms per window on one thread",
            network.name()
        );
        ms.insert(network, network_ms);
    }
    let settings = args.settings();
    let wanted = |c: &Candidate| {
        args.only.is_empty() || args.only.iter().any(|o| c.name().contains(o.as_str()))
    };
    let list: Vec<Candidate> = candidates(&args.networks, args.quick)
        .into_iter()
        .filter(wanted)
        .collect();
    let exploration = summary::exploration(&args.out, &args.name, &args.only)?;
    let run = report::Run {
        model: &args.name,
        out: &args.out,
        only: &args.only,
        threads: args.threads,
        max_networks: args.max_networks,
        exploration: exploration.as_ref(),
    };
    let write_report = |results: &[cv::Result], chosen| {
        report::write_cv(&corpus, &vocabulary, &settings, &run, results, chosen)
    };
    let results = cross_validate_all(&list, &probes, &corpus, &settings, args.threads, |done| {
        write_report(done, None)
    })?;
    let chosen = cv::choose(&results, args.max_networks)
        .ok_or_else(|| anyhow::anyhow!("no candidate within --max-networks"))?;
    let calibration = export::calibration(&corpus, &results[chosen]);
    let shipped = export::shipped(&args, &results[chosen].spec, &probes, &ms, &corpus)?;
    write_report(&results, Some((chosen, &calibration, &shipped)))?;
    if args.no_export {
        return Ok(());
    }
    let result = &results[chosen];
    let weight_decay = result.usual_weight_decay();
    println!(
        "training {} on every clip (weight decay {weight_decay:e})",
        result.candidate
    );
    let head = cv::fit_all(&result.spec, &probes, &corpus, &settings, weight_decay);
    let path = export::write(
        &args,
        &corpus,
        &vocabulary,
        &settings,
        &results,
        chosen,
        &head,
        weight_decay,
        (&calibration, &shipped),
        exploration.as_ref(),
    )?;
    println!(
        "wrote {} in {:.1} min",
        path.display(),
        started.elapsed().as_secs_f64() / 60.0
    );
    Ok(())
}
