//! The error a build script gets back, printed readably by `?` and `unwrap()` alike.

use std::fmt;

/// Why code generation failed: a proto that does not compile, or annotations that are wrong.
///
/// `Debug` prints the same text as `Display`, so `fn main() -> Result<…>` in `build.rs` shows
/// every problem on its own line instead of an escaped struct.
pub struct Error {
    problems: Vec<String>,
}

impl Error {
    pub(crate) fn new(problem: impl Into<String>) -> Self {
        Error {
            problems: vec![problem.into()],
        }
    }

    pub(crate) fn from_problems(problems: Vec<String>) -> Self {
        Error { problems }
    }

    /// Every problem found, one sentence each, naming the file, the field and the fix.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [only] => write!(f, "tonic-traced-build: {only}"),
            problems => {
                write!(f, "tonic-traced-build found {} problems:", problems.len())?;
                for problem in problems {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::new(error.to_string())
    }
}

/// Lets `build.rs` files that return `std::io::Result`, as tonic-build's do, keep using `?`.
impl From<Error> for std::io::Error {
    fn from(error: Error) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, error.to_string())
    }
}
