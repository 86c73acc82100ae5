//! Genre tags of a track, as the editor exports them and `genrescope analyze` prints them:
//! JSON, CSV rows and a one-line summary. People read genre names (`Hip-Hop`, from
//! [`Vocabulary::display_name`]); JSON and CSV also carry the stable id (`hip-hop`).

use serde::Serialize;

use crate::genres::{LabelName, Vocabulary};
use crate::inference::decision::ranked;

/// One genre and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Tag {
    /// The genre's name, as people read it (`Hip-Hop`).
    pub genre: String,
    /// The genre's stable id (`hip-hop`; see [`Vocabulary::id`]).
    pub id: String,
    pub probability: f32,
    /// The label as the model stores it (`hiphop`), as earlier versions wrote it.
    pub label: String,
}

/// A track's genre distribution, most likely genre first.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Tags {
    /// The file, or `live` for the plugin's track summary.
    pub source: String,
    pub model: String,
    /// Audio analysed, in seconds.
    pub seconds: f64,
    /// Model windows behind the distribution.
    pub windows: u64,
    pub genres: Vec<Tag>,
}

impl Tags {
    /// `distribution[i]` is the probability of `labels[i]` (the model's labels), named by the
    /// built-in genre vocabulary.
    pub fn new(
        source: &str,
        model: &str,
        seconds: f64,
        windows: u64,
        labels: &[String],
        distribution: &[f32],
    ) -> Self {
        let names = Vocabulary::builtin().model_labels(labels);
        Self::named(source, model, seconds, windows, &names, distribution)
    }

    /// [`Tags::new`] with the labels already named.
    pub fn named(
        source: &str,
        model: &str,
        seconds: f64,
        windows: u64,
        names: &[LabelName],
        distribution: &[f32],
    ) -> Self {
        Self {
            source: source.to_owned(),
            model: model.to_owned(),
            seconds,
            windows,
            genres: ranked(distribution)
                .into_iter()
                .map(|i| Tag {
                    genre: names[i].name.clone(),
                    id: names[i].id.clone(),
                    probability: distribution[i],
                    label: names[i].label.clone(),
                })
                .collect(),
        }
    }

    /// The most likely genre, if any.
    pub fn top(&self) -> Option<&Tag> {
        self.genres.first()
    }

    /// `Rock 42%, Pop 21%, Blues 9%` for the `n` most likely genres.
    pub fn summary_line(&self, n: usize) -> String {
        self.genres
            .iter()
            .take(n)
            .map(|t| format!("{} {:.0}%", t.genre, t.probability * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `genre` is the name; `id` was added after `probability` so that earlier columns keep
    /// their places.
    pub const CSV_HEADER: &'static str = "source,model,rank,genre,probability,id";

    /// One CSV row per genre (without header), fields quoted where needed.
    pub fn csv_rows(&self) -> String {
        self.genres
            .iter()
            .enumerate()
            .map(|(rank, t)| {
                format!(
                    "{},{},{},{},{:.6},{}\n",
                    csv_field(&self.source),
                    csv_field(&self.model),
                    rank + 1,
                    csv_field(&t.genre),
                    t.probability,
                    csv_field(&t.id),
                )
            })
            .collect()
    }
}

/// Quotes a CSV field that contains a comma, quote or line break (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Tags {
        let labels = ["jazz", "rock, alt", "hiphop", "rnb", "pop-rock(allmusic)"].map(String::from);
        Tags::new(
            "a \"b\".ogg",
            "m",
            30.0,
            19,
            &labels,
            &[0.05, 0.1, 0.5, 0.25, 0.1],
        )
    }

    #[test]
    fn ranks_genres_and_formats_a_summary_with_names() {
        let tags = tags();
        let top = tags.top().unwrap();
        assert_eq!(
            (top.genre.as_str(), top.id.as_str()),
            ("Hip-Hop", "hip-hop")
        );
        assert_eq!(top.label, "hiphop");
        // What the clipboard gets: names, never ids or dataset labels.
        assert_eq!(
            tags.summary_line(3),
            "Hip-Hop 50%, R&B / Soul 25%, rock, alt 10%"
        );
        assert_eq!(tags.genres[3].genre, "Pop or Rock");
    }

    #[test]
    fn csv_has_names_and_ids_and_quotes_what_needs_quoting() {
        let rows = tags().csv_rows();
        let lines: Vec<&str> = rows.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], "\"a \"\"b\"\".ogg\",m,1,Hip-Hop,0.500000,hip-hop");
        assert_eq!(lines[1], "\"a \"\"b\"\".ogg\",m,2,R&B / Soul,0.250000,rnb");
        assert_eq!(
            lines[2],
            "\"a \"\"b\"\".ogg\",m,3,\"rock, alt\",0.100000,\"rock, alt\""
        );
        assert_eq!(
            lines[3],
            "\"a \"\"b\"\".ogg\",m,4,Pop or Rock,0.100000,pop|rock"
        );
        assert_eq!(
            Tags::CSV_HEADER.split(',').count(),
            lines[0].split(',').count(),
            "one column per header field"
        );
    }

    #[test]
    fn json_has_every_field_with_names_ids_and_the_model_label() {
        let json: serde_json::Value = serde_json::to_value(tags()).unwrap();
        assert_eq!(json["windows"], 19);
        let top = &json["genres"][0];
        assert_eq!(top["genre"], "Hip-Hop");
        assert_eq!(top["id"], "hip-hop");
        assert_eq!(top["label"], "hiphop");
        assert!((top["probability"].as_f64().unwrap() - 0.5).abs() < 1e-6);
        assert_eq!(json["genres"][1]["genre"], "R&B / Soul");
        assert_eq!(json["genres"].as_array().unwrap().len(), 5);
    }
}
