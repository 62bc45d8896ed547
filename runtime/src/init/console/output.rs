//! Where the console exporters print: stderr by default, stdout or a file when
//! `TONIC_TRACED_CONSOLE_OUTPUT` says so; each trace or table written in one piece.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};

use super::super::config::{ConfigError, ConsoleOutput};
use super::super::files::open_console_file;
use super::super::terminal::colour_wanted;

/// An open console destination, and whether to colour what is written to it.
pub(crate) struct ConsoleWriter {
    target: Target,
    colored: bool,
}

enum Target {
    Stderr,
    Stdout,
    Writer(Mutex<Box<dyn Write + Send>>),
}

impl ConsoleWriter {
    /// Opens `output`: a file is created if missing and appended to, never coloured; stderr
    /// and stdout are coloured when they are terminals, unless `no_color` (`NO_COLOR` set).
    pub(crate) fn open(output: &ConsoleOutput, no_color: bool) -> Result<Self, ConfigError> {
        Ok(match output {
            ConsoleOutput::Stderr => ConsoleWriter {
                target: Target::Stderr,
                colored: colour_wanted(&io::stderr(), no_color),
            },
            ConsoleOutput::Stdout => ConsoleWriter {
                target: Target::Stdout,
                colored: colour_wanted(&io::stdout(), no_color),
            },
            ConsoleOutput::File(path) => ConsoleWriter::writer(open_console_file(path)?, false),
        })
    }

    /// Writes to `out`, with ANSI colours when `colored`.
    pub(crate) fn writer(out: impl Write + Send + 'static, colored: bool) -> Self {
        ConsoleWriter {
            target: Target::Writer(Mutex::new(Box::new(out))),
            colored,
        }
    }

    /// Whether to write ANSI colours.
    pub(crate) fn colored(&self) -> bool {
        self.colored
    }

    /// Writes `text` and flushes, holding the stream's lock throughout so that no other line
    /// of this process lands inside it. A pipe no one reads any more (`app 2>&1 | head`) takes
    /// nothing and is no error: there is no one left to tell.
    pub(crate) fn write_block(&self, text: &str) -> io::Result<()> {
        fn write_all(mut out: impl Write, text: &str) -> io::Result<()> {
            out.write_all(text.as_bytes())?;
            out.flush()
        }
        let written = match &self.target {
            Target::Stderr => write_all(io::stderr().lock(), text),
            Target::Stdout => write_all(io::stdout().lock(), text),
            Target::Writer(out) => {
                let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
                write_all(&mut *out, text)
            }
        };
        match written {
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            written => written,
        }
    }
}

impl fmt::Debug for ConsoleWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match self.target {
            Target::Stderr => "stderr",
            Target::Stdout => "stdout",
            Target::Writer(_) => "writer",
        };
        f.debug_struct("ConsoleWriter")
            .field("target", &target)
            .field("colored", &self.colored)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose reader has gone.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    /// A full disk.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::StorageFull.into())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_no_error_and_other_failures_are() {
        assert!(ConsoleWriter::writer(ClosedPipe, false)
            .write_block("trace …\n")
            .is_ok());
        let error = ConsoleWriter::writer(Full, false)
            .write_block("trace …\n")
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    }
}
