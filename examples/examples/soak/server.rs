//! A server binary under test, run as a child process on a free loopback port with the
//! environment a phase gives it; its stdout and stderr go to a log file, and it is killed when
//! dropped.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to print `listening on ADDR`.
const STARTUP: Duration = Duration::from_secs(10);
/// Distinct warning lines kept from a server's log.
const WARNINGS_KEPT: usize = 4;
/// Characters kept of each warning line.
const WARNING_WIDTH: usize = 160;

/// A running server binary.
pub struct Server {
    /// Where it listens, from its first line.
    pub address: SocketAddr,
    child: Child,
    log: PathBuf,
    /// Holds the server's process id while it runs, so that `scripts/soak.sh` can end it if
    /// the soak itself is killed.
    pid_file: PathBuf,
}

impl Server {
    /// Starts `binary` on `127.0.0.1:0` with `env` on top of this process's environment less
    /// any `OTEL_*`, `TONIC_TRACED_*` and `RUST_LOG` variables; its output goes to
    /// `work/NAME.log`. Waits for its `listening on ADDR` line.
    pub fn start(
        binary: &Path,
        env: &[(&str, String)],
        work: &Path,
        name: &str,
    ) -> Result<Server, String> {
        let log = work.join(format!("{name}.log"));
        let output = File::create(&log).map_err(|error| format!("{}: {error}", log.display()))?;
        let mut command = Command::new(binary);
        command.arg("127.0.0.1:0");
        for (variable, _) in std::env::vars_os() {
            let variable = variable.to_string_lossy();
            if variable.starts_with("OTEL_")
                || variable.starts_with("TONIC_TRACED_")
                || variable == "RUST_LOG"
            {
                command.env_remove(&*variable);
            }
        }
        let child = command
            .envs(env.iter().map(|(variable, value)| (variable, value)))
            .stdin(Stdio::null())
            .stdout(output.try_clone().map_err(|error| error.to_string())?)
            .stderr(output)
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let pid_file = work.join(format!("{name}.pid"));
        let mut server = Server {
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            child,
            log,
            pid_file,
        };
        std::fs::write(&server.pid_file, server.pid().to_string())
            .map_err(|error| format!("{}: {error}", server.pid_file.display()))?;
        server.address = server.wait_for_address()?;
        Ok(server)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls the log for the first line, `listening on ADDR`.
    fn wait_for_address(&mut self) -> Result<SocketAddr, String> {
        let deadline = Instant::now() + STARTUP;
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(address) = log
                .lines()
                .find_map(|line| line.strip_prefix("listening on "))
                .and_then(|address| address.parse().ok())
            {
                return Ok(address);
            }
            let exited = self.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                return Err(format!(
                    "{} did not start ({exited:?}); its output:\n{log}",
                    self.log.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The distinct `WARN` and `ERROR` lines of the server's log so far (without their
    /// timestamps, the first few, shortened), and how many such lines there were.
    pub fn warnings(&self) -> (Vec<String>, usize) {
        let Ok(log) = File::open(&self.log) else {
            return (Vec::new(), 0);
        };
        let mut distinct = BTreeSet::new();
        let mut kept = Vec::new();
        let mut count = 0;
        for line in BufReader::new(log).lines().map_while(Result::ok) {
            let Some(start) = line.find(" WARN ").or_else(|| line.find(" ERROR ")) else {
                continue;
            };
            count += 1;
            let warning: String = line[start + 1..].chars().take(WARNING_WIDTH).collect();
            if kept.len() < WARNINGS_KEPT && distinct.insert(warning.clone()) {
                kept.push(warning);
            }
        }
        (kept, count)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.pid_file);
    }
}
