//! A minimal POP3 client over ipop3d's pipes. Many commands go out at once
//! (ipop3d says PIPELINING in CAPA, RFC 2449) from a writer thread while the
//! answers are read, as fetchmail does; a RETR body is skipped with a scan for
//! dot-lines, not read line by line.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::server::{Exit, Process, Program, Start, World, USER};
use crate::Error;

pub struct Pop {
    pub process: Process,
    line: Vec<u8>,
}

fn shown(line: &[u8]) -> String {
    String::from_utf8_lossy(line).trim_end().to_string()
}

impl Pop {
    /// Starts ipop3d and reads its greeting; returns the time from before the spawn.
    pub fn start(world: &World) -> Result<(Pop, Duration), Error> {
        let t = Instant::now();
        let process = world.spawn(Program::Ipop3d, Start::Preauth)?;
        let mut pop = Pop {
            process,
            line: Vec::with_capacity(1024),
        };
        pop.reply("greeting")?;
        Ok((pop, t.elapsed()))
    }

    /// Reads one status line; it must be `+OK`.
    fn reply(&mut self, what: &str) -> Result<String, Error> {
        self.line.clear();
        self.process
            .output
            .read_line(&mut self.line)
            .map_err(|e| Error::new(format!("POP3 {what}: {e}")))?;
        if !self.line.starts_with(b"+OK") {
            return Err(Error::new(format!("POP3 {what}: {}", shown(&self.line))));
        }
        Ok(shown(&self.line))
    }

    pub fn command(&mut self, command: &str) -> Result<String, Error> {
        self.process.send(format!("{command}\r\n").as_bytes())?;
        self.reply(command)
    }

    /// USER and PASS: ipop3d started by the user takes any password (crates/pop).
    pub fn login(&mut self) -> Result<(), Error> {
        self.command(&format!("USER {USER}"))?;
        self.command("PASS bench")?;
        Ok(())
    }

    /// STAT: (messages, octets).
    pub fn stat(&mut self) -> Result<(usize, u64), Error> {
        let r = self.command("STAT")?;
        let mut w = r.split_whitespace().skip(1);
        let n = w.next().and_then(|v| v.parse().ok());
        let o = w.next().and_then(|v| v.parse().ok());
        n.zip(o)
            .ok_or_else(|| Error::new(format!("POP3 STAT: {r}")))
    }

    /// UIDL: the number of listed messages.
    pub fn uidl(&mut self) -> Result<usize, Error> {
        self.command("UIDL")?;
        let mut n = 0;
        loop {
            self.line.clear();
            self.process.output.read_line(&mut self.line)?;
            if self.line == b".\r\n" {
                return Ok(n);
            }
            n += 1;
        }
    }

    /// `RETR 1` .. `RETR count`, pipelined: returns the octets of all messages.
    pub fn retr_all(&mut self, count: usize) -> Result<u64, Error> {
        let mut commands = Vec::with_capacity(count * 12);
        for i in 1..=count {
            commands.extend_from_slice(format!("RETR {i}\r\n").as_bytes());
        }
        let (input, output) = self.process.pipes();
        let line = &mut self.line;
        std::thread::scope(|s| {
            let writer = s.spawn(move || input.write_all(&commands));
            let mut octets = 0u64;
            let mut result = Ok(());
            for i in 1..=count {
                line.clear();
                if let Err(e) = output.read_line(line) {
                    result = Err(Error::new(format!("POP3 RETR {i}: {e}")));
                    break;
                }
                if !line.starts_with(b"+OK") {
                    result = Err(Error::new(format!("POP3 RETR {i}: {}", shown(line))));
                    break;
                }
                match output.skip_dot_body() {
                    Ok(n) => octets += n,
                    Err(e) => {
                        result = Err(Error::new(format!("POP3 RETR {i}: {e}")));
                        break;
                    }
                }
            }
            let written = writer.join();
            result?;
            match written {
                Ok(w) => w.map_err(Error::from).map(|()| octets),
                Err(_) => Err(Error::new("the writer thread panicked")),
            }
        })
    }

    /// `DELE 1` .. `DELE count` and `QUIT`, pipelined; returns when QUIT is
    /// answered, that is once ipop3d has written the mailbox back.
    pub fn dele_all_quit(&mut self, count: usize) -> Result<String, Error> {
        let mut commands = Vec::with_capacity(count * 12);
        for i in 1..=count {
            commands.extend_from_slice(format!("DELE {i}\r\n").as_bytes());
        }
        commands.extend_from_slice(b"QUIT\r\n");
        let (input, output) = self.process.pipes();
        let line = &mut self.line;
        std::thread::scope(|s| {
            let writer = s.spawn(move || input.write_all(&commands));
            let mut result = Ok(String::new());
            for i in 1..=count + 1 {
                line.clear();
                if let Err(e) = output.read_line(line) {
                    result = Err(Error::new(format!("POP3 answer {i} to DELE/QUIT: {e}")));
                    break;
                }
                if !line.starts_with(b"+OK") {
                    result = Err(Error::new(format!(
                        "POP3 answer {i} to DELE/QUIT: {}",
                        shown(line)
                    )));
                    break;
                }
                if i == count + 1 {
                    result = Ok(shown(line));
                }
            }
            let written = writer.join();
            let quit = result?;
            match written {
                Ok(w) => w.map_err(Error::from).map(|()| quit),
                Err(_) => Err(Error::new("the writer thread panicked")),
            }
        })
    }

    /// QUIT, then waits for the server to exit.
    pub fn quit(mut self) -> Result<Exit, Error> {
        self.process.sample_hwm();
        self.command("QUIT")?;
        self.process.finish()
    }

    /// Waits for the server to exit after a QUIT already answered.
    pub fn finish(self) -> Result<Exit, Error> {
        self.process.finish()
    }
}
