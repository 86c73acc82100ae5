//! Genre tags of a track, as the editor exports them and `genrescope analyze` prints them:
//! JSON, CSV rows and a one-line summary.

use serde::Serialize;

use crate::analysis::rolling::ranked;

/// One genre and its probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tag {
    pub label: String,
    pub probability: f32,
}

/// A track's genre distribution, most likely genre first.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// `distribution[i]` is the probability of `labels[i]`.
    pub fn new(
        source: &str,
        model: &str,
        seconds: f64,
        windows: u64,
        labels: &[String],
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
                    label: labels[i].clone(),
                    probability: distribution[i],
                })
                .collect(),
        }
    }

    /// The most likely genre, if any.
    pub fn top(&self) -> Option<&Tag> {
        self.genres.first()
    }

    /// `rock 42%, pop 21%, blues 9%` for the `n` most likely genres.
    pub fn summary_line(&self, n: usize) -> String {
        self.genres
            .iter()
            .take(n)
            .map(|t| format!("{} {:.0}%", t.label, t.probability * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub const CSV_HEADER: &'static str = "source,model,rank,genre,probability";

    /// One CSV row per genre (without header), fields quoted where needed.
    pub fn csv_rows(&self) -> String {
        self.genres
            .iter()
            .enumerate()
            .map(|(rank, t)| {
                format!(
                    "{},{},{},{},{:.6}\n",
                    csv_field(&self.source),
                    csv_field(&self.model),
                    rank + 1,
                    csv_field(&t.label),
                    t.probability
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
        let labels = ["jazz", "rock, alt", "pop"].map(String::from);
        Tags::new("a \"b\".ogg", "m", 30.0, 19, &labels, &[0.2, 0.5, 0.3])
    }

    #[test]
    fn ranks_genres_and_formats_a_summary() {
        let tags = tags();
        assert_eq!(tags.top().unwrap().label, "rock, alt");
        assert_eq!(tags.summary_line(2), "rock, alt 50%, pop 30%");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let rows = tags().csv_rows();
        let first = rows.lines().next().unwrap();
        assert_eq!(first, "\"a \"\"b\"\".ogg\",m,1,\"rock, alt\",0.500000");
        assert_eq!(rows.lines().count(), 3);
    }

    #[test]
    fn json_has_every_field() {
        let json: serde_json::Value = serde_json::to_value(tags()).unwrap();
        assert_eq!(json["windows"], 19);
        assert_eq!(json["genres"][0]["label"], "rock, alt");
        assert_eq!(json["genres"].as_array().unwrap().len(), 3);
    }
}
