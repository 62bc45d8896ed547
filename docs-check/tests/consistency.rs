//! The README, the guide, deploy/README and BENCHMARKS.md stay true to the code: every
//! configuration variable they name is one the runtime reads, every relative link (and its
//! `#anchor`) leads somewhere, every `cargo run … --bin` and `scripts/…` command names something
//! that exists, and performance figures in the README and the guide are quoted from
//! BENCHMARKS.md rather than restated. (The code blocks and commands themselves are compiled and
//! run by this crate's doctests and its other tests.)

use std::collections::BTreeSet;
use std::path::Path;

use tonic_traced_docs_check::markdown::{documents, repo};

/// Every Rust source of a folder, concatenated.
fn sources(folder: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            text.push_str(&sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            text.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    text
}

/// The words of `text` that start with `prefix` and go on with capitals, digits and `_`.
fn variables<'a>(text: &'a str, prefix: &str) -> BTreeSet<&'a str> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find(prefix) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        let before = rest[..start].chars().last();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            found.insert(&tail[..end]);
        }
        rest = &tail[end.max(1)..];
    }
    found
}

#[test]
fn every_variable_the_docs_name_is_read_by_the_runtime() {
    let runtime = sources(&repo().join("runtime/src"));
    for document in documents() {
        for prefix in ["OTEL_", "TONIC_TRACED_"] {
            for variable in variables(&document.text, prefix) {
                assert!(
                    runtime.contains(variable),
                    "{} names {variable}, which runtime/src does not read",
                    document.path
                );
            }
        }
    }
}

/// GitHub's anchor for a heading: lower case, spaces as `-`, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown document's headings.
fn anchors(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| anchor(line.trim_start_matches('#')))
        .collect()
}

#[test]
fn relative_links_and_anchors_lead_somewhere() {
    for document in documents() {
        let path = repo().join(&document.path);
        let folder = path.parent().unwrap();
        let mut rest = document.text.as_str();
        while let Some(start) = rest.find("](") {
            let tail = &rest[start + 2..];
            let end = tail.find(')').unwrap_or(tail.len());
            let link = &tail[..end];
            rest = &tail[end..];
            if link.contains("://") || link.starts_with("mailto:") || link.contains(' ') {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() {
                path.clone()
            } else {
                folder.join(file)
            };
            assert!(
                target.exists(),
                "{} links to {link}, which does not exist",
                document.path
            );
            if !fragment.is_empty() && target.extension().is_some_and(|ext| ext == "md") {
                let target_text = std::fs::read_to_string(&target).unwrap();
                assert!(
                    anchors(&target_text).contains(fragment),
                    "{} links to {link}: no such heading",
                    document.path
                );
            }
        }
    }
}

#[test]
fn commands_name_binaries_and_scripts_that_exist() {
    let root = repo();
    for document in documents() {
        let text = &document.text;
        for (at, _) in text.match_indices("--bin ") {
            let name: String = text[at + 6..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if name.is_empty() || name.chars().all(|c| c.is_ascii_uppercase()) {
                continue;
            }
            let in_examples = root.join(format!("examples/src/bin/{name}.rs")).exists();
            let in_benches = root.join(format!("benches/src/bin/{name}")).exists()
                || root.join(format!("benches/src/bin/{name}.rs")).exists();
            assert!(
                in_examples || in_benches,
                "{} runs --bin {name}, which no package has",
                document.path
            );
        }
        for (at, _) in text.match_indices("scripts/") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-_./".contains(*c))
                .collect();
            let name = name.trim_end_matches('.');
            if name.ends_with(".sh") {
                assert!(
                    root.join(name).exists(),
                    "{} mentions {name}, which does not exist",
                    document.path
                );
            }
        }
    }
}

/// Whether `word` is a number as the docs write one: `~200,000`, `1.3`, `200k`, `(5`.
fn is_number(word: &str) -> bool {
    let word = word
        .trim_start_matches(['~', '+', '(', '≈'])
        .trim_end_matches([',', '.', ')', ';', ':']);
    let digits = word.strip_suffix('k').unwrap_or(word);
    digits.chars().any(|c| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
}

/// The measured costs a paragraph states: durations in ns or µs, rates (`200,000 spans/s`),
/// factors (`3×`) and `… ms per …`.
fn performance_figures(paragraph: &str) -> Vec<String> {
    let words: Vec<&str> = paragraph.split_whitespace().collect();
    let mut figures = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let bare = word.trim_end_matches([',', '.', ')', ';', ':']);
        let previous = |back: usize| index.checked_sub(back).map(|at| words[at]);
        let duration = ["ns", "µs"].iter().any(|unit| {
            bare.strip_suffix(unit).is_some_and(is_number)
                || (bare == *unit && previous(1).is_some_and(is_number))
        });
        let rate =
            bare.ends_with("/s") && (1..=3).any(|back| previous(back).is_some_and(is_number));
        let factor = bare
            .split('×')
            .next()
            .is_some_and(|before| bare.contains('×') && is_number(before));
        let per = bare == "ms"
            && previous(1).is_some_and(is_number)
            && words.get(index + 1) == Some(&"per");
        if duration || rate || factor || per {
            let from = index.saturating_sub(3);
            figures.push(words[from..=index].join(" "));
        }
    }
    figures
}

/// Measured costs live in BENCHMARKS.md, with the commit and command that produced them; a
/// figure elsewhere goes stale unseen. A paragraph of the README or the guide that states one
/// must link BENCHMARKS.md, and a code block (which cannot) must not state one.
#[test]
fn performance_figures_are_quoted_from_benchmarks_md() {
    for document in documents() {
        if ["deploy/README.md", "BENCHMARKS.md"].contains(&document.path.as_str()) {
            continue;
        }
        let text = &document.text;
        let mut paragraph = String::new();
        let mut first_line = 1;
        let mut in_block = false;
        let lines: Vec<&str> = text.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            let fence = line.trim_start().starts_with("```");
            let boundary = fence || (!in_block && line.trim().is_empty());
            if !boundary {
                if paragraph.is_empty() {
                    first_line = index + 1;
                }
                paragraph.push_str(line);
                paragraph.push('\n');
            }
            if boundary || index + 1 == lines.len() {
                let figures = performance_figures(&paragraph);
                assert!(
                    figures.is_empty() || (!in_block && paragraph.contains("BENCHMARKS.md")),
                    "{}:{first_line}: {figures:?} states a measured cost {}; refer to \
                     BENCHMARKS.md instead (a link in the same paragraph), where figures are \
                     kept with the commit and command that measured them",
                    document.path,
                    if in_block {
                        "in a code block"
                    } else {
                        "without linking BENCHMARKS.md"
                    }
                );
                paragraph.clear();
            }
            if fence {
                in_block = !in_block;
            }
        }
    }
}

/// The versions the guide's front page names ("Versions: tonic 0.14, …, Rust 1.88 or newer")
/// are the ones the workspace's Cargo.toml builds with, so a dependency upgrade that forgets
/// the guide fails here.
#[test]
fn versions_the_guide_names_are_the_workspaces() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let guide = std::fs::read_to_string(repo().join("docs/README.md")).unwrap();
    let line = guide
        .lines()
        .find(|line| line.starts_with("Versions: "))
        .expect("docs/README.md has a `Versions: …` line");
    let named: Vec<(&str, &str)> = line["Versions: ".len()..]
        .split(", ")
        .map(|entry| {
            let mut words = entry.split_whitespace();
            (words.next().unwrap(), words.next().unwrap())
        })
        .collect();
    assert!(
        named.len() >= 4,
        "docs/README.md:{line}: expected names and versions"
    );
    for (name, version) in named {
        let key = match name {
            "Rust" => "rust-version".to_owned(),
            other => other.to_lowercase(),
        };
        let declared = manifest.lines().any(|entry| {
            entry.starts_with(&format!("{key} = ")) && entry.contains(&format!("\"{version}\""))
        });
        assert!(
            declared,
            "docs/README.md says {name} {version}, but Cargo.toml has no `{key} = …\"{version}\"…`; \
             update the guide's Versions line to the workspace's"
        );
    }
}
