//! The physical floor, measured in the same run as the servers and interleaved
//! with them, so that both see the same page cache, disk and neighbours: one
//! sequential read of a file, and one copy of it (read, write a new file, fsync)
//! — what any server must at least do to scan a mailbox, or to rewrite it.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const BUFFER: usize = 1 << 20;

/// Reads `path` from start to end with a 1 MiB buffer.
pub fn read_once(path: &Path) -> io::Result<Duration> {
    let mut buf = vec![0u8; BUFFER];
    let t = Instant::now();
    let mut f = File::open(path)?;
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(t.elapsed())
}

/// Copies `len` octets of `from` starting at `offset` into a new file `to`, with
/// fsync, then removes `to` (not timed).
pub fn copy_once(from: &Path, offset: u64, len: u64, to: &Path) -> io::Result<Duration> {
    let mut buf = vec![0u8; BUFFER];
    let _ = fs::remove_file(to);
    let t = Instant::now();
    let mut src = File::open(from)?;
    src.seek(SeekFrom::Start(offset))?;
    let mut src = src.take(len);
    let mut dst = File::create(to)?;
    loop {
        let k = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        dst.write_all(&buf[..k])?;
    }
    dst.sync_all()?;
    let took = t.elapsed();
    drop(dst);
    fs::remove_file(to)?;
    Ok(took)
}

/// Writes `messages` one after another to a new file `to`, with fsync after each,
/// then removes `to` (not timed).
pub fn write_each(messages: &[Vec<u8>], to: &Path) -> io::Result<Duration> {
    let _ = fs::remove_file(to);
    let t = Instant::now();
    let mut dst = File::create(to)?;
    for m in messages {
        dst.write_all(m)?;
        dst.sync_all()?;
    }
    let took = t.elapsed();
    drop(dst);
    fs::remove_file(to)?;
    Ok(took)
}

/// An untimed copy with fsync, so that the copy's pages are clean and no
/// write-back of it runs during the next measurement.
pub fn place(from: &Path, to: &Path) -> io::Result<()> {
    fs::copy(from, to)?;
    File::open(to)?.sync_all()
}
