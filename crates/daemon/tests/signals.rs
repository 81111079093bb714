//! Signals are process-wide, so they get a test binary of their own with a single
//! test: SIGTERM and SIGHUP wake a blocked read as `Error::Signal`, the goodbye
//! can still be written, and SIGPIPE does not kill the process.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use daemon::{signals, Error, Signal, Transport};

fn pair() -> (Transport, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    let mut t = Transport::from_socket(server).unwrap();
    t.set_idle_timeout(Some(Duration::from_secs(20)));
    (t, client)
}

#[test]
fn termination_signals_end_a_blocked_read_and_the_goodbye_still_goes_out() {
    signals::install().unwrap();
    assert_eq!(signals::pending(), None);

    // SIGPIPE is ignored: writing to a connection the client closed is an error.
    let (mut transport, client) = pair();
    drop(client);
    thread::sleep(Duration::from_millis(50));
    let mut lost = None;
    for _ in 0..20 {
        if let Err(e) = transport
            .write_all(&[b'x'; 65536])
            .and_then(|()| transport.flush())
        {
            lost = Some(Error::from_io(e));
            break;
        }
    }
    assert!(matches!(lost, Some(Error::ConnectionLost)), "{lost:?}");

    let (mut transport, client) = pair();
    let pid = std::process::id() as libc::pid_t;
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        // SAFETY: kill to our own pid with a signal whose handler is installed.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    });
    let start = Instant::now();
    let err = transport.read_line(1024).unwrap_err();
    sender.join().unwrap();
    assert!(matches!(err, Error::Signal(Signal::Term)), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "woken by the signal, not the timeout"
    );
    assert_eq!(signals::pending(), Some(Signal::Term));

    // The engine saves its state, then says goodbye: writes still work.
    let answer = err.imap_answer().unwrap();
    write!(transport, "* BYE {}\r\n", answer.text).unwrap();
    transport.close().unwrap();
    let mut reader = BufReader::new(client);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "* BYE Server shutting down\r\n");

    // Once pending, every later read ends at once too.
    let (mut transport, _client) = pair();
    assert!(matches!(
        transport.read_line(1024),
        Err(Error::Signal(Signal::Term))
    ));

    // SIGHUP is reported as itself.
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while signals::pending() != Some(Signal::Hup) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(signals::pending(), Some(Signal::Hup));
    assert_eq!(
        Error::Signal(Signal::Hup).pop_answer().unwrap().text,
        "Server shutting down"
    );
}
