//! The small harness the end-to-end tests share: the binary under test, the
//! catalogue, scratch folders that remove themselves, a `metaconform serve`
//! child read up to its startup line (with a timeout, its stderr kept for
//! the failure message), and reading `results.json`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use metaconform::run::results::RunResults;
use metaconform::serve::StartupInfo;

/// The `metaconform` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_metaconform");

/// The checked-in case catalogue.
pub fn catalogue() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// A fresh folder under the system temp dir, removed when dropped (reports
/// with full exchanges are megabytes each).
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "metaconform-test-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch folder");
        Scratch(dir)
    }
}

impl Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary as CI runs it: no ambient endpoint or member token, no
/// progress line.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("OS_TOKEN")
        .env_remove("METACONFORM_ENDPOINT")
        .env("CI", "true");
    cmd
}

/// Write `text` to `dir/relative`, creating the folders on the way.
pub fn write_file(dir: &Path, relative: &str, text: &str) -> PathBuf {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folders");
    }
    std::fs::write(&path, text).expect("write file");
    path
}

/// Bytes as text, lossily.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `results.json` a run wrote into `dir`.
pub fn results(dir: &Path) -> RunResults {
    results_at(&dir.join("results.json"))
}

/// A results file anywhere.
pub fn results_at(path: &Path) -> RunResults {
    let bytes = std::fs::read(path).expect("results file written");
    serde_json::from_slice(&bytes).expect("the results file parses as the results format")
}

/// A running `metaconform serve`, killed on drop. Its stderr is collected
/// as it comes (so the pipe never fills), for failure messages.
pub struct ServeProcess {
    pub child: Child,
    pub info: StartupInfo,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl ServeProcess {
    /// What the server has logged so far.
    pub fn stderr(&self) -> String {
        collected(&self.stderr)
    }
}

fn collected(buffer: &Mutex<Vec<u8>>) -> String {
    text(&buffer.lock().map(|b| b.clone()).unwrap_or_default())
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long `serve` may take to print its startup line: generous for a
/// loaded 2-core machine, but a hung child fails the test instead of
/// hanging the suite.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// `metaconform serve --listen 127.0.0.1:0 ARGS`, read up to its startup
/// line (within [`STARTUP_TIMEOUT`]); the port is the one the server bound
/// and printed, never one picked beforehand.
pub fn spawn_serve(args: &[&str]) -> ServeProcess {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let mut pipe = child.stderr.take().expect("stderr");
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            if let Ok(mut all) = sink.lock() {
                all.extend_from_slice(&chunk[..n]);
            }
        }
    });
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        let _ = tx.send(lines.read_line(&mut line).map(|_| line));
        // drain the rest, so a chatty server never blocks on a full pipe
        let _ = std::io::copy(&mut lines, &mut std::io::sink());
    });
    let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
        Ok(Ok(line)) if !line.is_empty() => line,
        outcome => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "serve {args:?} gave no startup line ({}); its stderr:\n{}",
                match outcome {
                    Err(_) => format!("nothing within {STARTUP_TIMEOUT:?}"),
                    Ok(Err(e)) => format!("stdout unreadable: {e}"),
                    Ok(Ok(_)) => "stdout closed".to_string(),
                },
                collected(&stderr)
            );
        }
    };
    let info = match serde_json::from_str(&line) {
        Ok(info) => info,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{e}: {line:?}; stderr:\n{}", collected(&stderr));
        }
    };
    ServeProcess {
        child,
        info,
        stderr,
    }
}

/// Wait for `child`, killing it and failing the test after `limit`.
pub fn wait_with_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What `child` wrote to its piped stderr.
pub fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    text
}

/// `kill NAME pid` (`-INT`, `-KILL`, ...).
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// The run journals in `dir/journals`.
pub fn journals(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("journals"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}
