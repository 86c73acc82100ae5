//! The standalone application (`genrescope --backend dummy|jack|alsa ...`, see `--help`) and
//! the command line analyzer (`genrescope analyze <files|folders> ...`, see
//! `genrescope analyze --help`).

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("analyze") {
        std::process::exit(genrescope::cli::analyze(args));
    }
    nice_plug::nice_export_standalone::<genrescope::Genrescope>();
}
