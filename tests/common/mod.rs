//! The small harness the end-to-end tests share: the binary under test, the
//! catalogue, scratch folders that remove themselves, a `metaconform serve`
//! child read up to its startup line, and reading `results.json`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// A running `metaconform serve`, killed on drop.
pub struct ServeProcess {
    pub child: Child,
    pub info: StartupInfo,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `metaconform serve --listen 127.0.0.1:0 ARGS`, read up to its startup line.
pub fn spawn_serve(args: &[&str]) -> ServeProcess {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("startup line");
    let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    ServeProcess { child, info }
}
