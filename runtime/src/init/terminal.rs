//! Whether output to a stream should be coloured.

use std::io::IsTerminal;

/// Whether to colour what is written to `stream`: when it is a terminal and `NO_COLOR` is
/// unset or empty (no-color.org).
pub(super) fn colour_wanted(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}
