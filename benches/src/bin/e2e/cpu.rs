//! CPU time of a process, from `/proc/PID/stat`: user + system time of all its threads.

use std::time::Duration;

/// The user + system CPU time `pid` (all its threads) has used so far.
pub fn process_cpu(pid: u32) -> std::io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&stat).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unexpected /proc/{pid}/stat: {stat}"),
        )
    })
}

/// Fields 14 and 15 (`utime`, `stime`, in clock ticks), counted after the command's closing
/// parenthesis: the command itself may hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<Duration> {
    let after_command = &stat[stat.rfind(')')? + 1..];
    // After ')' come field 3 (state) onwards: utime is field 14, the 12th of these.
    let mut fields = after_command.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(ticks(utime + stime))
}

fn ticks(ticks: u64) -> Duration {
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second).unwrap_or(100).max(1);
    Duration::from_nanos(ticks * 1_000_000_000 / per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3";
        assert_eq!(parse_stat(stat), Some(ticks(300)));
        assert!(process_cpu(std::process::id()).is_ok());
    }
}
