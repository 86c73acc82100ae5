//! The windows of one side of a split, each with the target its clip is trained towards: what
//! the training data (`data.rs`) cuts once and the augmenter (`augment.rs`) cuts again every
//! epoch. Below both.

use burn::tensor::{Device, Tensor, TensorData};
use ndarray::Array3;

use crate::data::dataset::Clip;

/// What each clip's windows are trained towards.
#[derive(Debug, Clone)]
pub enum Targets {
    /// One-hot on the clip's primary label; with `multi_label`, spread evenly over all of the
    /// clip's known labels.
    Labels { multi_label: bool },
    /// A distribution over the classes for each clip, indexed like the dataset's clips (a
    /// teacher's answers, `cargo xtask distill`); a clip without one gets no windows.
    Given(Vec<Option<Vec<f32>>>),
}

impl Targets {
    /// One-hot on each clip's primary label.
    pub const PRIMARY_LABEL: Targets = Targets::Labels { multi_label: false };

    /// The target distribution and the class (for accuracy) of `clips[index]`, `None` for a
    /// clip [`Targets::Given`] has nothing for.
    fn of(
        &self,
        clips: &[Clip],
        labels: &[String],
        index: usize,
    ) -> anyhow::Result<Option<(Vec<f32>, usize)>> {
        let position = |label: &str| labels.iter().position(|l| l == label);
        match self {
            Targets::Labels { multi_label } => {
                let clip = &clips[index];
                let label = position(clip.primary_label())
                    .ok_or_else(|| anyhow::anyhow!("clip label outside the class list"))?;
                let mut target = vec![0.0f32; labels.len()];
                if *multi_label {
                    let known: Vec<usize> =
                        clip.labels.iter().filter_map(|l| position(l)).collect();
                    for &k in &known {
                        target[k] = 1.0 / known.len() as f32;
                    }
                } else {
                    target[label] = 1.0;
                }
                Ok(Some((target, label)))
            }
            Targets::Given(given) => {
                let Some(target) = given.get(index).and_then(Option::as_ref) else {
                    return Ok(None);
                };
                anyhow::ensure!(
                    target.len() == labels.len(),
                    "a target of {} classes for {} labels",
                    target.len(),
                    labels.len()
                );
                Ok(Some((target.clone(), crate::metrics::argmax(target))))
            }
        }
    }
}

/// Windows of one side of the split, `[len, frames, width]` row-major in `x`.
pub struct WindowSet {
    pub x: Vec<f32>,
    pub frames: usize,
    pub width: usize,
    /// Class of each window (its clip's primary label, or its given target's top class), for
    /// accuracy.
    pub y: Vec<usize>,
    /// Target distribution of each window (`len × classes`), its clip's [`Targets`].
    pub targets: Vec<f32>,
    pub classes: usize,
    /// Clip of each window, as an index into `clips`.
    pub clip_of: Vec<usize>,
    /// Dataset indices of the clips that have windows here.
    pub clips: Vec<usize>,
    /// Class of each clip in `clips`.
    pub clip_labels: Vec<usize>,
}

impl WindowSet {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Inputs `[n, frames, width]` and target distributions `[n, classes]` of the windows
    /// `indices`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<3>, Tensor<2>) {
        let size = self.frames * self.width;
        let mut x = Vec::with_capacity(indices.len() * size);
        let mut t = Vec::with_capacity(indices.len() * self.classes);
        for &i in indices {
            x.extend_from_slice(&self.x[i * size..(i + 1) * size]);
            t.extend_from_slice(&self.targets[i * self.classes..(i + 1) * self.classes]);
        }
        (
            Tensor::from_data(
                TensorData::new(x, [indices.len(), self.frames, self.width]),
                device,
            ),
            Tensor::from_data(TensorData::new(t, [indices.len(), self.classes]), device),
        )
    }

    /// Training windows per class.
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        self.y.iter().for_each(|&c| counts[c] += 1);
        counts
    }
}

/// The windows of the clips `indices` (those `windows_of` and `targets` have something for),
/// each trained towards its clip's [`Targets`].
pub fn window_set(
    clips: &[Clip],
    labels: &[String],
    indices: &[usize],
    (frames, width): (usize, usize),
    targets: &Targets,
    mut windows_of: impl FnMut(usize) -> Option<Array3<f32>>,
) -> anyhow::Result<WindowSet> {
    let mut set = WindowSet {
        x: Vec::new(),
        frames,
        width,
        y: Vec::new(),
        targets: Vec::new(),
        classes: labels.len(),
        clip_of: Vec::new(),
        clips: Vec::new(),
        clip_labels: Vec::new(),
    };
    for &index in indices {
        let Some((target, label)) = targets.of(clips, labels, index)? else {
            continue;
        };
        let Some(windows) = windows_of(index) else {
            continue;
        };
        let n = windows.dim().0;
        let position = set.clips.len();
        set.clips.push(index);
        set.clip_labels.push(label);
        set.x.extend(windows.iter());
        set.y.extend(std::iter::repeat_n(label, n));
        (0..n).for_each(|_| set.targets.extend_from_slice(&target));
        set.clip_of.extend(std::iter::repeat_n(position, n));
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(labels: &[&str]) -> Clip {
        Clip {
            path: "x.ogg".into(),
            labels: labels.iter().map(|&l| l.to_owned()).collect(),
            group: "g".into(),
            licence: None,
        }
    }

    #[test]
    fn windows_learn_their_clips_targets() {
        let clips = [clip(&["a"]), clip(&["b", "a"]), clip(&["a"])];
        let labels = ["a".to_owned(), "b".to_owned()];
        let two_windows = |_| Some(Array3::zeros((2, 1, 1)));
        let cut = |targets: &Targets| {
            window_set(&clips, &labels, &[0, 1, 2], (1, 1), targets, two_windows).unwrap()
        };

        let primary = cut(&Targets::PRIMARY_LABEL);
        assert_eq!(primary.y, [0, 0, 1, 1, 0, 0]);
        assert_eq!(&primary.targets[4..6], [0.0, 1.0]);
        let spread = cut(&Targets::Labels { multi_label: true });
        assert_eq!(&spread.targets[4..6], [0.5, 0.5]);

        // A teacher's answers: the top class is the window's class; a clip without an answer
        // (a test clip) has no windows.
        let taught = cut(&Targets::Given(vec![
            Some(vec![0.2, 0.8]),
            None,
            Some(vec![0.6, 0.4]),
        ]));
        assert_eq!(taught.clips, [0, 2]);
        assert_eq!(taught.y, [1, 1, 0, 0]);
        assert_eq!(&taught.targets[..2], [0.2, 0.8]);
        assert!(window_set(
            &clips,
            &labels,
            &[0],
            (1, 1),
            &Targets::Given(vec![Some(vec![1.0])]),
            two_windows
        )
        .is_err());
    }
}
