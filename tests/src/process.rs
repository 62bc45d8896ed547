//! Programs a test runs beside itself: whether a tool is on this machine, children killed when
//! the test lets go of them (also when it panics), and programs started with their output in a
//! log file, reachable once their ports accept connections.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `program args` runs and succeeds.
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether a toolchain a test needs (`what`) is on this machine: a missing one fails the test
/// under `CI=true` and skips it elsewhere, with a notice.
pub fn toolchain_present(present: bool, what: &str) -> bool {
    if !present {
        assert!(std::env::var("CI").is_err(), "{what} is required under CI");
        eprintln!("skipping: {what} is not installed");
    }
    present
}

/// A child process, killed and reaped when dropped, so that a failed assertion does not leave
/// it behind; one already waited for is only reaped. It is the [`Child`] otherwise.
pub struct KilledOnDrop(Child);

impl KilledOnDrop {
    /// Starts `command`; panics, naming it, when it cannot start.
    pub fn spawn(command: &mut Command) -> KilledOnDrop {
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
        KilledOnDrop(child)
    }
}

impl Deref for KilledOnDrop {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for KilledOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        // Neither signals a child already waited for: `Child` keeps its exit status.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running child process, killed on drop ([`KilledOnDrop`]). Its stdout and stderr go to one
/// log file (a pipe that nobody reads would stall it once full).
pub struct Program {
    name: String,
    child: KilledOnDrop,
    log: PathBuf,
}

impl Program {
    /// Starts `command` as `name`, logging to `NAME.log` in `logs`.
    pub fn start(name: &str, command: &mut Command, logs: &Path) -> Program {
        std::fs::create_dir_all(logs).unwrap();
        let log = logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = KilledOnDrop::spawn(
            command
                .stdin(Stdio::null())
                .stdout(file.try_clone().unwrap())
                .stderr(file),
        );
        Program {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// The last lines of the program's log, for a failure message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("{} ({}):\n{tail}", self.name, self.log.display())
    }

    /// Waits until `port` on loopback accepts connections; panics with the log's tail when the
    /// program exits first or `timeout` passes.
    pub fn wait_for_port(&mut self, port: u16, timeout: Duration) {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + timeout;
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "exited with {status} before listening on {port}: {}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "not listening on {port} after {timeout:?}: {}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A loopback port that was free a moment ago: the system's pick for a listener on port 0,
/// which is closed again for the program that will listen there.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
