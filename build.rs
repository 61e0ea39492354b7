//! Compiles the case catalogue (`cases/<area>/*.yaml`) into the binary, so
//! `metaconform run` works from any directory: `./cases` (or `--cases DIR`)
//! wins when present, the built-in copy is the fallback.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("cases");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// The catalogue as `(path under cases/, contents)`.\npub const CATALOGUE: &[(&str, &str)] = &[\n",
    );
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let relative = path
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            out,
            "    ({relative:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("string");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("catalogue.rs");
    std::fs::write(dest, out).expect("write catalogue.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            if !(dir == root && entry.file_name() == "dialects") {
                collect(root, &path, files);
            }
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
}
