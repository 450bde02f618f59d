//! The `farm` command: a thin entry point; everything lives in the library.

fn main() {
    farm::timing::start();
    std::process::exit(farm::cli::main());
}
