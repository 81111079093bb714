//! Measures what a server session costs on a big mailbox: open (read-only and
//! read-write) against the physical floor of one sequential read of the file, memory
//! (peak RSS, heap kept per message), fetching every message's metadata, a
//! write-back of \Seen on all messages, an expunge near the start against one copy
//! of the file, and finding one message appended from outside.
//!
//! ```text
//! cargo run --release -p mailbox --example gen -- --format mbox --messages 100000 --seed 1 /tmp/big.mbox
//! cargo run --release -p mailbox --example open_bench -- [--runs N] [--cold] [--no-writes] /tmp/big.mbox
//! ```
//!
//! Everything printed is measured in this run. The write phases change the file (as
//! a client would: \Seen on everything, one message expunged, one appended); use a
//! copy if the original matters. `--cold` drops the file's pages from the page cache
//! (posix_fadvise DONTNEED) before every read and open; without it, all timings are
//! with the file cached, which is what the ratio to one read compares fairly.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailbox::flags::Flags;
use mailbox::mailbox::{Context, Event, Mailbox, Mode, StoreOp};

/// The system allocator, counting live and peak heap octets.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn note_alloc(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters
// are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: the caller upholds GlobalAlloc::alloc's contract, which we forward.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            note_alloc(l.size());
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            note_alloc(l.size());
        }
        p
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: as above.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            LIVE.fetch_sub(l.size(), Relaxed);
            note_alloc(new);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A line of /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    let s = fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn drop_cache(path: &Path) {
    if let Ok(f) = File::open(path) {
        // SAFETY: fadvise on a descriptor we own; a failure only leaves pages cached.
        unsafe {
            libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
        }
    }
}

fn read_once(path: &Path) -> std::io::Result<(Duration, u64)> {
    let t = Instant::now();
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += k as u64;
    }
    Ok((t.elapsed(), n))
}

fn copy_once(from: &Path, to: &Path) -> std::io::Result<Duration> {
    let t = Instant::now();
    let mut src = File::open(from)?;
    let mut dst = File::create(to)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let k = src.read(&mut buf)?;
        if k == 0 {
            break;
        }
        dst.write_all(&buf[..k])?;
    }
    dst.sync_all()?;
    Ok(t.elapsed())
}

struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    Stats {
        median: v[v.len() / 2],
        min: v[0],
        max: v[v.len() - 1],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mib(octets: u64) -> String {
    format!("{:.1} MiB", octets as f64 / 1048576.0)
}

struct Args {
    runs: usize,
    cold: bool,
    writes: bool,
    path: PathBuf,
}

fn parse_args() -> Option<Args> {
    let mut a = std::env::args().skip(1);
    let mut args = Args {
        runs: 5,
        cold: false,
        writes: true,
        path: PathBuf::new(),
    };
    let mut path = None;
    while let Some(x) = a.next() {
        match x.as_str() {
            "--runs" => args.runs = a.next()?.parse().ok().filter(|&n| n > 0)?,
            "--cold" => args.cold = true,
            "--no-writes" => args.writes = false,
            s if s.starts_with('-') => return None,
            _ => path = Some(PathBuf::from(x)),
        }
    }
    args.path = path?;
    Some(args)
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        eprintln!("usage: open_bench [--runs N] [--cold] [--no-writes] MAILBOX");
        return ExitCode::from(2);
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("open_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Resets the heap peak; returns the live heap now.
fn heap_mark() -> usize {
    let live = LIVE.load(Relaxed);
    PEAK.store(live, Relaxed);
    live
}

/// The heap peak since `mark`, above it.
fn heap_peak_since(mark: usize) -> String {
    mib(PEAK.load(Relaxed).saturating_sub(mark) as u64)
}

fn write_phases(a: &Args, mb: &mut Mailbox) -> AnyResult<()> {
    let path = &a.path;
    // \Seen on everything, written back: the first time, over the status fields the
    // file came with; the second time (after clearing \Seen), over pullmail's own.
    for (round, op) in [(1, StoreOp::Add), (2, StoreOp::Remove), (3, StoreOp::Add)] {
        let t = Instant::now();
        let mut changed = 0;
        for seq in 1..=mb.count() {
            changed += mb.store(sq(seq), op, Flags::SEEN, &[])? as u32;
        }
        let store_t = t.elapsed();
        let before = fs::metadata(path)?.len();
        let mark = heap_mark();
        let t = Instant::now();
        mb.checkpoint()?;
        let cp = t.elapsed();
        let after = fs::metadata(path)?.len();
        let what = if op == StoreOp::Add {
            "+\\Seen"
        } else {
            "-\\Seen"
        };
        println!(
            "checkpoint {round}  {what} on all ({changed} changed, {} in memory): {}  file {} -> {} octets, heap peak +{}",
            ms(store_t),
            ms(cp),
            before,
            after,
            heap_peak_since(mark)
        );
    }
    let t = Instant::now();
    mb.checkpoint()?;
    println!("checkpoint    {} with nothing to write", ms(t.elapsed()));

    // Expunge one message near the start, against one copy of the file (read, write,
    // fsync), alternating so that both see the same page cache and disk.
    let copy_path = path.with_extension("bench-copy");
    let (mut copies, mut expunges) = (Vec::new(), Vec::new());
    let mut peak = String::new();
    for _ in 0..a.runs {
        if a.cold {
            drop_cache(path);
        }
        copies.push(copy_once(path, &copy_path)?);
        fs::remove_file(&copy_path)?;
        let victim = 10.min(mb.count());
        let uid = mb.info(sq(victim)).ok_or("no message")?.uid;
        mb.store(sq(victim), StoreOp::Add, Flags::DELETED, &[])?;
        if a.cold {
            drop_cache(path);
        }
        let mark = heap_mark();
        let t = Instant::now();
        let gone = mb.expunge(Some(&[uid]))?;
        expunges.push(t.elapsed());
        peak = heap_peak_since(mark);
        assert_eq!(gone, vec![victim]);
    }
    let (c, e) = (stats(copies), stats(expunges));
    println!(
        "one copy      median {}  min {}  max {}  (read + write + fsync of a new file)",
        ms(c.median),
        ms(c.min),
        ms(c.max)
    );
    println!(
        "expunge seq 10 median {}  min {}  max {}  = {:.2}x one copy (median/median), heap peak +{}",
        ms(e.median),
        ms(e.min),
        ms(e.max),
        e.median.as_secs_f64() / c.median.as_secs_f64(),
        peak
    );

    // A delivery from outside, then the tail scan that finds it.
    let mut f = OpenOptions::new().append(true).open(path)?;
    let msg = if mb.format() == mailbox::format::Format::Mmdf {
        &b"\x01\x01\x01\x01\nFrom bench@example.org  Mon Jan  6 10:00:00 2025\nFrom: bench@example.org\nSubject: late\n\nLate arrival.\n\x01\x01\x01\x01\n"[..]
    } else {
        &b"From bench@example.org  Mon Jan  6 10:00:00 2025\nFrom: bench@example.org\nSubject: late\n\nLate arrival.\n\n"[..]
    };
    f.write_all(msg)?;
    drop(f);
    let t = Instant::now();
    let ev = mb.sync()?;
    let found = ev.iter().any(|e| matches!(e, Event::Exists(_)));
    println!(
        "sync          {} after one message appended from outside (new mail seen: {found})",
        ms(t.elapsed())
    );
    let t = Instant::now();
    let ev = mb.sync()?;
    println!(
        "sync          {} with no change ({} events)",
        ms(t.elapsed()),
        ev.len()
    );
    Ok(())
}

fn run(a: &Args) -> AnyResult<()> {
    let path = &a.path;
    let state = tempfile::tempdir()?;
    let mut ctx = Context::new(state.path(), "bench");
    ctx.state_dir = state.path().join("state");
    ctx.lock.dotlock_helper = None;
    let skipped = Arc::new(AtomicUsize::new(0));
    let s2 = skipped.clone();
    ctx.log = Arc::new(move |m: &str| {
        s2.fetch_add(1, Relaxed);
        if s2.load(Relaxed) <= 5 {
            eprintln!("log: {m}");
        }
    });
    let size = fs::metadata(path)?.len();
    let mode = if a.cold {
        "cold (fadvise DONTNEED before each)"
    } else {
        "page cache warm"
    };
    println!("file          {} ({} octets), {}", mib(size), size, mode);

    // The physical floor: one sequential read with a 1 MiB buffer.
    if !a.cold {
        read_once(path)?; // warm the cache, not counted
    }
    let mut reads = Vec::new();
    for _ in 0..a.runs {
        if a.cold {
            drop_cache(path);
        }
        let (d, n) = read_once(path)?;
        assert_eq!(n, size);
        reads.push(d);
    }
    let read = stats(reads);
    println!(
        "one read      median {}  min {}  max {}  ({:.0} MiB/s)",
        ms(read.median),
        ms(read.min),
        ms(read.max),
        size as f64 / 1048576.0 / read.median.as_secs_f64()
    );

    let rss0 = status_kib("VmRSS");
    let mut count = 0;
    for (label, m) in [
        ("read-only", Mode::ReadOnly),
        ("read-write", Mode::ReadWrite),
    ] {
        let mut times = Vec::new();
        let mut kept = 0usize;
        let mut heap_peak = 0usize;
        let mut rss_delta = 0i64;
        for _ in 0..a.runs {
            if a.cold {
                drop_cache(path);
            }
            let live0 = LIVE.load(Relaxed);
            PEAK.store(live0, Relaxed);
            let rss_before = status_kib("VmRSS") as i64;
            let t = Instant::now();
            let mb = Mailbox::open(path, m, &ctx)?;
            times.push(t.elapsed());
            kept = LIVE.load(Relaxed) - live0;
            heap_peak = PEAK.load(Relaxed) - live0;
            rss_delta = status_kib("VmRSS") as i64 - rss_before;
            count = mb.count();
            drop(mb);
        }
        let s = stats(times);
        println!(
            "open {label:<10} median {}  min {}  max {}  = {:.2}x one read (median/median)",
            ms(s.median),
            ms(s.min),
            ms(s.max),
            s.median.as_secs_f64() / read.median.as_secs_f64()
        );
        println!(
            "  memory      heap kept by the handle {} = {:.0} octets/message; heap peak during open {}; RSS delta {} KiB",
            mib(kept as u64),
            kept as f64 / count.max(1) as f64,
            mib(heap_peak as u64),
            rss_delta
        );
    }
    println!("messages      {count}");
    println!(
        "RSS           before opens {} KiB, peak so far (VmHWM) {} KiB",
        rss0,
        status_kib("VmHWM")
    );

    let mut mb = Mailbox::open(path, Mode::ReadWrite, &ctx)?;
    let t = Instant::now();
    let mut sum = 0u64;
    for seq in 1..=mb.count() {
        let i = mb.info(sq(seq)).ok_or("no info")?;
        sum = sum.wrapping_add(i.uid.get() as u64 + i.rfc822_size + i.flags.bits() as u64);
    }
    println!(
        "info all      {} for {} messages (checksum {sum})",
        ms(t.elapsed()),
        mb.count()
    );
    let t = Instant::now();
    let uids = mb.uids();
    println!("uids()        {} ({} UIDs)", ms(t.elapsed()), uids.len());

    if a.writes {
        write_phases(a, &mut mb)?;
    }
    drop(mb);
    println!("peak RSS      {} KiB (VmHWM)", status_kib("VmHWM"));
    if skipped.load(Relaxed) > 0 {
        println!("log lines     {}", skipped.load(Relaxed));
    }
    Ok(())
}

/// Sequence number `n` (the examples count messages from 1).
fn sq(n: u32) -> mailbox::uid::SeqNumber {
    mailbox::uid::SeqNumber::new(n).unwrap_or(mailbox::uid::SeqNumber::MIN)
}
