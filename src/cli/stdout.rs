//! Printing to stdout when the reader may stop early (`run --list | head
//! -1`, `fuzz | head`): a closed pipe is a normal end, never a panic. A
//! listing ([`emit`]) then ends with exit 0; a progress or summary line
//! ([`say!`](crate::say)) is dropped and the command goes on, so servers
//! are still put back.

use std::io::{ErrorKind, Write};

use crate::cli::{CliError, Exit};

/// Write `text` to stdout; a reader that went away is not an error.
pub fn emit(text: &str) -> Result<(), CliError> {
    write_to(&mut std::io::stdout().lock(), text)
}

/// One line to stdout; a write error (a closed pipe) loses the line.
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
}

/// `println!` that never panics (see [`line`]).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::stdout::line(format_args!($($arg)*))
    };
}

fn write_to(out: &mut impl Write, text: &str) -> Result<(), CliError> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError(
            Exit::Usage,
            format!("error: cannot write to stdout: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_a_normal_end_and_other_errors_are_not() {
        assert!(write_to(&mut Failing(ErrorKind::BrokenPipe), "x\n").is_ok());
        let e = write_to(&mut Failing(ErrorKind::StorageFull), "x\n").unwrap_err();
        assert_eq!(e.0, Exit::Usage);
        assert!(e.1.contains("cannot write to stdout"), "{}", e.1);
    }
}
