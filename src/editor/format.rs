//! How the editor writes counts and lengths of audio.

/// `1 window`, `7 windows`: `noun` with an `s` unless there is exactly one.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A length of audio as `m:ss`, rounded to the second (`0:06`, `12:00`).
pub fn minutes_seconds(seconds: f32) -> String {
    let total = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

/// A style or mood tag as the editor shows it: in lower case, as most of a tagger's tags are
/// (musicnn's `House` and `Mellow` beside `dance` and `chillout`).
pub fn tag(tag: &str) -> String {
    tag.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_every_other_count_plural() {
        assert_eq!(count(0, "window"), "0 windows");
        assert_eq!(count(1, "window"), "1 window");
        assert_eq!(count(2, "window"), "2 windows");
    }

    #[test]
    fn lengths_round_to_whole_seconds_without_a_sixtieth_second() {
        assert_eq!(minutes_seconds(6.0), "0:06");
        assert_eq!(minutes_seconds(59.6), "1:00");
        assert_eq!(minutes_seconds(725.2), "12:05");
        assert_eq!(minutes_seconds(-1.0), "0:00");
    }

    #[test]
    fn tags_share_one_capitalisation() {
        let shown: Vec<String> = ["dance", "House", "00s", "Hip-Hop"]
            .into_iter()
            .map(tag)
            .collect();
        assert_eq!(shown, ["dance", "house", "00s", "hip-hop"]);
    }
}
