//! A minimal IMAP4rev1 client over a server's pipes: tagged commands, responses
//! read whole (a line and the literals it announces), LITERAL+ for pipelined
//! APPENDs. Every command must end in a tagged OK; anything else is an error that
//! names the command and quotes the server's answer.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::server::{Exit, Process, Program, Start, World};
use crate::Error;

pub struct Imap {
    pub process: Process,
    tag: u32,
    response: Vec<u8>,
}

fn shown(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    let s = s.trim_end();
    if s.chars().count() > 200 {
        format!("{}...", s.chars().take(200).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The literal a response line announces at its end, `{N}CRLF`.
fn literal_size(line: &[u8]) -> Option<usize> {
    let l = line.strip_suffix(b"}\r\n")?;
    let open = l.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&l[open + 1..]).ok()?.parse().ok()
}

impl Imap {
    /// Starts imapd; returns the client and the time from before the spawn to the
    /// whole greeting line.
    pub fn start(world: &World, start: Start) -> Result<(Imap, Duration), Error> {
        let t = Instant::now();
        let process = world.spawn(Program::Imapd, start)?;
        let mut imap = Imap {
            process,
            tag: 0,
            response: Vec::with_capacity(64 * 1024),
        };
        imap.read_response()?;
        let took = t.elapsed();
        let want: &[u8] = match start {
            Start::Preauth => b"* PREAUTH ",
            Start::Root => b"* OK ",
        };
        if !imap.response.starts_with(want) {
            return Err(Error::new(format!(
                "imapd greeted {:?}, expected {:?}",
                shown(&imap.response),
                String::from_utf8_lossy(want).trim()
            )));
        }
        Ok((imap, took))
    }

    /// Reads one response into `self.response`.
    fn read_response(&mut self) -> Result<(), Error> {
        self.response.clear();
        loop {
            self.process.output.read_line(&mut self.response)?;
            match literal_size(&self.response) {
                Some(n) => self.process.output.read_exact_into(n, &mut self.response)?,
                None => return Ok(()),
            }
        }
    }

    pub fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("b{}", self.tag)
    }

    /// Sends `command`, hands every untagged response to `untagged`, and returns
    /// the tagged OK line.
    pub fn command(
        &mut self,
        command: &str,
        mut untagged: impl FnMut(&[u8]),
    ) -> Result<String, Error> {
        let tag = self.next_tag();
        self.process
            .send(format!("{tag} {command}\r\n").as_bytes())?;
        let prefix = format!("{tag} ");
        let mut bye = None;
        loop {
            if let Err(e) = self.read_response() {
                return Err(match bye {
                    Some(b) => Error::new(format!("IMAP {command:?}: {b}")),
                    None => Error::new(format!("IMAP {command:?}: {e}")),
                });
            }
            if let Some(rest) = self.response.strip_prefix(prefix.as_bytes()) {
                if rest.starts_with(b"OK") {
                    return Ok(shown(rest));
                }
                return Err(Error::new(format!(
                    "IMAP {command:?}: {}",
                    shown(&self.response)
                )));
            }
            if self.response.starts_with(b"* BYE") {
                bye = Some(shown(&self.response));
            }
            untagged(&self.response);
        }
    }

    /// `SELECT INBOX`, checking that it holds `messages` messages.
    pub fn select(&mut self, messages: usize) -> Result<(), Error> {
        let mut exists = None;
        self.command("SELECT INBOX", |r| {
            if let Some(n) = r
                .strip_prefix(b"* ")
                .and_then(|r| r.strip_suffix(b" EXISTS\r\n"))
            {
                exists = std::str::from_utf8(n).ok().and_then(|n| n.parse().ok());
            }
        })?;
        if exists != Some(messages) {
            return Err(Error::new(format!(
                "SELECT INBOX: {exists:?} EXISTS, expected {messages}"
            )));
        }
        Ok(())
    }

    /// `STATUS mailbox (MESSAGES)`.
    pub fn status_messages(&mut self, mailbox: &str) -> Result<usize, Error> {
        let mut n = None;
        self.command(&format!("STATUS {mailbox} (MESSAGES)"), |r| {
            if let Some(i) = memchr::memmem::find(r, b"(MESSAGES ") {
                let digits: Vec<u8> = r[i + 10..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .copied()
                    .collect();
                n = std::str::from_utf8(&digits)
                    .ok()
                    .and_then(|d| d.parse().ok());
            }
        })?;
        n.ok_or_else(|| Error::new(format!("STATUS {mailbox}: no MESSAGES in the answer")))
    }

    /// The numbers of a `SEARCH` or `UID SEARCH`.
    pub fn search(&mut self, command: &str) -> Result<Vec<u32>, Error> {
        let mut found = Vec::new();
        self.command(command, |r| {
            if let Some(list) = r.strip_prefix(b"* SEARCH") {
                found.extend(
                    String::from_utf8_lossy(list)
                        .split_whitespace()
                        .filter_map(|n| n.parse::<u32>().ok()),
                );
            }
        })?;
        Ok(found)
    }

    /// Sends `octets` (commands tagged `first_tag..first_tag+count` by the caller
    /// through [`Imap::next_tag`]) from a second thread while reading the answers,
    /// so that neither pipe can fill up; every one must be a tagged OK.
    pub fn pipeline(&mut self, octets: &[u8], count: usize) -> Result<(), Error> {
        let (input, output) = self.process.pipes();
        let response = &mut self.response;
        std::thread::scope(|s| {
            let writer = s.spawn(move || input.write_all(octets));
            let mut done = 0;
            let mut failure = None;
            while done < count {
                response.clear();
                if let Err(e) = output.read_line(response) {
                    failure = Some(Error::from(e));
                    break;
                }
                if let Some(n) = literal_size(response) {
                    if let Err(e) = output.read_exact_into(n, response) {
                        failure = Some(Error::from(e));
                        break;
                    }
                }
                if response.starts_with(b"* ") || response.starts_with(b"+ ") {
                    continue;
                }
                done += 1;
                let ok = response
                    .iter()
                    .position(|&b| b == b' ')
                    .is_some_and(|i| response[i + 1..].starts_with(b"OK"));
                if !ok && failure.is_none() {
                    failure = Some(Error::new(format!(
                        "pipelined command {done}: {}",
                        shown(response)
                    )));
                }
            }
            let written = writer.join();
            if let Some(f) = failure {
                return Err(f);
            }
            match written {
                Ok(r) => r.map_err(Error::from),
                Err(_) => Err(Error::new("the writer thread panicked")),
            }
        })
    }

    /// LOGOUT, then waits for the server to exit.
    pub fn logout(mut self) -> Result<Exit, Error> {
        self.process.sample_hwm();
        self.command("LOGOUT", |_| {})?;
        self.process.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_found_at_line_ends_only() {
        assert_eq!(
            literal_size(b"* 1 FETCH (ENVELOPE (\"x\" {12}\r\n"),
            Some(12)
        );
        assert_eq!(literal_size(b"* OK {12} not at the end\r\n"), None);
        assert_eq!(literal_size(b"* OK {x}\r\n"), None);
    }
}
