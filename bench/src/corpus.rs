//! The mailboxes the bench measures: made by the mailbox crate's seeded generator
//! (`crates/mailbox/examples/gen.rs`), then given a rare word, and kept under the
//! work directory keyed by everything that decides their bytes (format, count,
//! seed, and a hash of the generator's source and of this file's planting rule), so
//! that a second run reuses them and a changed generator makes new ones.
//!
//! # The rare word
//! The generator writes text from a small vocabulary, so every word in it is
//! common. The bench plants [`RARE_WORD`] in [`PLANTED`] messages spread over the
//! mailbox: in each, the first ` schedule ` of the body becomes ` zeppelin ` (same
//! length, so no offset moves and the generator's sizes stay as they were). The
//! messages chosen are fixed by the file, so SEARCH must answer exactly their UIDs.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

pub const RARE_WORD: &str = "zeppelin";
const REPLACED: &[u8] = b" schedule ";
/// How many messages carry [`RARE_WORD`].
pub const PLANTED: usize = 5;
/// Messages in the APPEND set and in a COPY.
pub const BATCH: usize = 1000;
const MMDF_DELIMITER: &[u8] = b"\x01\x01\x01\x01\n";
const PSEUDO_SUBJECT: &[u8] = b"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA";

/// Bumped when the planting rule or the metadata change.
const PLANT_VERSION: u32 = 1;
const GENERATOR_SOURCE: &[u8] = include_bytes!("../../crates/mailbox/examples/gen.rs");

#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Format {
    Mbox,
    Mmdf,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Mbox => "mbox",
            Format::Mmdf => "mmdf",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Format::Mbox => "mbox",
            Format::Mmdf => "MMDF",
        }
    }
}

/// A generated mailbox, never changed once made: the bench works on copies.
pub struct Corpus {
    pub path: PathBuf,
    pub format: Format,
    pub messages: usize,
    pub octets: u64,
    /// Sequence numbers (and UIDs: the generator numbers messages 1..N and the
    /// unstamped tail gets the next UIDs in order) of the messages with the word.
    pub planted: Vec<u32>,
    /// Where the last [`BATCH`] messages begin: what COPY copies.
    pub tail_start: u64,
}

fn fnv(data: &[u8], mut h: u64) -> u64 {
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn generator_key() -> String {
    let h = fnv(GENERATOR_SOURCE, 0xcbf29ce484222325);
    format!("{:08x}", fnv(&PLANT_VERSION.to_le_bytes(), h) as u32)
}

fn run_generator(
    gen: &Path,
    format: Format,
    messages: usize,
    seed: u64,
    style: &str,
    out: &Path,
) -> Result<(), Error> {
    let st = Command::new(gen)
        .args(["--format", format.name(), "--messages"])
        .arg(messages.to_string())
        .arg("--seed")
        .arg(seed.to_string())
        .args(["--style", style])
        .arg(out)
        .status()
        .map_err(|e| Error::new(format!("{}: {e}", gen.display())))?;
    if !st.success() {
        return Err(Error::new(format!("{} failed: {st}", gen.display())));
    }
    Ok(())
}

/// The mailbox of `messages` messages in `format` under `dir`, made if missing.
pub fn ensure(
    dir: &Path,
    gen: &Path,
    format: Format,
    messages: usize,
    seed: u64,
) -> Result<Corpus, Error> {
    fs::create_dir_all(dir)?;
    let base = format!(
        "{}-{messages}-seed{seed}-gen{}",
        format.name(),
        generator_key()
    );
    let path = dir.join(format!("{base}.{}", format.name()));
    let meta = dir.join(format!("{base}.meta"));
    if let Some(c) = read_meta(&path, &meta, format) {
        return Ok(c);
    }
    let tmp = dir.join(format!("{base}.tmp{}", std::process::id()));
    eprintln!(
        "bench: generating {messages} messages ({}) -> {}",
        format.label(),
        path.display()
    );
    run_generator(gen, format, messages, seed, "mixed", &tmp)?;
    let (planted, tail_start) = plant(&tmp, format, messages)?;
    let octets = fs::metadata(&tmp)?.len();
    fs::rename(&tmp, &path)?;
    let planted_text: Vec<String> = planted.iter().map(|p| p.to_string()).collect();
    let tmp_meta = meta.with_extension(format!("meta.tmp{}", std::process::id()));
    fs::write(
        &tmp_meta,
        format!(
            "messages {messages}\noctets {octets}\nplanted {}\ntail_start {tail_start}\n",
            planted_text.join(" ")
        ),
    )?;
    fs::rename(&tmp_meta, &meta)?;
    Ok(Corpus {
        path,
        format,
        messages,
        octets,
        planted,
        tail_start,
    })
}

fn read_meta(path: &Path, meta: &Path, format: Format) -> Option<Corpus> {
    let text = fs::read_to_string(meta).ok()?;
    let field = |name: &str| -> Option<&str> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
    };
    let octets: u64 = field("octets")?.parse().ok()?;
    if fs::metadata(path).ok()?.len() != octets {
        return None;
    }
    let planted: Option<Vec<u32>> = field("planted")?
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect();
    Some(Corpus {
        path: path.to_path_buf(),
        format,
        messages: field("messages")?.parse().ok()?,
        octets,
        planted: planted?,
        tail_start: field("tail_start")?.parse().ok()?,
    })
}

/// One pass over the file: finds message boundaries, puts the rare word into
/// [`PLANTED`] messages, and returns their sequence numbers and where the last
/// [`BATCH`] messages start.
fn plant(path: &Path, format: Format, expected: usize) -> Result<(Vec<u32>, u64), Error> {
    let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
    let targets: Vec<usize> = (1..=PLANTED)
        .map(|j| (j * expected / (PLANTED + 1)).max(1))
        .collect();
    let mut starts: Vec<u64> = Vec::with_capacity(expected + 1);
    let mut pseudo = false;
    let mut in_mmdf_message = false;
    let mut in_header = false;
    let mut want = false;
    let mut next_target = 0;
    let mut planted = Vec::new();
    let mut spots = Vec::new();
    let mut offset = 0u64;
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let at = offset;
        offset += line.len() as u64;
        let starts_message = match format {
            // Delivery agents quote body lines that begin "From ", so every such line
            // is a boundary.
            Format::Mbox => line.starts_with(b"From "),
            Format::Mmdf => {
                if line == MMDF_DELIMITER {
                    in_mmdf_message = !in_mmdf_message;
                    if !in_mmdf_message {
                        continue;
                    }
                    true
                } else {
                    false
                }
            }
        };
        if starts_message {
            starts.push(at);
            in_header = true;
            let real = starts.len() - pseudo as usize;
            if next_target < targets.len() && real >= targets[next_target] {
                want = true;
            }
            continue;
        }
        if in_header {
            if starts.len() == 1 && line.starts_with(PSEUDO_SUBJECT) {
                pseudo = true;
            }
            if line == b"\n" {
                in_header = false;
            }
            continue;
        }
        if want {
            if let Some(i) = memchr::memmem::find(&line, REPLACED) {
                spots.push(at + i as u64 + 1);
                planted.push((starts.len() - pseudo as usize) as u32);
                want = false;
                next_target += 1;
            }
        }
    }
    let real = &starts[pseudo as usize..];
    if real.len() != expected {
        return Err(Error::new(format!(
            "{}: found {} messages, the generator was asked for {expected}",
            path.display(),
            real.len()
        )));
    }
    if planted.len() != PLANTED {
        return Err(Error::new(format!(
            "{}: found a place for the rare word in only {} messages",
            path.display(),
            planted.len()
        )));
    }
    let f = fs::OpenOptions::new().write(true).open(path)?;
    for &spot in &spots {
        f.write_all_at(RARE_WORD.as_bytes(), spot)?;
    }
    f.sync_all()?;
    let tail_start = real[real.len().saturating_sub(BATCH)];
    Ok((planted, tail_start))
}

/// The messages APPEND sends: a fresh spool's worth (Postfix style, another seed),
/// each as it goes on the wire (no From_ line, `>From ` unquoted, CRLF).
pub struct AppendSet {
    pub messages: Vec<Vec<u8>>,
}

pub fn append_set(dir: &Path, gen: &Path, seed: u64) -> Result<AppendSet, Error> {
    fs::create_dir_all(dir)?;
    let file = dir.join(format!(
        "append-mbox-{BATCH}-seed{}-gen{}.mbox",
        seed + 1,
        generator_key()
    ));
    if !file.exists() {
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        run_generator(gen, Format::Mbox, BATCH, seed + 1, "postfix", &tmp)?;
        fs::rename(&tmp, &file)?;
    }
    let data = fs::read(&file)?;
    let mut messages: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
    let mut current: Option<Vec<u8>> = None;
    for l in data.split_inclusive(|&b| b == b'\n') {
        if l.starts_with(b"From ") {
            if let Some(m) = current.take() {
                messages.push(finish_message(m));
            }
            current = Some(Vec::with_capacity(16 * 1024));
            continue;
        }
        let Some(m) = current.as_mut() else { continue };
        let body = l.strip_suffix(b"\n").unwrap_or(l);
        // mboxrd quoting: `>From `, `>>From `... lose one `>`.
        let gts = body.iter().take_while(|&&c| c == b'>').count();
        let unquoted = if gts > 0 && body[gts..].starts_with(b"From ") {
            &body[1..]
        } else {
            body
        };
        m.extend_from_slice(unquoted);
        m.extend_from_slice(b"\r\n");
    }
    if let Some(m) = current.take() {
        messages.push(finish_message(m));
    }
    if messages.len() != BATCH {
        return Err(Error::new(format!(
            "{}: {} messages, expected {BATCH}",
            file.display(),
            messages.len()
        )));
    }
    Ok(AppendSet { messages })
}

/// Drops the blank line that separates mbox messages.
fn finish_message(mut m: Vec<u8>) -> Vec<u8> {
    if m.ends_with(b"\r\n\r\n") {
        m.truncate(m.len() - 2);
    }
    m
}

/// Writes `text` to `path` and fsyncs it (small files the bench prepares).
pub fn write_synced(path: &Path, text: &[u8]) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(text)?;
    f.sync_all()
}
