//! Markdown tables as every report writer lays them out: `| a | b |` rows under a `|---|---|`
//! rule. One place for the layout, so that the reports (`genre-v2`, `distill`, `train-all`,
//! `eval`, `augment-study`) stay byte for byte what they were.

use std::fmt::{Display, Write as _};

/// One row, `| a | b |` and a newline. An empty cell is one space (`| |`).
pub fn row<T: Display>(cells: impl IntoIterator<Item = T>) -> String {
    let mut line = String::from("|");
    for cell in cells {
        let start = line.len();
        let _ = write!(line, " {cell}");
        if line.len() == start + 1 {
            line.truncate(start);
        }
        line += " |";
    }
    line.push('\n');
    line
}

/// The header row and the rule under it, `|---|` for each column.
pub fn header<T: Display>(cells: impl IntoIterator<Item = T>) -> String {
    let mut columns = 0;
    let mut text = row(cells.into_iter().inspect(|_| columns += 1));
    text += "|";
    text += &"---|".repeat(columns);
    text.push('\n');
    text
}

/// `text` as one cell: a `|` in it would end the cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_laid_out_as_the_reports_always_were() {
        assert_eq!(header(["a", "b c"]), "| a | b c |\n|---|---|\n");
        assert_eq!(row(["x", "1.000"]), "| x | 1.000 |\n");
        // The corner of a confusion matrix and a reference row's empty columns: one space.
        assert_eq!(
            header(["", "Pop", "Rock"]),
            "| | Pop | Rock |\n|---|---|---|\n"
        );
        assert_eq!(row(["t", "", ""]), "| t | | |\n");
        // Mixed cells.
        let cells: [&dyn Display; 3] = [&"**Pop**", &0.5_f64, &format!("{:.3}", 0.25)];
        assert_eq!(row(cells), "| **Pop** | 0.5 | 0.250 |\n");
        assert_eq!(row(Vec::<String>::new()), "|\n");
        assert_eq!(cell("Pop | Rock"), "Pop \\| Rock");
    }
}
