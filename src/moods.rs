//! The mood vocabulary: the four quadrants of Russell's valence–arousal plane as the 4Q
//! music-emotion dataset labels them (Panda, Malheiro & Paiva 2018), with the names people use.
//! Ids (`q1`…`q4`) are what JSON, CSV and model labels carry; names are what people read.

use serde::{Deserialize, Serialize};

/// One quadrant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mood {
    /// `q1`…`q4`, the dataset's quadrant.
    pub id: &'static str,
    /// The name shown to people.
    pub name: &'static str,
    /// Where it sits on the valence–arousal plane.
    pub plane: &'static str,
}

/// The four quadrants, in the dataset's order.
pub const MOODS: [Mood; 4] = [
    Mood {
        id: "q1",
        name: "Happy / Energetic",
        plane: "positive valence, high arousal",
    },
    Mood {
        id: "q2",
        name: "Tense / Angry",
        plane: "negative valence, high arousal",
    },
    Mood {
        id: "q3",
        name: "Sad",
        plane: "negative valence, low arousal",
    },
    Mood {
        id: "q4",
        name: "Calm / Tender",
        plane: "positive valence, low arousal",
    },
];

/// The mood with id `id` (case-insensitive; `Q3` and `q3` alike).
pub fn find(id: &str) -> Option<&'static Mood> {
    MOODS.iter().find(|m| m.id.eq_ignore_ascii_case(id.trim()))
}

/// How a mood model's label reads: its quadrant's name (`q2` → `Tense / Angry`), or the label
/// itself when it names no quadrant.
pub fn name_of(label: &str) -> &str {
    find(label).map_or(label, |m| m.name)
}

/// The quadrant a 4Q dataset path names (`Dataset/Q2/MT0000011357.mp3` → `q2`).
pub fn from_dataset_path(path: &str) -> Option<&'static Mood> {
    path.split(['/', '\\']).find_map(|part| {
        (part.len() == 2 && part.starts_with(['Q', 'q']))
            .then(|| find(part))
            .flatten()
    })
}

/// One quadrant's probability in a track's mood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quadrant {
    /// `q1`…`q4` (or the model's label when it is not a quadrant).
    pub id: String,
    pub name: String,
    /// 0–1; the quadrants of a distribution sum to 1.
    pub probability: f32,
}

/// A track's (or a context's) mood as `analyze` reports it: the most likely quadrant, and
/// every quadrant in the model's label order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoodReading {
    /// Id of the most likely quadrant.
    pub top: String,
    /// Its name and probability.
    pub name: String,
    pub probability: f32,
    pub quadrants: Vec<Quadrant>,
}

impl MoodReading {
    /// `probabilities[i]` is the probability of the model label `labels[i]` (`q1`…);
    /// `None` without labels.
    pub fn new(labels: &[String], probabilities: &[f32]) -> Option<Self> {
        let quadrants: Vec<Quadrant> = labels
            .iter()
            .zip(probabilities)
            .map(|(label, &probability)| Quadrant {
                id: find(label).map_or_else(|| label.clone(), |m| m.id.to_owned()),
                name: name_of(label).to_owned(),
                probability,
            })
            .collect();
        let top = quadrants
            .iter()
            .max_by(|a, b| a.probability.total_cmp(&b.probability))?
            .clone();
        Some(Self {
            top: top.id,
            name: top.name,
            probability: top.probability,
            quadrants,
        })
    }

    /// `Happy / Energetic (62%)`.
    pub fn summary(&self) -> String {
        format!("{} ({:.0}%)", self.name, self.probability * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrants_come_from_dataset_paths() {
        assert_eq!(
            from_dataset_path("Dataset/Q2/MT0000011357.mp3").unwrap().id,
            "q2"
        );
        assert_eq!(from_dataset_path("Q4/x.mp3").unwrap().name, "Calm / Tender");
        assert!(from_dataset_path("Dataset/Q5/x.mp3").is_none());
        assert!(from_dataset_path("sample_audio/chacha.mp3").is_none());
        assert_eq!(find("Q1").unwrap().name, "Happy / Energetic");
        assert_eq!(name_of("q3"), "Sad");
        assert_eq!(
            name_of("valence"),
            "valence",
            "not a quadrant: the label as it is"
        );
    }
    #[test]
    fn a_reading_names_the_quadrants_and_the_most_likely_one() {
        let labels: Vec<String> = ["q1", "q2", "q3", "q4"].map(String::from).to_vec();
        let reading = MoodReading::new(&labels, &[0.1, 0.6, 0.2, 0.1]).unwrap();
        assert_eq!(
            (reading.top.as_str(), reading.name.as_str()),
            ("q2", "Tense / Angry")
        );
        assert_eq!(reading.summary(), "Tense / Angry (60%)");
        assert_eq!(reading.quadrants[3].name, "Calm / Tender");
        assert_eq!(reading.quadrants[2].probability, 0.2);
        assert!(MoodReading::new(&[], &[]).is_none());
    }
}
