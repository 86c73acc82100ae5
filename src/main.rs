//! The standalone application (`genrescope --backend dummy|jack|alsa ...`, see `--help`) and
//! the command line analyzer (`genrescope analyze <files|folders> ...`, see
//! `genrescope analyze --help`), the tagger (`genrescope tag`, `genrescope untag`) and
//! `genrescope merge`.

use std::io::Write;

use clap::CommandFactory;

/// A command of the binary besides the standalone app: `genrescope <name> ...`.
struct Subcommand {
    name: &'static str,
    /// Its clap command: the description `--help` lists, and its own `--help`.
    command: fn() -> clap::Command,
    /// Runs it on the arguments after its name; returns the process exit code.
    run: fn(Vec<String>) -> i32,
}

const SUBCOMMANDS: &[Subcommand] = &[
    Subcommand {
        name: "analyze",
        command: genrescope::cli::AnalyzeArgs::command,
        run: |args| genrescope::cli::analyze(args),
    },
    Subcommand {
        name: "tag",
        command: genrescope::cli::TagArgs::command,
        run: |args| genrescope::cli::tag(args),
    },
    Subcommand {
        name: "untag",
        command: genrescope::cli::UntagArgs::command,
        run: |args| genrescope::cli::untag(args),
    },
    Subcommand {
        name: "merge",
        command: genrescope::cli::MergeArgs::command,
        run: |args| genrescope::cli::merge(args),
    },
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let first = args.get(1).map(String::as_str);
    if let Some(sub) = SUBCOMMANDS.iter().find(|sub| Some(sub.name) == first) {
        std::process::exit((sub.run)(args[2..].to_vec()));
    }
    match (first, args.get(2).map(String::as_str)) {
        // `help analyze`: that command's help.
        (Some("help"), Some(name)) => {
            if let Some(sub) = SUBCOMMANDS.iter().find(|sub| sub.name == name) {
                std::process::exit((sub.run)(vec!["--help".to_owned()]));
            }
        }
        // The commands, then the standalone app's options (nice-plug prints those and exits).
        (Some("-h" | "--help" | "help"), None) => {
            print!("{}", overview());
            let _ = std::io::stdout().flush();
            let help = if first == Some("-h") { "-h" } else { "--help" };
            nice_plug::wrapper::standalone::nice_export_standalone_with_args::<
                genrescope::Genrescope,
                _,
            >([args[0].clone(), help.to_owned()]);
            return;
        }
        _ => {}
    }
    nice_plug::nice_export_standalone::<genrescope::Genrescope>();
}

/// What `--help` prints before the standalone app's options: the commands, one line each.
fn overview() -> String {
    let mut text = String::from(
        "genrescope: real-time music genre analysis. Without a command it runs the plugin as a \
         standalone app (options below).\n\nCommands:\n",
    );
    let width = SUBCOMMANDS
        .iter()
        .map(|sub| sub.name.len())
        .max()
        .unwrap_or(0);
    for sub in SUBCOMMANDS {
        let about = (sub.command)()
            .get_about()
            .map(ToString::to_string)
            .unwrap_or_default();
        text += &format!(
            "  {:width$}  {about} (`genrescope {} --help`)\n",
            sub.name, sub.name
        );
    }
    text += "\nStandalone app:\n";
    text
}
