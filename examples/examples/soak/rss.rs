//! The resident set size of a process, sampled once a second from `/proc/PID/status`.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the resident set size is read.
const PERIOD: Duration = Duration::from_secs(1);

/// The first, largest and last resident set sizes sampled, in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rss {
    pub first: u64,
    pub max: u64,
    pub last: u64,
}

/// Reads a process's resident set size now and every [`PERIOD`] until finished.
pub struct RssSampler {
    stop: Sender<()>,
    thread: JoinHandle<Vec<u64>>,
}

impl RssSampler {
    /// Starts sampling the process `pid`; the first sample is taken at once.
    pub fn start(pid: u32) -> RssSampler {
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            loop {
                samples.extend(vm_rss_kib(pid));
                match stopped.recv_timeout(PERIOD) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            samples.extend(vm_rss_kib(pid));
            samples
        });
        RssSampler { stop, thread }
    }

    /// Takes a last sample and stops; all zeros if the process could not be read at all.
    pub fn finish(self) -> Rss {
        let _ = self.stop.send(());
        let samples = self.thread.join().expect("the sampler does not panic");
        Rss {
            first: samples.first().copied().unwrap_or_default(),
            max: samples.iter().copied().max().unwrap_or_default(),
            last: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// `VmRSS` of the process `pid` in KiB, or `None` once it has exited.
fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
