//! The closing line of `tag` and `untag` on stderr: how many files had what done, every count
//! in a fixed order, zeros included, so that scripts can read it:
//! `tagged 812 · kept 40 · unchanged 1203 · failed 3 · skipped 2`.

use std::fmt;

/// Files counted by what happened to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Each outcome's name and count, in the order they are printed.
    counts: Vec<(&'static str, usize)>,
}

impl Summary {
    /// No file yet, for these outcomes.
    pub fn new(outcomes: &[&'static str]) -> Self {
        Self {
            counts: outcomes.iter().map(|&name| (name, 0)).collect(),
        }
    }

    /// Counts one file as `outcome` (one of those given to [`Summary::new`]).
    pub fn add(&mut self, outcome: &str) {
        let count = self
            .counts
            .iter_mut()
            .find(|(name, _)| *name == outcome)
            .expect("a known outcome");
        count.1 += 1;
    }

    /// How many files had `outcome`.
    pub fn count(&self, outcome: &str) -> usize {
        self.counts
            .iter()
            .find(|(name, _)| *name == outcome)
            .map_or(0, |(_, count)| *count)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(name, count)| format!("{name} {count}"))
            .collect();
        f.write_str(&parts.join(" · "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_is_counted_and_printed_in_its_order_zeros_too() {
        let mut summary = Summary::new(&["tagged", "kept", "failed"]);
        for outcome in ["failed", "tagged", "tagged"] {
            summary.add(outcome);
        }
        assert_eq!(summary.to_string(), "tagged 2 · kept 0 · failed 1");
        assert_eq!(summary.count("tagged"), 2);
        assert_eq!(summary.count("other"), 0);
    }
}
