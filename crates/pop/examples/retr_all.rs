//! Times POP3 RETR of every message of an mbox through the in-memory host:
//! `cargo run --release -p pop --example retr_all -- MBOX [OUT]`. The mbox is
//! copied to a temporary spool first (it is not changed: the session ends with
//! RSET). With OUT, the whole answer stream is written there, for `cmp`.

use std::time::Instant;

use daemon::Config;
use pop::memory::MemoryHost;

fn main() {
    let mut args = std::env::args().skip(1);
    let mbox = args.next().expect("usage: retr_all MBOX [OUT]");
    let out = args.next();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("homes")).unwrap();
    std::fs::create_dir(dir.path().join("spool")).unwrap();
    std::fs::copy(&mbox, dir.path().join("spool").join("user")).unwrap();
    let mut config = Config::default();
    let spool = dir.path().join("spool").display().to_string();
    config.set("spool_directory", &spool).unwrap();
    config.set("dotlock_helper", "").unwrap();
    config.set("login_failure_delay", "0").unwrap();

    // Count the messages with a STAT session first.
    let stat = run(&config, dir.path(), b"USER user\r\nPASS pw\r\nSTAT\r\nQUIT\r\n".to_vec());
    let text = String::from_utf8_lossy(&stat);
    let n: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix("+OK ")?.split(' ').next()?.parse().ok())
        .expect("STAT answer");

    let mut script = b"USER user\r\nPASS pw\r\n".to_vec();
    for i in 1..=n {
        script.extend_from_slice(format!("RETR {i}\r\n").as_bytes());
    }
    script.extend_from_slice(b"RSET\r\nQUIT\r\n");
    let started = Instant::now();
    let output = run(&config, dir.path(), script);
    let took = started.elapsed();
    println!(
        "RETR of {n} messages: {} octets in {} ms",
        output.len(),
        took.as_millis()
    );
    if let Some(path) = out {
        std::fs::write(path, &output).unwrap();
    }
}

fn run(config: &Config, dir: &std::path::Path, script: Vec<u8>) -> Vec<u8> {
    let mut host = MemoryHost::new(config.clone(), dir.join("homes"), vec![script]);
    host.add_user("user", "pw", None);
    pop::pop3::serve(&mut host);
    std::mem::take(&mut host.io.output)
}
