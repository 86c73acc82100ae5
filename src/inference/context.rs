//! Decisions from pooled context: a pooled model's window graph turns every window into an
//! embedding (plus tag probabilities); the genre comes from a small head that reads pooled
//! statistics (mean, max, standard deviation) of the embeddings of many windows, the last
//! [`PooledContext::windows`] live and the whole file offline, instead of averaging the answers
//! of single windows.
//!
//! A model whose windows answer themselves can keep that per-window answer in a graph of its own
//! ([`WindowHead`]): its window graph is then a pre-trained network's values alone, the same
//! file for every model on that network, and one run of it per window serves them all.

use serde::{Deserialize, Serialize};

use super::input::ModelInput;

/// A statistic over the windows of a context, per embedding value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    Mean,
    Max,
    /// Population standard deviation (0 for a single window).
    Std,
}

impl Pool {
    pub fn name(self) -> &'static str {
        match self {
            Pool::Mean => "mean",
            Pool::Max => "max",
            Pool::Std => "std",
        }
    }
}

/// The `context` section of a pooled model's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledContext {
    /// The head graph, a file beside the model: `[1, embedding × pools]` pooled statistics in
    /// `pools` order → `[1, labels]` probabilities.
    pub head: String,
    /// The first `embedding` values of each window's output are the embedding that is pooled.
    pub embedding: usize,
    pub pools: Vec<Pool>,
    /// Windows in the live context (the last `windows`; fewer until that many have passed).
    pub windows: usize,
    /// Names of the values after the embedding: tag probabilities, shown beside the genre as
    /// their mean over the context.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The graph that turns the window graph's first values into the embedding, when the window
    /// graph is a network's values alone (see [`WindowHead`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_head: Option<WindowHead>,
}

/// A per-window head in a graph of its own, a file beside the model:
/// `[windows, inputs + Σ with.inputs]` → `[windows, embedding]`. The window graph's outputs are
/// then `inputs` network values and the tags; the head's answer replaces the network values, so
/// what is pooled is the same as when the head is part of the window graph.
///
/// The head can read other networks beside the model's own ([`Companion`]): their values of the
/// same window follow the model graph's, in `with` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowHead {
    pub file: String,
    /// Values of each window graph output the head reads (the first ones).
    pub inputs: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<Companion>,
}

/// Another network's window graph that a window head reads beside the model's own: a file beside
/// the model, run on windows of its own input (another rate, other features). Its window `i`
/// pairs with the model graph's window `i`, so its windows must start and last as long as the
/// model's (within [`PAIRED_WINDOWS_TOLERANCE`]); a file has as many windows as the fewer of
/// the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Companion {
    pub graph: String,
    pub input: ModelInput,
    /// Values of each of its output rows the head reads (the first ones; the rest, its tags, are
    /// not read).
    pub inputs: usize,
}

/// How much a companion's window length and hop may differ from the model's, relative: 1 %, a
/// drift of 0.03 s per 3-s window (EfficientAT's 2.990-s hop against musicnn's 2.992 s differ by
/// 0.07 %).
pub const PAIRED_WINDOWS_TOLERANCE: f32 = 0.01;

impl WindowHead {
    /// Values per window the head reads: the model graph's, then each companion's.
    pub fn width(&self) -> usize {
        self.inputs + self.with.iter().map(|c| c.inputs).sum::<usize>()
    }

    /// Checks the files, the widths and that every companion's windows pair with `input`'s.
    fn validate(&self, input: &ModelInput) -> Result<(), String> {
        beside_the_model(&self.file)?;
        if self.inputs == 0 {
            return Err(format!("window head `{}` reads no values", self.file));
        }
        for companion in &self.with {
            beside_the_model(&companion.graph)?;
            companion.input.validate().map_err(|e| e.to_string())?;
            let differs = |a: f32, b: f32| (a - b).abs() > PAIRED_WINDOWS_TOLERANCE * b;
            if companion.inputs == 0
                || differs(companion.input.hop_seconds(), input.hop_seconds())
                || differs(companion.input.window_seconds(), input.window_seconds())
            {
                return Err(format!(
                    "companion `{}` must give values for windows paired with the model's ({:.3}-s \
                     windows every {:.3} s)",
                    companion.graph,
                    input.window_seconds(),
                    input.hop_seconds()
                ));
            }
        }
        Ok(())
    }
}

impl PooledContext {
    /// Values per window in the decision: the embedding, then the tags.
    pub fn window_width(&self) -> usize {
        self.embedding + self.tags.len()
    }

    /// Values per output row of the window graph: the window head's inputs (or the embedding),
    /// then the tags.
    pub fn graph_width(&self) -> usize {
        self.window_head
            .as_ref()
            .map_or(self.embedding, |head| head.inputs)
            + self.tags.len()
    }

    /// Values the head reads.
    pub fn head_width(&self) -> usize {
        self.embedding * self.pools.len()
    }

    /// Checks the context of a model reading `input`.
    pub fn validate(&self, input: &ModelInput) -> Result<(), String> {
        let mut pools = self.pools.clone();
        pools.sort_by_key(|p| p.name());
        pools.dedup();
        if self.embedding == 0 || self.pools.is_empty() || pools.len() != self.pools.len() {
            return Err("a pooled context needs an embedding and distinct pools".into());
        }
        if !(1..=10_000).contains(&self.windows) {
            return Err(format!("context of {} windows", self.windows));
        }
        beside_the_model(&self.head)?;
        match &self.window_head {
            Some(head) => head.validate(input),
            None => Ok(()),
        }
    }
}

/// A graph file named in a model's metadata must be a plain file name, found beside the model.
fn beside_the_model(file: &str) -> Result<(), String> {
    let path = std::path::Path::new(file);
    if file.is_empty() || path.components().count() != 1 || path.file_name().is_none() {
        return Err(format!(
            "head `{file}` must be a file name beside the model"
        ));
    }
    Ok(())
}

/// Running sums over window rows, enough for every [`Pool`]: the context of a live window, a
/// whole file and the track summary all pool through this one type. Sums are in f64, so a
/// track of hours pools as exactly as a clip.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accumulator {
    windows: u64,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
    max: Vec<f32>,
}

impl Accumulator {
    /// Adds one window's values (every row must have the same length).
    pub fn push(&mut self, row: &[f32]) {
        if self.windows == 0 {
            self.sum = vec![0.0; row.len()];
            self.sum_sq = vec![0.0; row.len()];
            self.max = vec![f32::NEG_INFINITY; row.len()];
        }
        debug_assert_eq!(row.len(), self.sum.len());
        for (((s, q), m), &x) in self
            .sum
            .iter_mut()
            .zip(&mut self.sum_sq)
            .zip(&mut self.max)
            .zip(row)
        {
            *s += f64::from(x);
            *q += f64::from(x) * f64::from(x);
            *m = m.max(x);
        }
        self.windows += 1;
    }

    /// An accumulator over these rows.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a [f32]>) -> Self {
        let mut acc = Self::default();
        for row in rows {
            acc.push(row);
        }
        acc
    }

    pub fn windows(&self) -> u64 {
        self.windows
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The mean of the first `width` values (all values if `width` is larger).
    pub fn mean(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        let n = self.windows.max(1) as f64;
        self.sum
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(|&s| (s / n) as f32)
            .collect()
    }

    /// The pools of values `0..width`, concatenated in `pools` order (`width × pools.len()`
    /// values; empty before the first window).
    pub fn pooled(&self, width: usize, pools: &[Pool]) -> Vec<f32> {
        if self.windows == 0 {
            return Vec::new();
        }
        let n = self.windows as f64;
        let mut out = Vec::with_capacity(width * pools.len());
        for pool in pools {
            match pool {
                Pool::Mean => out.extend(self.sum[..width].iter().map(|&s| (s / n) as f32)),
                Pool::Max => out.extend_from_slice(&self.max[..width]),
                Pool::Std => {
                    out.extend(self.sum[..width].iter().zip(&self.sum_sq).map(|(&s, &q)| {
                        let mean = s / n;
                        (q / n - mean * mean).max(0.0).sqrt() as f32
                    }));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_the_statistics_of_the_rows() {
        let rows: [&[f32]; 3] = [&[1.0, -2.0, 9.0], &[3.0, -2.0, 0.0], &[5.0, -2.0, 3.0]];
        let acc = Accumulator::of(rows);
        assert_eq!(acc.windows(), 3);
        let pooled = acc.pooled(2, &[Pool::Mean, Pool::Max, Pool::Std]);
        let std0 = (8.0f32 / 3.0).sqrt();
        let expected = [3.0, -2.0, 5.0, -2.0, std0, 0.0];
        for (a, b) in pooled.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{pooled:?}");
        }
        assert_eq!(pooled.len(), expected.len());
        assert_eq!(acc.mean(2..3), vec![4.0]);
        // One window: the mean is the window, its spread 0.
        let one = Accumulator::of([rows[0]]).pooled(3, &[Pool::Std, Pool::Mean]);
        assert_eq!(one, vec![0.0, 0.0, 0.0, 1.0, -2.0, 9.0]);
        assert!(Accumulator::default().pooled(3, &[Pool::Mean]).is_empty());
    }

    /// Frame windows of `preset` features every `hop_frames` frames.
    fn frames(preset: crate::features::Preset, hop_frames: usize) -> ModelInput {
        ModelInput::Frames {
            features: crate::features::FeatureConfig::preset(preset),
            hop_frames,
        }
    }

    #[test]
    fn a_context_needs_distinct_pools_and_a_head_beside_the_model() {
        use crate::features::Preset;
        let input = frames(Preset::Musicnn, 187);
        let good = PooledContext {
            head: "m.head.onnx".into(),
            embedding: 4,
            pools: vec![Pool::Mean, Pool::Std],
            windows: 10,
            tags: vec!["a".into()],
            window_head: None,
        };
        good.validate(&input).unwrap();
        assert_eq!((good.window_width(), good.head_width()), (5, 8));
        assert_eq!(good.graph_width(), 5);
        let split = PooledContext {
            window_head: Some(WindowHead {
                file: "m.window.onnx".into(),
                inputs: 384,
                with: Vec::new(),
            }),
            ..good.clone()
        };
        split.validate(&input).unwrap();
        assert_eq!((split.window_width(), split.graph_width()), (5, 385));
        let bad = |f: fn(&mut PooledContext)| {
            let mut c = good.clone();
            f(&mut c);
            c.validate(&frames(Preset::Musicnn, 187)).is_err()
        };
        assert!(bad(|c| c.pools = vec![Pool::Mean, Pool::Mean]));
        assert!(bad(|c| c.pools.clear()));
        assert!(bad(|c| c.windows = 0));
        assert!(bad(|c| c.head = "../x.onnx".into()));
        assert!(bad(|c| c.embedding = 0));
        fn window_head(file: &str, inputs: usize) -> Option<WindowHead> {
            Some(WindowHead {
                file: file.into(),
                inputs,
                with: Vec::new(),
            })
        }
        assert!(bad(|c| c.window_head = window_head("../w.onnx", 4)));
        assert!(bad(|c| c.window_head = window_head("w.onnx", 0)));
        assert!(bad(|c| c.window_head = window_head("..", 4)));

        // A companion's windows must pair with the model's: the same length and hop within 1 %.
        let with = |graph: &str, input: ModelInput, inputs: usize| PooledContext {
            window_head: Some(WindowHead {
                with: vec![Companion {
                    graph: graph.into(),
                    input,
                    inputs,
                }],
                ..split.window_head.clone().unwrap()
            }),
            ..good.clone()
        };
        // EfficientAT's 2.990-s hop beside musicnn's 2.992 s.
        let paired = with("n.onnx", frames(Preset::EfficientAt, 299), 384);
        paired.validate(&input).unwrap();
        assert_eq!(paired.window_head.as_ref().unwrap().width(), 768);
        assert_eq!(paired.graph_width(), 385, "the model graph's own rows");
        let error = |c: PooledContext| c.validate(&input).unwrap_err();
        assert!(error(with("n.onnx", frames(Preset::EfficientAt, 150), 384)).contains("paired"));
        assert!(!error(with("../n.onnx", frames(Preset::Musicnn, 187), 200)).is_empty());
        assert!(!error(with("n.onnx", frames(Preset::Musicnn, 187), 0)).is_empty());
        assert!(!error(with("n.onnx", frames(Preset::Musicnn, 0), 200)).is_empty());
    }
}
