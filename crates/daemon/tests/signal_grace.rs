//! No blocking call outlives SIGTERM: a process stuck in a call that is restarted on
//! EINTR (std's open(2) of a FIFO without a writer) is ended by SIGALRM once the
//! grace after the signal is over. The stuck process is this test binary run again as
//! a child, since the end is the whole process's.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use daemon::signals;

const CHILD_ENV: &str = "PULLMAIL_TEST_GRACE_FIFO";
const READY: &str = "grace-child-blocking";

#[test]
fn a_call_restarted_on_eintr_is_ended_after_the_grace() {
    if let Some(fifo) = std::env::var_os(CHILD_ENV) {
        signals::install().unwrap();
        signals::set_grace(Duration::from_secs(1));
        println!("{READY}");
        // Blocks in open(2), which std restarts after the signal's EINTR.
        let _ = std::fs::File::open(fifo);
        println!("open returned");
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_call_restarted_on_eintr_is_ended_after_the_grace",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &fifo)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains(READY) {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child ended early");
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill of our own child, whose pid is live until we wait for it.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = status.expect("SIGTERM did not end a process blocked in open(2)");
    assert_eq!(status.signal(), Some(libc::SIGALRM), "{status:?}");
    assert!(start.elapsed() >= Duration::from_millis(900), "the grace was given");
}
