//! `make bench`: pullmail's imapd and ipop3d, as real processes over pipes, against
//! the physical floor of the machine they run on (issue 9).
//!
//! ```text
//! cargo run --release -p bench -- [--quick] [--out BENCHMARKS.md]
//!     [--sizes 1000,20000,100000] [--formats mbox,mmdf] [--runs 5]
//!     [--budget 300] [--ops select,fetch-flags,...] [--seed 1]
//!     [--work DIR] [--no-build] [--clean]
//! ```
//!
//! - `--quick`: 1,000 messages, mbox, one run, every answer checked — the smoke test
//!   that `make test` runs so that the benchmark cannot rot. Exits non-zero if any
//!   operation fails or answers wrongly.
//! - Without it: 1,000, 20,000 and 100,000 messages in mbox and MMDF, five runs of
//!   everything; `--out` writes the Markdown report (BENCHMARKS.md). A full run
//!   takes about an hour on 2 cores, most of it APPEND and SEARCH at 100,000.
//! - `--budget SECONDS` (default 300, 0 for none): an operation whose runs in one
//!   table add up to that is not run again (it always runs once; the table says
//!   how many runs each row got) — so that an operation that takes minutes does not
//!   take an hour.
//! - `--ops`: only these operations (the floors are always measured), e.g.
//!   `--sizes 100000 --formats mbox --ops select,fetch-envelope` to check a fix.
//! - `--work DIR` (default `target/bench-work`): generated mailboxes are kept in
//!   `DIR/mailboxes`, keyed by their parameters, and reused; `--clean` deletes them
//!   at the end. Each run works in `DIR/session-PID`, removed at the end unless an
//!   operation failed (it holds the servers' log) — or, run by root from a checkout
//!   the servers' uid cannot enter, in a directory of its own under `/var/tmp`
//!   (see [`server::session_dir`]).
//!
//! How it works, module by module:
//! - [`corpus`]: the mailboxes, generated once by `crates/mailbox/examples/gen.rs`
//!   and kept under `target/bench-work/mailboxes`, keyed by their parameters.
//! - [`server`]: the world the servers run in (a passwd, home and spool of the
//!   bench's own through nss_wrapper), their processes, and their peak RSS;
//!   [`spawn`] starts them.
//! - [`imap`], [`pop`], [`reader`]: the clients.
//! - [`ops`]: the operations, what each one times and checks.
//! - [`floor`]: one read and one copy with fsync, measured in the same rounds.
//! - [`report`], [`machine`]: BENCHMARKS.md.
//!
//! Before measuring, the bench builds what it runs (`cargo build --release -p imapd
//! -p ipop3d -p mailbox --bins --example gen`) unless `--no-build` is given.

mod corpus;
mod floor;
mod imap;
mod machine;
mod ops;
mod pop;
mod reader;
mod report;
mod server;
mod spawn;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use corpus::{AppendSet, Corpus, Format};
use ops::{Context, Floor, Op};
use report::{Report, RowResult, SetResult};
use server::World;

/// Everything that goes wrong, as a sentence for the user.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub fn new(text: impl Into<String>) -> Error {
        Error(text.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error(e.to_string())
    }
}

struct Args {
    quick: bool,
    out: Option<PathBuf>,
    sizes: Vec<usize>,
    formats: Vec<Format>,
    runs: usize,
    work: Option<PathBuf>,
    build: bool,
    clean: bool,
    seed: u64,
    budget: Duration,
    /// Only these operations (keys of [`Op::key`]); all when empty.
    only: Vec<String>,
}

const USAGE: &str = "usage: bench [--quick] [--out FILE] [--sizes N,N,...] [--formats mbox,mmdf] \
                     [--runs N] [--budget SECONDS] [--ops KEY,KEY,...] [--seed S] [--work DIR] \
                     [--no-build] [--clean]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        quick: false,
        out: None,
        sizes: vec![1_000, 20_000, 100_000],
        formats: vec![Format::Mbox, Format::Mmdf],
        runs: 5,
        work: None,
        build: true,
        clean: false,
        seed: 1,
        budget: Duration::from_secs(300),
        only: Vec::new(),
    };
    let (mut sizes, mut formats, mut runs) = (None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{x} needs a value\n{USAGE}"))
        };
        match x.as_str() {
            "--quick" | "--smoke" => a.quick = true,
            "--out" => a.out = Some(PathBuf::from(value()?)),
            "--sizes" => {
                let v = value()?;
                let s: Result<Vec<usize>, _> =
                    v.split(',').map(|n| n.replace('_', "").parse()).collect();
                sizes = Some(s.map_err(|_| format!("bad --sizes {v}"))?);
            }
            "--formats" => {
                let v = value()?;
                let f: Result<Vec<Format>, String> = v
                    .split(',')
                    .map(|f| match f {
                        "mbox" => Ok(Format::Mbox),
                        "mmdf" => Ok(Format::Mmdf),
                        _ => Err(format!("bad format {f}")),
                    })
                    .collect();
                formats = Some(f?);
            }
            "--runs" => {
                let v = value()?;
                runs = Some(
                    v.parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("bad --runs {v}"))?,
                );
            }
            "--seed" => {
                let v = value()?;
                a.seed = v.parse().map_err(|_| format!("bad --seed {v}"))?;
            }
            "--budget" => {
                let v = value()?;
                let secs: u64 = v.parse().map_err(|_| format!("bad --budget {v}"))?;
                a.budget = if secs == 0 {
                    Duration::MAX
                } else {
                    Duration::from_secs(secs)
                };
            }
            "--ops" => {
                let v = value()?;
                let known: Vec<&str> = Op::all(true).iter().map(|o| o.key()).collect();
                for k in v.split(',') {
                    if !known.contains(&k) {
                        return Err(format!("unknown operation {k}; known: {}", known.join(",")));
                    }
                    a.only.push(k.to_string());
                }
            }
            "--work" => a.work = Some(PathBuf::from(value()?)),
            "--no-build" => a.build = false,
            "--clean" => a.clean = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            _ => return Err(format!("unknown argument {x}\n{USAGE}")),
        }
    }
    if a.quick {
        a.sizes = vec![1_000];
        a.formats = vec![Format::Mbox];
        a.runs = 1;
    }
    a.sizes = sizes.unwrap_or(a.sizes);
    a.formats = formats.unwrap_or(a.formats);
    a.runs = runs.unwrap_or(a.runs);
    if a.sizes.iter().any(|&n| n < corpus::BATCH) {
        return Err(format!(
            "sizes must be at least {} (APPEND and COPY move that many)",
            corpus::BATCH
        ));
    }
    Ok(a)
}

/// The workspace root and the target directory the bench was built into.
fn locations() -> Result<(PathBuf, PathBuf), Error> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| Error::new("no workspace above bench/"))?
        .to_path_buf();
    let exe = std::env::current_exe()?;
    // target/release/bench -> target
    let target = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| Error::new("cannot tell the target directory from the bench's path"))?
        .to_path_buf();
    Ok((workspace, target))
}

fn build(workspace: &Path) -> Result<(), Error> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("bench: building imapd, ipop3d and the generator (release)");
    let st = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "imapd",
            "-p",
            "ipop3d",
            "-p",
            "mailbox",
            "--bins",
            "--example",
            "gen",
        ])
        .current_dir(workspace)
        .status()
        .map_err(|e| Error::new(format!("{cargo}: {e}")))?;
    if !st.success() {
        return Err(Error::new(format!("cargo build failed: {st}")));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("bench: some operations FAILED (see above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything; Ok(false) when some operation failed.
fn run(args: &Args) -> Result<bool, Error> {
    let (workspace, target) = locations()?;
    if args.build {
        build(&workspace)?;
    }
    let release = target.join("release");
    let gen = release.join("examples").join("gen");
    if !gen.is_file() {
        return Err(Error::new(format!(
            "{} is missing (cargo build --release -p mailbox --example gen)",
            gen.display()
        )));
    }
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| target.join("bench-work"));
    fs::create_dir_all(&work)?;
    let mailboxes = work.join("mailboxes");
    let session_limit = if args.quick {
        Duration::from_secs(120)
    } else {
        Duration::from_secs(1800)
    };
    server::start_watchdog();
    let (session, private) = server::session_dir(&work)?;
    let world = World::new(&session, &release, session_limit)?;
    let machine = machine::Machine::read(&session, &workspace);
    let append = corpus::append_set(&mailboxes, &gen, args.seed)?;
    let started = Instant::now();
    let mut sets = Vec::new();
    for &size in &args.sizes {
        for &format in &args.formats {
            let corpus = corpus::ensure(&mailboxes, &gen, format, size, args.seed)?;
            let set = measure(&world, &corpus, &append, args)?;
            println!("\n### {}\n\n{}", set.title(), set.table());
            for f in &set.failures {
                println!("FAILED: {f}");
            }
            sets.push(set);
        }
    }
    let ok = sets.iter().all(|s| s.failures.is_empty());
    let mut command = String::from("cargo run --release -p bench --");
    for a in std::env::args().skip(1) {
        command.push(' ');
        command.push_str(&a);
    }
    let report = Report {
        machine,
        date: machine::now_utc(),
        runs: args.runs,
        budget: args.budget,
        quick: args.quick,
        runs_as: world.runs_as(),
        work_dir: session.parent().unwrap_or(&session).display().to_string(),
        command,
        sets,
    };
    if let Some(out) = &args.out {
        fs::write(out, report::markdown(&report))?;
        eprintln!("bench: wrote {}", out.display());
    }
    eprintln!(
        "bench: {} in {}",
        if ok { "done" } else { "done with failures" },
        report::duration(started.elapsed())
    );
    if report.quick && ok {
        println!("bench --quick: every operation answered as expected");
    }
    if ok {
        let _ = fs::remove_dir_all(private.as_ref().unwrap_or(&world.dir));
    } else {
        eprintln!("bench: kept {} for its server log", world.dir.display());
    }
    if args.clean {
        fs::remove_dir_all(&mailboxes)?;
    }
    Ok(ok)
}

/// What INBOX is now, to notice a session that changed it.
fn identity(path: &Path) -> Option<(u64, u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    Some((m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

/// The user's pullmail state after the first session, restored with every fresh
/// copy of INBOX so that every session starts from the same state.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| Some((e.path(), fs::read(e.path()).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

struct Inbox<'a> {
    world: &'a World,
    corpus: &'a Corpus,
    state: Vec<(PathBuf, Vec<u8>)>,
    placed: Option<(u64, u64, i64, i64)>,
}

impl Inbox<'_> {
    /// A fresh copy of the mailbox as INBOX, with the saved state; not timed.
    fn place(&mut self) -> Result<(), Error> {
        let w = self.world;
        let tmp = w.inbox.with_extension("placing");
        floor::place(&self.corpus.path, &tmp)?;
        fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        w.give(&tmp)?;
        fs::rename(&tmp, &w.inbox)?;
        if w.state_dir.exists() {
            fs::remove_dir_all(&w.state_dir)?;
        }
        if !self.state.is_empty() {
            fs::create_dir(&w.state_dir)?;
            fs::set_permissions(
                &w.state_dir,
                std::os::unix::fs::PermissionsExt::from_mode(0o700),
            )?;
            w.give(&w.state_dir)?;
            for (path, bytes) in &self.state {
                corpus::write_synced(path, bytes)?;
                fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
                w.give(path)?;
            }
        }
        for entry in fs::read_dir(&w.mail_dir)?.flatten() {
            fs::remove_file(entry.path())?;
        }
        self.placed = identity(&w.inbox);
        Ok(())
    }

    /// Places a fresh copy if `op` changes INBOX or the last session changed it.
    fn prepare(&mut self, op: Op) -> Result<(), Error> {
        if op.changes_inbox() || identity(&self.world.inbox) != self.placed {
            self.place()?;
        }
        Ok(())
    }
}

fn measure(
    world: &World,
    corpus: &Corpus,
    append: &AppendSet,
    args: &Args,
) -> Result<SetResult, Error> {
    let (runs, budget) = (args.runs, args.budget);
    let started = Instant::now();
    eprintln!(
        "bench: {} messages, {} ({} octets), {runs} run(s)",
        corpus.messages,
        corpus.format.label(),
        corpus.octets
    );
    world.configure(corpus.format)?;
    let mut inbox = Inbox {
        world,
        corpus,
        state: Vec::new(),
        placed: None,
    };
    inbox.place()?;
    // Warm up: the page cache, and the first session's \Recent claims and UIDs for
    // the unstamped messages, which every later session then finds in ~/.pullmail.
    floor::read_once(&corpus.path)?;
    {
        let (mut imap, _) = imap::Imap::start(world, server::Start::Preauth)?;
        imap.select(corpus.messages)?;
        imap.logout()?;
    }
    inbox.state = snapshot(&world.state_dir);
    inbox.placed = identity(&world.inbox);

    let load_before = machine::load_average();
    let mut rows: BTreeMap<ops::Row, RowResult> = BTreeMap::new();
    let mut floors: BTreeMap<Floor, Vec<Duration>> = BTreeMap::new();
    let mut failures = Vec::new();
    let scratch = world.dir.join("floor-copy");
    let ops: Vec<Op> = Op::all(world.is_root())
        .into_iter()
        .filter(|o| args.only.is_empty() || args.only.iter().any(|k| k == o.key()))
        .collect();
    // Wall time spent on each operation so far: one that has used up the budget
    // is not run again (it has run at least once).
    let mut spent: Vec<Duration> = vec![Duration::ZERO; ops.len()];
    for round in 0..runs {
        eprintln!("bench:   round {}/{runs}", round + 1);
        for f in Floor::ALL {
            let took = match f {
                Floor::Read => floor::read_once(&corpus.path)?,
                Floor::Copy => floor::copy_once(&corpus.path, 0, corpus.octets, &scratch)?,
                Floor::AppendEach => floor::write_each(&append.messages, &scratch)?,
                Floor::CopySet => floor::copy_once(
                    &corpus.path,
                    corpus.tail_start,
                    corpus.octets - corpus.tail_start,
                    &scratch,
                )?,
            };
            floors.entry(f).or_default().push(took);
        }
        for (i, &op) in ops.iter().enumerate() {
            if spent[i] >= budget {
                continue;
            }
            inbox.prepare(op)?;
            let cx = Context {
                world,
                corpus,
                append,
                verify: round == 0,
            };
            let t = Instant::now();
            let result = ops::run(op, &cx);
            spent[i] += t.elapsed();
            if spent[i] >= budget && round + 1 < runs {
                eprintln!(
                    "bench:   {} used its time budget ({}) in {} run(s); no more runs",
                    op.name(),
                    report::duration(spent[i]),
                    round + 1
                );
            }
            match result {
                Ok(sample) => {
                    for (row, took) in sample.times {
                        let r = rows.entry(row).or_insert_with(|| RowResult {
                            exact: true,
                            ..RowResult::default()
                        });
                        r.times.push(took);
                        r.hwm_kib = r.hwm_kib.max(sample.exit.hwm_kib);
                        r.exact &= sample.exit.exact;
                    }
                }
                Err(e) => {
                    let text = format!(
                        "{} messages {}, round {}: {}: {e} (server log: {})",
                        corpus.messages,
                        corpus.format.label(),
                        round + 1,
                        op.name(),
                        world.log_path.display()
                    );
                    eprintln!("bench: FAILED {text}");
                    failures.push(text);
                    // The next operation gets a clean INBOX whatever this one left.
                    inbox.placed = None;
                }
            }
        }
    }
    Ok(SetResult {
        messages: corpus.messages,
        format: corpus.format,
        octets: corpus.octets,
        rows,
        floors,
        failures,
        load_before,
        load_after: machine::load_average(),
        elapsed: started.elapsed(),
    })
}
