//! `bundle`: nice-plug's bundler, with the standalone application built too.

/// Opts a `bundle` out of building the standalone application (and its ALSA/JACK headers).
const NO_STANDALONE: &str = "--no-standalone";

pub fn run(args: Vec<String>) -> anyhow::Result<()> {
    nice_plug_xtask::main_with_args("cargo xtask", with_standalone(args))
}

/// For `bundle`, enables the plugin's `standalone` feature so that the standalone binary (which
/// requires it) is built and bundled next to the plugins. The plugin library itself does not
/// link ALSA or JACK either way.
fn with_standalone(mut args: Vec<String>) -> Vec<String> {
    let opted_out = args.iter().any(|arg| arg == NO_STANDALONE);
    args.retain(|arg| arg != NO_STANDALONE);
    if args.first().is_some_and(|cmd| cmd == "bundle") && !opted_out {
        args.extend(["--features".to_owned(), "standalone".to_owned()]);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bundle_builds_the_standalone_unless_opted_out() {
        assert_eq!(
            with_standalone(strings(&["bundle", "genrescope", "--release"])),
            strings(&[
                "bundle",
                "genrescope",
                "--release",
                "--features",
                "standalone"
            ])
        );
        assert_eq!(
            with_standalone(strings(&["bundle", "genrescope", "--no-standalone"])),
            strings(&["bundle", "genrescope"])
        );
        assert_eq!(
            with_standalone(strings(&["known-packages"])),
            strings(&["known-packages"])
        );
    }
}
