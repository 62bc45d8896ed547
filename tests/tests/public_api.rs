//! The public items of each published crate, one path each, are listed in `api/<crate>.txt`:
//! this test compares that list with what rustdoc sees, so every change to the public surface
//! is deliberate. After an intended change, regenerate the lists with
//! `UPDATE_API=1 cargo test -p tonic-traced-tests --test public_api` and review the diff.
//!
//! rustdoc's JSON output is unstable; `RUSTC_BOOTSTRAP=1` lets the stable toolchain write it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The published crates, with the cargo arguments that document all of them.
const CRATES: [(&str, &[&str]); 3] = [
    ("tonic-traced", &["--all-features"]),
    ("tonic-traced-macros", &[]),
    ("tonic-traced-build", &[]),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The workspace's target folder (this test's `CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// rustdoc's JSON description of `krate`.
fn rustdoc_json(krate: &str, arguments: &[&str]) -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(repo())
        .args(["rustdoc", "--quiet", "--lib", "-p", krate])
        .args(arguments)
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo rustdoc -p {krate} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = target_dir()
        .join("doc")
        .join(format!("{}.json", krate.replace('-', "_")));
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

/// Walks the public modules of one crate's rustdoc JSON, writing a line per public item.
struct Surface<'a> {
    index: &'a serde_json::Map<String, Value>,
    lines: BTreeSet<String>,
    /// The paths under which each item is reachable, by item id.
    paths: BTreeMap<String, Vec<String>>,
}

impl<'a> Surface<'a> {
    fn item(&self, id: &Value) -> Option<&'a Value> {
        let index: &'a serde_json::Map<String, Value> = self.index;
        index.get(&id.to_string())
    }

    fn module(&mut self, module: &'a Value, path: &str) {
        for child in module["inner"]["module"]["items"].as_array().unwrap() {
            let Some(item) = self.item(child) else {
                continue;
            };
            match item["inner"].get("use") {
                Some(reexport) => {
                    let name = reexport["name"].as_str().unwrap();
                    let child_path = format!("{path}::{name}");
                    match self.item(&reexport["id"]) {
                        Some(target) => self.describe(target, &child_path),
                        None => {
                            let source = reexport["source"].as_str().unwrap();
                            self.lines
                                .insert(format!("re-export {child_path} = {source}"));
                        }
                    }
                }
                None => {
                    let name = item["name"].as_str().unwrap();
                    self.describe(item, &format!("{path}::{name}"));
                }
            }
        }
    }

    fn describe(&mut self, item: &'a Value, path: &str) {
        self.paths
            .entry(item["id"].to_string())
            .or_default()
            .push(path.to_owned());
        let (kind, inner) = item["inner"].as_object().unwrap().iter().next().unwrap();
        let non_exhaustive = item["attrs"]
            .as_array()
            .is_some_and(|attrs| attrs.iter().any(|attr| attr == "non_exhaustive"));
        let marker = if non_exhaustive {
            " #[non_exhaustive]"
        } else {
            ""
        };
        self.lines.insert(format!("{kind} {path}{marker}"));
        match kind.as_str() {
            "module" => self.module(item, path),
            "struct" => {
                if let Some(fields) = inner["kind"]["plain"]["fields"].as_array() {
                    for field in fields {
                        let name = self.item(field).unwrap()["name"].as_str().unwrap();
                        self.lines.insert(format!("field {path}.{name}"));
                    }
                }
                self.inherent(inner, path);
            }
            "enum" => {
                for variant in inner["variants"].as_array().unwrap() {
                    let name = self.item(variant).unwrap()["name"].as_str().unwrap();
                    self.lines.insert(format!("variant {path}::{name}"));
                }
                self.inherent(inner, path);
            }
            "trait" => {
                for member in inner["items"].as_array().unwrap() {
                    let name = self.item(member).unwrap()["name"].as_str().unwrap();
                    self.lines.insert(format!("trait-item {path}::{name}"));
                }
            }
            _ => {}
        }
    }

    /// The public functions and constants of a type's own (not trait) impls.
    fn inherent(&mut self, inner: &'a Value, path: &str) {
        for id in inner["impls"].as_array().unwrap() {
            let block = &self.item(id).unwrap()["inner"]["impl"];
            if !block["trait"].is_null() {
                continue;
            }
            for member in block["items"].as_array().unwrap() {
                let member = self.item(member).unwrap();
                if member["visibility"] == "public" {
                    let kind = member["inner"].as_object().unwrap().keys().next().unwrap();
                    let name = member["name"].as_str().unwrap();
                    self.lines.insert(format!("{kind} {path}::{name}"));
                }
            }
        }
    }
}

#[test]
fn public_items_are_the_listed_ones_each_under_one_path() {
    let update = std::env::var_os("UPDATE_API").is_some();
    let mut problems = Vec::new();
    for (krate, arguments) in CRATES {
        let json = rustdoc_json(krate, arguments);
        let index = json["index"].as_object().unwrap();
        let mut surface = Surface {
            index,
            lines: BTreeSet::new(),
            paths: BTreeMap::new(),
        };
        let root = &index[&json["root"].to_string()];
        surface.module(root, &krate.replace('-', "_"));
        for paths in surface.paths.values() {
            if paths.len() > 1 {
                problems.push(format!("{krate}: one item under several paths: {paths:?}"));
            }
        }
        let listed = surface.lines.into_iter().collect::<Vec<_>>().join("\n") + "\n";
        let file = repo().join("api").join(format!("{krate}.txt"));
        if update {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &listed).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&file).unwrap_or_default();
        if expected != listed {
            let old: BTreeSet<&str> = expected.lines().collect();
            let new: BTreeSet<&str> = listed.lines().collect();
            problems.push(format!(
                "{krate}'s public items differ from {}:\n  added: {:?}\n  removed: {:?}\n\
                 If intended, run UPDATE_API=1 cargo test -p tonic-traced-tests --test \
                 public_api and review the diff",
                file.display(),
                new.difference(&old).collect::<Vec<_>>(),
                old.difference(&new).collect::<Vec<_>>(),
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
