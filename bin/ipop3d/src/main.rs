//! ipop3d: being written (see `issues`).
fn main() {
    eprintln!("ipop3d: not built yet");
    std::process::exit(1);
}
