//! imapd: being written (see `issues`).
fn main() {
    eprintln!("imapd: not built yet");
    std::process::exit(1);
}
