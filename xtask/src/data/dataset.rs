//! Labelled clips from `<root>/<label>/<file>` folders (GTZAN's layout) or from a labels table
//! in `../shared/music/labels.tsv`'s format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// File extensions read as audio.
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "au", "aiff", "aif", "flac", "ogg", "mp3"];

/// One labelled clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    pub path: PathBuf,
    /// The clip's genres, primary first; multi-genre clips have several.
    pub labels: Vec<String>,
    /// What must never be split across train and validation: the artist where known, else the
    /// clip itself.
    pub group: String,
    /// The clip's licence, where the dataset states it (labels tables' `license` column).
    pub licence: Option<String>,
}

impl Clip {
    pub fn primary_label(&self) -> &str {
        &self.labels[0]
    }
}

/// A set of labelled clips.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub clips: Vec<Clip>,
}

/// Which classes to train on.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassSelection {
    /// Exactly these labels.
    Named(Vec<String>),
    /// Every label that is the primary label of at least this many clips.
    MinCount(usize),
}

impl Dataset {
    /// A labels table (a `.tsv` file) or a folder-per-label tree (a directory).
    pub fn load(source: &Path) -> anyhow::Result<Self> {
        if !source.exists() {
            return Err(super::missing(source));
        }
        if source.is_dir() {
            Self::from_folders(source)
        } else {
            Self::from_labels_table(source)
        }
    }

    /// `<root>/<label>/<file>`: every audio file one level below a label folder. The group is
    /// the file itself (folder trees carry no artist).
    pub fn from_folders(root: &Path) -> anyhow::Result<Self> {
        let mut clips = Vec::new();
        let mut labels: Vec<PathBuf> = read_dir_sorted(root)?
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
        labels.sort();
        for label_dir in labels {
            let label = label_dir
                .file_name()
                .and_then(|n| n.to_str())
                .context("label folder name")?
                .to_owned();
            for path in read_dir_sorted(&label_dir)? {
                if is_audio(&path) {
                    clips.push(Clip {
                        group: path.display().to_string(),
                        labels: vec![label.clone()],
                        path,
                        licence: None,
                    });
                }
            }
        }
        if clips.is_empty() {
            bail!("no audio files in {}/<label>/", root.display());
        }
        Ok(Self { clips })
    }

    /// A tab-separated table with a header naming at least `path` and `genre` (`genres_all`:
    /// `;`-separated extra genres, `artist`: the group); paths are relative to the table's
    /// folder. Rows without a genre use the first of `genres_all`; rows with neither are skipped.
    pub fn from_labels_table(table: &Path) -> anyhow::Result<Self> {
        let labels_table = LabelsTable::read(table)?;
        let LabelsTable { root, .. } = &labels_table;
        let column = |name: &str| labels_table.column(name);
        let path_col = column("path").context("labels table has no `path` column")?;
        let genre_col = column("genre").context("labels table has no `genre` column")?;
        let (all_col, artist_col) = (column("genres_all"), column("artist"));
        let licence_col = column("license");

        let mut clips = Vec::new();
        for (line_no, fields) in labels_table.rows().enumerate() {
            let field = |col: Option<usize>| LabelsTable::field(&fields, col);
            let path = field(Some(path_col));
            if path.is_empty() {
                bail!("{}:{}: no path", table.display(), line_no + 2);
            }
            let mut labels: Vec<String> = Vec::new();
            for label in std::iter::once(field(Some(genre_col))).chain(field(all_col).split(';')) {
                let label = label.trim();
                if !label.is_empty() && !labels.iter().any(|l| l == label) {
                    labels.push(label.to_owned());
                }
            }
            if labels.is_empty() {
                continue;
            }
            let artist = field(artist_col);
            clips.push(Clip {
                group: if artist.is_empty() {
                    format!("clip:{path}")
                } else {
                    format!("artist:{artist}")
                },
                path: root.join(path),
                labels,
                licence: Some(field(licence_col).to_owned()).filter(|l| !l.is_empty()),
            });
        }
        Ok(Self { clips })
    }

    /// Number of clips per primary label.
    pub fn class_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for clip in &self.clips {
            *counts.entry(clip.primary_label().to_owned()).or_default() += 1;
        }
        counts
    }

    /// Keeps the clips whose primary label is selected, and drops unselected labels from
    /// multi-label clips. Returns the dataset and its classes in sorted order.
    pub fn select(&self, selection: &ClassSelection) -> anyhow::Result<(Dataset, Vec<String>)> {
        let counts = self.class_counts();
        let classes: Vec<String> = match selection {
            ClassSelection::Named(names) => {
                for name in names {
                    if !counts.contains_key(name) {
                        bail!(
                            "class {name:?} has no clips (known: {:?})",
                            counts.keys().collect::<Vec<_>>()
                        );
                    }
                }
                let mut names = names.clone();
                names.sort();
                names.dedup();
                names
            }
            ClassSelection::MinCount(min) => counts
                .iter()
                .filter(|(_, &n)| n >= *min)
                .map(|(c, _)| c.clone())
                .collect(),
        };
        if classes.len() < 2 {
            bail!("need at least two classes, selected {classes:?}");
        }
        let clips = self
            .clips
            .iter()
            .filter(|clip| classes.iter().any(|c| c == clip.primary_label()))
            .map(|clip| Clip {
                labels: clip
                    .labels
                    .iter()
                    .filter(|l| classes.contains(l))
                    .cloned()
                    .collect(),
                ..clip.clone()
            })
            .collect();
        Ok((Dataset { clips }, classes))
    }
}

fn read_dir_sorted(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn is_audio(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// A tab-separated labels table: its header and rows as text; paths in it are relative to its
/// folder, `root`.
pub struct LabelsTable {
    pub root: PathBuf,
    header: Vec<String>,
    text: String,
}

impl LabelsTable {
    pub fn read(table: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(table)
            .with_context(|| format!("cannot read {}", table.display()))?;
        let header = text
            .lines()
            .next()
            .context("empty labels table")?
            .split('\t')
            .map(str::to_owned)
            .collect();
        Ok(Self {
            root: table.parent().unwrap_or(Path::new(".")).to_owned(),
            header,
            text,
        })
    }

    /// The index of the column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Every row after the header, its fields in column order.
    pub fn rows(&self) -> impl Iterator<Item = Vec<&str>> {
        self.text
            .lines()
            .skip(1)
            .map(|line| line.split('\t').collect())
    }

    /// Field `col` of a row, trimmed; empty where the column or the field is missing.
    pub fn field<'a>(fields: &[&'a str], col: Option<usize>) -> &'a str {
        col.and_then(|c| fields.get(c)).map_or("", |s| s.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("genrescope-data-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_a_gtzan_style_folder_tree() {
        let root = temp_dir("folders");
        for (label, file) in [
            ("blues", "blues.00000.au"),
            ("blues", "notes.txt"),
            ("rock", "rock.00001.wav"),
        ] {
            std::fs::create_dir_all(root.join(label)).unwrap();
            std::fs::write(root.join(label).join(file), b"x").unwrap();
        }
        let data = Dataset::load(&root).unwrap();
        assert_eq!(data.clips.len(), 2);
        assert_eq!(data.clips[0].labels, vec!["blues"]);
        assert!(data.clips[1].path.ends_with("rock/rock.00001.wav"));
        assert_ne!(data.clips[0].group, data.clips[1].group);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn reads_a_labels_table_with_artists_and_multi_genre_rows() {
        let root = temp_dir("table");
        let table = root.join("labels.tsv");
        std::fs::write(
            &table,
            "path\tdataset\tgenre\tgenres_all\tartist\tlicense\n\
             a/1.ogg\tx\trock\trock\tAnn\tCC BY\n\
             a/2.ogg\tx\t\tpop;rock\tAnn\t\n\
             a/3.ogg\tx\tjazz\tjazz;blues\t\t\n\
             a/4.ogg\tx\t\t\tBob\t\n",
        )
        .unwrap();
        let data = Dataset::load(&table).unwrap();
        assert_eq!(data.clips.len(), 3, "the unlabelled row is skipped");
        assert_eq!(data.clips[1].labels, vec!["pop", "rock"]);
        assert_eq!(data.clips[0].licence.as_deref(), Some("CC BY"));
        assert_eq!(data.clips[1].licence, None);
        assert_eq!(data.clips[0].group, data.clips[1].group);
        assert_eq!(data.clips[2].group, "clip:a/3.ogg");
        assert_eq!(data.clips[2].path, root.join("a/3.ogg"));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn selects_classes_by_name_or_count() {
        let clip = |label: &str, extra: &[&str]| Clip {
            path: PathBuf::from(format!("{label}.ogg")),
            labels: std::iter::once(label)
                .chain(extra.iter().copied())
                .map(String::from)
                .collect(),
            group: label.into(),
            licence: None,
        };
        let data = Dataset {
            clips: vec![
                clip("rock", &["pop"]),
                clip("rock", &[]),
                clip("pop", &["jazz"]),
                clip("jazz", &[]),
            ],
        };
        // Only rock has two clips with it as the primary label.
        let err = data.select(&ClassSelection::MinCount(2)).unwrap_err();
        assert!(err.to_string().contains("at least two"), "{err}");
        let (kept, classes) = data
            .select(&ClassSelection::Named(vec!["rock".into(), "pop".into()]))
            .unwrap();
        assert_eq!(classes, vec!["pop", "rock"]);
        assert_eq!(kept.clips.len(), 3);
        assert_eq!(
            kept.clips[2].labels,
            vec!["pop"],
            "jazz is not a selected class"
        );
        assert!(data
            .select(&ClassSelection::Named(vec!["metal".into(), "rock".into()]))
            .is_err());
    }
}
