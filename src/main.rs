//! The `metaconform` binary: a thin shell over the library.

fn main() -> std::process::ExitCode {
    metaconform::cli::main()
}
