//! The mood vocabulary: the four quadrants of Russell's valence–arousal plane as the 4Q
//! music-emotion dataset labels them (Panda, Malheiro & Paiva 2018), with the names people use.
//! Ids (`q1`…`q4`) are what JSON, CSV and model labels carry; names are what people read.

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

/// The quadrant a 4Q dataset path names (`Dataset/Q2/MT0000011357.mp3` → `q2`).
pub fn from_dataset_path(path: &str) -> Option<&'static Mood> {
    path.split(['/', '\\']).find_map(|part| {
        (part.len() == 2 && part.starts_with(['Q', 'q']))
            .then(|| find(part))
            .flatten()
    })
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
    }
}
