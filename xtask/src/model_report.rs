//! `models/REPORT.md` and its sections: `train-all` writes the document, `genre-v2` and
//! `distill` each own a section of it, kept as `<out>/report/<stem>.md`. Below those commands,
//! so that `train-all` need not import them to assemble the document.

use std::path::Path;

/// The shipped genre models, by `genre-v2 --name`: the default ("Accurate") and the fast one.
pub const DEFAULT_MODEL: &str = "genre-v2";
pub const FAST_MODEL: &str = "genre-v2-fast";
/// The shipped mood model, by `genre-v2 --target mood --name`.
pub const MOOD_MODEL: &str = "mood";

/// A part of `REPORT.md` that a command writes as `<out>/report/<stem>.md`; `train-all` keeps
/// every one when it rebuilds the rest, in [`Section::all`]'s order.
pub struct Section {
    stem: String,
    /// The `cargo xtask` command that writes it.
    command: &'static str,
}

impl Section {
    /// The cross-validation report of `cargo xtask genre-v2 --name <name>`.
    pub fn cv(name: &str) -> Self {
        Self {
            stem: name.to_owned(),
            command: "genre-v2",
        }
    }

    /// The table of `cargo xtask distill`.
    pub fn distill() -> Self {
        Self {
            stem: "distill".to_owned(),
            command: "distill",
        }
    }

    /// Every section, in `REPORT.md`'s order (another `--name`'s goes after them).
    pub fn all() -> [Section; 4] {
        [
            Section::cv(DEFAULT_MODEL),
            Section::cv(FAST_MODEL),
            Section::distill(),
            Section::cv(MOOD_MODEL),
        ]
    }

    /// Where the section starts in `REPORT.md`.
    fn begin(&self) -> String {
        let (stem, command) = (&self.stem, self.command);
        format!("<!-- {stem}: written by `cargo xtask {command}` (models/report/{stem}.md) -->\n")
    }

    /// Where the section ends in `REPORT.md`.
    fn end(&self) -> String {
        format!("<!-- /{} -->\n", self.stem)
    }

    /// The section as `REPORT.md` carries it (empty before the command's first run).
    pub fn text(&self, out: &Path) -> String {
        std::fs::read_to_string(out.join("report").join(format!("{}.md", self.stem)))
            .map(|md| format!("{}{md}\n{}\n", self.begin(), self.end()))
            .unwrap_or_default()
    }

    /// Writes `md` as `<out>/report/<stem>.md` and puts it into `<out>/REPORT.md`, replacing
    /// the previous one, else after the sections before it in [`Section::all`], else after the
    /// title.
    pub fn write(&self, out: &Path, md: &str) -> anyhow::Result<()> {
        let dir = out.join("report");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}.md", self.stem)), md)?;
        let path = out.join("REPORT.md");
        let doc = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Model report\n\n".into());
        let (begin, end) = (self.begin(), self.end());
        let (before, after) = match (doc.find(&begin), doc.find(&end)) {
            (Some(b), Some(e)) => (&doc[..b], &doc[e + end.len()..]),
            _ => {
                let earlier = Section::all()
                    .iter()
                    .take_while(|s| s.stem != self.stem)
                    .filter_map(|s| doc.find(&s.end()).map(|e| e + s.end().len()))
                    .max();
                let at = earlier.unwrap_or_else(|| doc.find("\n\n").map_or(0, |i| i + 2));
                (&doc[..at], &doc[at..])
            }
        };
        let after = after.trim_start_matches('\n');
        std::fs::write(&path, format!("{before}{}{after}", self.text(out)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_in_place_or_added_after_the_earlier_ones() {
        let out = std::env::temp_dir().join(format!("genrescope-sections-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let report = out.join("REPORT.md");
        std::fs::write(
            &report,
            "# Model report\n\nIntro.\n\n## Per-window models\n",
        )
        .unwrap();
        Section::distill().write(&out, "students v1\n").unwrap();
        Section::cv(DEFAULT_MODEL)
            .write(&out, "pooled v1\n")
            .unwrap();
        Section::distill().write(&out, "students v2\n").unwrap();
        Section::cv(FAST_MODEL).write(&out, "fast v1\n").unwrap();
        let doc = std::fs::read_to_string(&report).unwrap();
        let at = |text: &str| doc.find(text).unwrap_or_else(|| panic!("{text} in {doc}"));
        assert!(!doc.contains("students v1"), "{doc}");
        assert!(at("# Model report") < at("pooled v1"));
        assert!(at("pooled v1") < at("fast v1"), "{doc}");
        assert!(at("fast v1") < at("students v2"), "{doc}");
        assert!(at("students v2") < at("## Per-window models"), "{doc}");
        assert_eq!(doc.matches("<!-- /distill -->").count(), 1, "{doc}");
        assert!(
            doc.contains("<!-- genre-v2-fast: written by `cargo xtask genre-v2`"),
            "{doc}"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}
