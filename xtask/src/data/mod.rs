//! Training data: labelled clips from a folder-per-label tree or a labels table, class
//! selection, and leak-free splits (groups such as artists never straddle train and
//! validation).

pub mod args;
pub mod dataset;
pub mod prepare;
pub mod split;

use std::path::Path;

/// The error for a dataset, clip or folder that does not exist. For the research corpus
/// (`../shared/music` in the README's commands) it says how to put it there.
pub fn missing(path: &Path) -> anyhow::Error {
    let corpus = path
        .ancestors()
        .find(|dir| dir.ends_with("shared/music"))
        .and_then(Path::parent);
    match corpus {
        Some(shared) => anyhow::anyhow!(
            "{} does not exist: the research corpus is expected in {}, beside the repository. \
             Link the `shared` folder that holds `music/labels.tsv` there \
             (`ln -s /path/to/shared {}`), set GENRESCOPE_MUSIC to the corpus folder, or name \
             another dataset.",
            path.display(),
            shared.join("music").display(),
            shared.display()
        ),
        None => anyhow::anyhow!("{} does not exist", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_corpus_says_how_to_provide_it() {
        let message = missing(Path::new("../shared/music/labels.tsv")).to_string();
        assert!(
            message.contains("ln -s /path/to/shared ../shared"),
            "{message}"
        );
        let message = missing(Path::new("songs/labels.tsv")).to_string();
        assert_eq!(message, "songs/labels.tsv does not exist");
    }
}
