//! Starting moto's server on loopback from the project's own venv.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::workspace_root;

/// A running moto server; stopped when dropped (and on its own if this process dies).
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Installs the pinned moto if needed, starts it on a free port and waits until it answers.
    /// `threaded: false` serves one request at a time, which race tests need.
    pub fn start(threaded: bool) -> anyhow::Result<Self> {
        Self::start_with(if threaded { &["--threaded"] } else { &[] })
    }

    /// A single-threaded moto whose transactions roll back from a journal of the items they
    /// touched instead of copies of whole tables, so that their cost does not grow with the
    /// table (see `journal_transactions` in `tests/moto_server.py`), and that writes its answers
    /// and builds items with less work, to the same results (`fast_items`). For benchmarks only.
    pub fn start_journaled() -> anyhow::Result<Self> {
        Self::start_with(&["--journaled-transactions", "--fast-items"])
    }

    fn start_with(flags: &[&str]) -> anyhow::Result<Self> {
        let root = workspace_root();
        let tools = Command::new("bash")
            .arg(root.join("tests/tools.sh"))
            .arg("moto")
            .stderr(Stdio::inherit())
            .output()
            .context("running tests/tools.sh moto")?;
        if !tools.status.success() {
            bail!("tests/tools.sh moto failed");
        }
        let venv = String::from_utf8(tools.stdout)?.trim().to_owned();
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new(format!("{venv}/bin/python"));
        command
            .arg(root.join("tests/moto_server.py"))
            .arg(port.to_string());
        command.args(flags);
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting moto")?;
        let moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        moto.wait_ready(port)?;
        Ok(moto)
    }

    fn wait_ready(&self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("moto did not start listening on port {port} within 30 s")
    }

    /// Keeps moto running after this value is gone (for a process-wide server in tests).
    pub fn detach(self) -> String {
        let endpoint = self.endpoint.clone();
        std::mem::forget(self);
        endpoint
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
