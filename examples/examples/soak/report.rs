//! The figures of each phase, and the table they are printed as.

use tonic::Code;
use tonic_traced::status::code_name;

use crate::load::Load;
use crate::rss::Rss;

/// The figures of one phase.
#[derive(Debug)]
pub struct Row {
    pub number: usize,
    /// The server binary under test.
    pub server: &'static str,
    /// What the load generator sent.
    pub traffic: &'static str,
    /// How many connections, with how many calls in flight on each.
    pub load: Load,
    /// Where the server's telemetry went.
    pub collector: &'static str,
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, or `None` for the default.
    pub limit: Option<u32>,
    /// Calls (or streams) made.
    pub calls: u64,
    /// Calls that failed, other than the expected business error.
    pub failed: u64,
    /// The expected business error and how many calls ended with it.
    pub expected: Option<(Code, u64)>,
    /// The server's resident set size while it was driven.
    pub rss: Rss,
    /// SERVER spans received, and how many of them were `CANCELLED`.
    pub spans: Option<(u64, u64)>,
    pub first_failure: Option<String>,
    /// The first distinct warning lines of the server's log, and how many there were.
    pub warnings: Vec<String>,
    pub warning_lines: usize,
}

/// The table's columns: heading, width, and whether the values are right-aligned.
const COLUMNS: [(&str, usize, bool); 11] = [
    ("#", 2, false),
    ("server", 14, false),
    ("traffic", 25, false),
    ("load", 4, false),
    ("collector", 9, false),
    ("limit", 7, false),
    ("calls", 7, true),
    ("failed", 6, true),
    ("expected errors", 22, false),
    ("RSS MiB first/max/last", 22, false),
    ("SERVER spans received", 0, false),
];

/// Prints one line of the table.
fn print_line(cells: [String; COLUMNS.len()]) {
    let mut line = String::new();
    for ((_, width, right), cell) in COLUMNS.iter().zip(cells) {
        let cell = if *right {
            format!("{cell:>width$} ")
        } else {
            format!("{cell:<width$} ")
        };
        line.push_str(&cell);
    }
    println!("{}", line.trim_end());
}

/// An `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` as the report shows it.
pub fn limit_label(limit: Option<u32>) -> String {
    limit.map_or_else(|| "default".to_owned(), |limit| limit.to_string())
}

/// KiB as MiB with one decimal.
fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// Prints the table of `rows`, then each phase's first failure and server warnings.
pub fn print(rows: &[Row]) {
    println!();
    print_line(COLUMNS.map(|(heading, _, _)| heading.to_owned()));
    for row in rows {
        let expected = match row.expected {
            Some((code, count)) => format!("{count} {}", code_name(code)),
            None => "-".to_owned(),
        };
        let spans = match row.spans {
            Some((received, cancelled)) => format!("{received} ({cancelled} CANCELLED)"),
            None => "-".to_owned(),
        };
        print_line([
            row.number.to_string(),
            row.server.to_owned(),
            row.traffic.to_owned(),
            format!("{}×{}", row.load.connections, row.load.in_flight),
            row.collector.to_owned(),
            limit_label(row.limit),
            row.calls.to_string(),
            row.failed.to_string(),
            expected,
            format!(
                "{} / {} / {}",
                mib(row.rss.first),
                mib(row.rss.max),
                mib(row.rss.last)
            ),
            spans,
        ]);
    }
    for row in rows {
        if let Some(failure) = &row.first_failure {
            println!("{}: first failure: {failure}", row.number);
        }
        if row.warning_lines > 0 {
            println!(
                "{}: {} warning lines in the server's log, first distinct:",
                row.number, row.warning_lines
            );
            for warning in &row.warnings {
                println!("     {warning}");
            }
        }
    }
}
