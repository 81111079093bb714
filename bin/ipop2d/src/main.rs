//! ipop2d: being written (see `issues`).
fn main() {
    eprintln!("ipop2d: not built yet");
    std::process::exit(1);
}
