//! pullmail-dist: prints what the distribution files are made from, so that
//! `make` can regenerate them and the tests in `tests/` can hold them to it.
//! Not installed.
//!
//! ```text
//! pullmail-dist example-config    etc/pullmail.conf: every key at its default
//! pullmail-dist keys              one `name<TAB>default` line per key
//! ```

use std::process::ExitCode;

use daemon::config::KEYS;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["example-config"] => print!("{}", pullmail_dist::example_config()),
        ["keys"] => {
            for key in KEYS {
                println!("{}\t{}", key.name, key.default);
            }
        }
        _ => {
            eprintln!("usage: pullmail-dist example-config | keys");
            return ExitCode::from(64);
        }
    }
    ExitCode::SUCCESS
}
