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

/// The command the README gives for its crate counts, with `F` standing for the features:
/// `cargo tree -p tonic-traced --no-default-features --features F -e normal --prefix none`.
fn documented_cargo_tree() -> String {
    let readme = documents()
        .into_iter()
        .find(|document| document.path == "README.md")
        .expect("README.md is a document");
    let spans: Vec<String> = readme
        .code_spans()
        .into_iter()
        .map(|span| span.code)
        .filter(|code| code.starts_with("cargo tree ") && code.contains(" F "))
        .collect();
    assert_eq!(
        spans.len(),
        1,
        "README.md should name one `cargo tree … --features F …` command for its crate counts, \
         found {spans:?}"
    );
    spans[0].clone()
}

/// How many distinct crates (name and version) the documented `cargo tree` command lists with
/// `features` (comma-separated; empty for the core alone). Offline: the tests run after a
/// build, so the registry already holds every crate.
fn crate_count(command: &str, features: &str) -> usize {
    let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
    if features.is_empty() {
        let at = args
            .iter()
            .position(|arg| *arg == "--features")
            .expect("the command has `--features F`");
        args.drain(at..at + 2);
    } else {
        for arg in &mut args {
            if *arg == "F" {
                *arg = features;
            }
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .args(&args)
        .arg("--offline")
        .current_dir(repo())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {} --offline failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("cargo tree prints UTF-8")
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect::<BTreeSet<_>>()
        .len()
}

/// The whole number that `text` starts with, after spaces.
fn leading_number(text: &str) -> Option<usize> {
    let digits: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// The whole number that `text` ends with, before spaces.
fn trailing_number(text: &str) -> Option<usize> {
    let text = text.trim_end();
    let start = text
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |at| at + 1);
    text[start..].parse().ok()
}

/// The features of the runtime's `default` feature.
fn default_features() -> Vec<String> {
    let manifest: toml::Table = std::fs::read_to_string(repo().join("runtime/Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    manifest["features"]["default"]
        .as_array()
        .expect("runtime/Cargo.toml has a default feature")
        .iter()
        .map(|feature| feature.as_str().unwrap().to_owned())
        .collect()
}

/// The crate counts the docs state — the README's feature table, its "All of them together"
/// and status row, own-pipeline.md's core with its own features against the default — are what
/// the README's `cargo tree` command lists now, so a dependency added or dropped fails here
/// until the numbers are updated. A `N crates` anywhere else in the docs fails too: every count
/// the docs give is one this test compares.
#[test]
fn crate_counts_the_docs_state_are_cargo_trees() {
    let command = documented_cargo_tree();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut count = |features: &str| {
        *counts
            .entry(features.to_owned())
            .or_insert_with(|| crate_count(&command, features))
    };
    let mut checked: BTreeSet<(String, usize)> = BTreeSet::new();
    let mut mismatches = Vec::new();
    let mut compare = |at: String, stated: usize, features: &str, actual: usize| {
        if stated != actual {
            mismatches.push(format!(
                "{at}: says {stated} crates for {}, `cargo tree` lists {actual}",
                if features.is_empty() {
                    "the core"
                } else {
                    features
                }
            ));
        }
    };

    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let header = lines
        .iter()
        .position(|line| line.starts_with("| feature | adds | pulls in (crates) |"))
        .expect("README.md has the feature table `| feature | adds | pulls in (crates) |`");
    let mut table_features = Vec::new();
    for (index, line) in lines.iter().enumerate().skip(header + 2) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        let feature = if cells[0].contains("(none") {
            String::new()
        } else {
            cells[0].trim().trim_matches('`').to_owned()
        };
        let stated = trailing_number(cells.last().unwrap())
            .unwrap_or_else(|| panic!("README.md:{}: the row ends with no crate count", index + 1));
        compare(
            format!("README.md:{}", index + 1),
            stated,
            &feature,
            count(&feature),
        );
        if !feature.is_empty() {
            table_features.push(feature);
        }
    }
    let defaults = default_features();
    for feature in &defaults {
        assert!(
            table_features.contains(feature),
            "README.md's feature table leaves out `{feature}`, a default feature of runtime/Cargo.toml"
        );
    }
    let all = table_features.join(",");

    for (index, line) in lines.iter().enumerate() {
        let at = format!("README.md:{}", index + 1);
        if let Some((_, after)) = line.split_once("All of them together") {
            let stated = after
                .find(|c: char| c.is_ascii_digit())
                .and_then(|start| leading_number(&after[start..]))
                .unwrap_or_else(|| panic!("{at}: \"All of them together\" states no count"));
            compare(at.clone(), stated, &all, count(&all));
            let default = defaults.join(",");
            compare(at.clone(), stated, "the default features", count(&default));
        }
        let core = line
            .split_once("`default-features = false`, ")
            .and_then(|(_, after)| leading_number(after));
        if let Some(stated) = core {
            compare(at.clone(), stated, "", count(""));
            checked.insert(("README.md".to_owned(), stated));
        }
    }

    let own = documents()
        .into_iter()
        .find(|document| document.path == "docs/own-pipeline.md")
        .expect("docs/own-pipeline.md is a document");
    let toml_block = own
        .blocks()
        .into_iter()
        .find(|block| block.lang() == "toml")
        .expect("own-pipeline.md shows its dependency in a toml block");
    let manifest: toml::Table = toml_block.code.parse().unwrap();
    let own_features: Vec<&str> = manifest["dependencies"]["tonic-traced"]["features"]
        .as_array()
        .expect("own-pipeline.md's dependency lists its features")
        .iter()
        .map(|feature| feature.as_str().unwrap())
        .collect();
    let own_features = own_features.join(",");
    let sentence = " crates in all, against ";
    // Line breaks read as spaces, at the same offsets.
    let flowing = own.text.replace('\n', " ");
    let (before, after) = flowing.split_once(sentence).unwrap_or_else(|| {
        panic!("docs/own-pipeline.md should say \"N{sentence}M with the default features\"")
    });
    let line = own.text[..before.len()].lines().count();
    let at = format!("docs/own-pipeline.md:{line}");
    let stated_own = trailing_number(before).expect("a count before \"crates in all\"");
    let stated_default = leading_number(after).expect("a count after \"against\"");
    compare(at.clone(), stated_own, &own_features, count(&own_features));
    compare(
        at,
        stated_default,
        "the default features",
        count(&defaults.join(",")),
    );
    checked.insert(("docs/own-pipeline.md".to_owned(), stated_own));

    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    for document in documents() {
        let flowing = document.text.replace('\n', " ");
        for (at, _) in flowing.match_indices(" crates") {
            if let Some(number) = trailing_number(&flowing[..at]) {
                assert!(
                    checked.contains(&(document.path.clone(), number)),
                    "{} says \"{number} crates\", a count no test compares with `cargo tree`; \
                     state it where crate_counts_the_docs_state_are_cargo_trees reads counts",
                    document.path
                );
            }
        }
    }
}
