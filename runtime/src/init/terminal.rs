//! Whether output to a stream should be coloured.

use std::io::IsTerminal;

/// Whether to colour what is written to `stream`: when it is a terminal and `NO_COLOR` is
/// unset or empty (no-color.org), as `no_color` says (`init()` reads it through its lookup,
/// into `TelemetryConfig::no_color`).
pub(super) fn colour_wanted(stream: &impl IsTerminal, no_color: bool) -> bool {
    !no_color && stream.is_terminal()
}
