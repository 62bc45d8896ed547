//! The code blocks of README.md and docs/*.md other than the Rust ones (which src/lib.rs
//! compiles as doctests) are checked here: TOML blocks parse and name crates, versions and
//! features that exist; proto blocks compile with tonic-traced-build, and the Quickstart's is
//! the proto the README's Rust blocks are compiled against. And every page of the guide is
//! compiled by src/lib.rs, with its Rust blocks shown whole.

use std::collections::BTreeSet;

use tonic_traced_docs_check::markdown::{guide, repo, Block, Document};

/// Every page of the guide has its Rust blocks compiled: src/lib.rs includes each of
/// README.md and docs/*.md, so a new page cannot be left out.
#[test]
fn every_page_of_the_guide_is_compiled() {
    let lib = std::fs::read_to_string(repo().join("docs-check/src/lib.rs")).unwrap();
    for document in guide() {
        let include = format!("include_str!(\"../../{}\")", document.path);
        assert!(
            lib.contains(&include),
            "{} is not compiled: add `#[cfg(doctest)] #[doc = {include}] pub struct …;` to \
             docs-check/src/lib.rs",
            document.path
        );
    }
}

/// Rust blocks are compiled and shown as they are compiled: none is `ignore`d, and none
/// hides lines with `# ` (GitHub shows those lines, so the block would read wrong there).
#[test]
fn rust_blocks_are_compiled_and_shown_whole() {
    for document in guide() {
        for block in document.blocks() {
            if !matches!(block.lang(), "rust" | "") {
                continue;
            }
            assert!(
                !block.info.contains("ignore"),
                "{}: ```{} is not compiled; make the block compile (no_run if it must not \
                 run) instead",
                block.at(),
                block.info
            );
            for (offset, line) in block.code.lines().enumerate() {
                let trimmed = line.trim_start();
                assert!(
                    trimmed != "#" && !trimmed.starts_with("# "),
                    "{} (line {} of the block): `{line}` is hidden by rustdoc but shown by \
                     GitHub; write the block so that every line can be shown",
                    block.at(),
                    offset + 1
                );
            }
        }
    }
}

fn blocks(document: &Document, lang: &str) -> Vec<Block> {
    document
        .blocks()
        .into_iter()
        .filter(|block| block.lang() == lang)
        .collect()
}

fn parse_toml(path: &str) -> toml::Table {
    let text = std::fs::read_to_string(repo().join(path)).unwrap();
    text.parse()
        .unwrap_or_else(|error| panic!("{path} is not TOML: {error}"))
}

/// The version requirement of a dependency entry: `"0.1"` or `{ version = "0.1", … }`.
fn version(entry: &toml::Value) -> Option<&str> {
    match entry {
        toml::Value::String(version) => Some(version),
        toml::Value::Table(table) => table.get("version").and_then(toml::Value::as_str),
        _ => None,
    }
}

/// Whether two requirements name the same release line: one's numbers begin the other's
/// (`0.1` and `0.1.0` agree, `0.13` and `0.14` do not).
fn same_line(a: &str, b: &str) -> bool {
    let a: Vec<&str> = a.trim_start_matches(['^', '=']).split('.').collect();
    let b: Vec<&str> = b.trim_start_matches(['^', '=']).split('.').collect();
    a.iter().zip(&b).all(|(a, b)| a == b)
}

/// TOML blocks parse, and each dependency they list is one the workspace uses, at the
/// version the workspace uses; tonic-traced's features are ones runtime/Cargo.toml defines.
#[test]
fn toml_blocks_parse_and_name_crates_versions_and_features_that_exist() {
    let workspace = parse_toml("Cargo.toml");
    let used = workspace["workspace"]["dependencies"]
        .as_table()
        .expect("[workspace.dependencies]");
    let features: BTreeSet<String> = parse_toml("runtime/Cargo.toml")["features"]
        .as_table()
        .expect("runtime/Cargo.toml has [features]")
        .keys()
        .cloned()
        .collect();
    let mut checked = 0;
    for document in guide() {
        for block in blocks(&document, "toml") {
            let table: toml::Table = block.code.parse().unwrap_or_else(|error| {
                panic!("{}: the TOML block does not parse: {error}", block.at())
            });
            for section in ["dependencies", "build-dependencies", "dev-dependencies"] {
                let Some(dependencies) = table.get(section).and_then(toml::Value::as_table) else {
                    continue;
                };
                for (name, entry) in dependencies {
                    checked += 1;
                    let at = format!("{}: [{section}] {name}", block.at());
                    let workspace_entry = used.get(name).unwrap_or_else(|| {
                        panic!("{at}: no crate of the workspace uses {name}; add it there or fix the name")
                    });
                    let wanted = version(entry).unwrap_or_else(|| {
                        panic!("{at}: give a version, as users take it from crates.io")
                    });
                    let ours =
                        version(workspace_entry).expect("workspace dependencies have versions");
                    assert!(
                        same_line(wanted, ours),
                        "{at} = \"{wanted}\", but the workspace uses {ours} (Cargo.toml); \
                         quote the version the crates are built and tested with"
                    );
                    let named: Vec<&str> = entry
                        .get("features")
                        .and_then(toml::Value::as_array)
                        .map(|list| list.iter().filter_map(toml::Value::as_str).collect())
                        .unwrap_or_default();
                    if name == "tonic-traced" {
                        for feature in named {
                            assert!(
                                features.contains(feature),
                                "{at}: tonic-traced has no feature {feature:?}; \
                                 runtime/Cargo.toml defines {features:?}"
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 0, "no TOML dependency was found to check");
}

/// The first segments of the paths a Rust block names (`tonic_traced` in
/// `tonic_traced::init()`), leaving out the standard library, the block's own modules and
/// types (`Status::ok`).
fn crates_named(code: &str) -> BTreeSet<String> {
    let local: BTreeSet<&str> = code
        .split("mod ")
        .skip(1)
        .filter_map(|rest| rest.split([' ', '{', ';']).next())
        .collect();
    let mut crates = BTreeSet::new();
    for (at, _) in code.match_indices("::") {
        let before = &code[..at];
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |index| index + 1);
        let name = &before[start..];
        let first_segment = !before[..start].ends_with("::") && !before[..start].ends_with('<');
        if first_segment
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !["std", "core", "alloc", "crate", "self", "super"].contains(&name)
            && !local.contains(name)
        {
            crates.insert(name.to_owned());
        }
    }
    crates
}

/// The README's Quickstart `Cargo.toml` lists every crate the README's Rust blocks use, so
/// a new user who copies them builds (the issue found `opentelemetry` missing).
#[test]
fn quickstart_dependencies_cover_the_readmes_rust_blocks() {
    let readme = guide().remove(0);
    let quickstart = &blocks(&readme, "toml")[0];
    let table: toml::Table = quickstart.code.parse().unwrap();
    let listed: BTreeSet<String> = ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|section| table.get(*section).and_then(toml::Value::as_table))
        .flat_map(|dependencies| dependencies.keys())
        .map(|name| name.replace('-', "_"))
        .collect();
    for block in blocks(&readme, "rust") {
        for name in crates_named(&block.code) {
            assert!(
                listed.contains(&name),
                "{} uses `{name}::`, which the Quickstart's Cargo.toml ({}) does not list; \
                 add it there",
                block.at(),
                quickstart.at()
            );
        }
    }
}

/// What a proto block without a `syntax` line (a fragment of a file) is compiled after.
const FRAGMENT_HEADER: &str =
    "syntax = \"proto3\";\npackage fragment;\nimport \"tonic_traced/trace.proto\";\n";

/// Every proto block compiles with tonic-traced-build, the annotations included: whole files
/// as they are, fragments (no `syntax` line) after `syntax`, `package` and the import of
/// `tonic_traced/trace.proto`. A fragment must define the types it uses.
#[test]
fn proto_blocks_compile_with_tonic_traced_build() {
    let mut compiled = 0;
    for document in guide() {
        for block in blocks(&document, "proto") {
            let folder = tempfile::tempdir().unwrap();
            let source = if block.code.contains("syntax =") {
                block.code.clone()
            } else {
                format!("{FRAGMENT_HEADER}{}", block.code)
            };
            std::fs::write(folder.path().join("block.proto"), source).unwrap();
            let out = folder.path().join("out");
            std::fs::create_dir(&out).unwrap();
            let result = tonic_traced_build::configure()
                .out_dir(&out)
                .emit_rerun_if_changed(false)
                .compile_protos(&[folder.path().join("block.proto")], &[folder.path()]);
            if let Err(error) = result {
                panic!(
                    "{}: the proto block does not compile with tonic-traced-build:\n{error}\n\
                     (a block without a `syntax` line is compiled after these lines, which the \
                     line numbers above count:\n{FRAGMENT_HEADER})",
                    block.at()
                );
            }
            compiled += 1;
        }
    }
    assert!(compiled > 0, "no proto block was found to compile");
}

/// A proto file's text without comments, its whitespace collapsed.
fn normalized_proto(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The top-level `message`/`service`/`enum` declarations of a normalized proto, whole.
fn declarations(proto: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut depth = 0;
    let mut start = None;
    for (index, c) in proto.char_indices() {
        match c {
            '{' => {
                if depth == 0 {
                    // The declaration starts after the statement or declaration before it.
                    start = Some(proto[..index].rfind([';', '}']).map_or(0, |at| at + 1));
                }
                depth += 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    found.push(proto[start.take().unwrap()..=index].trim());
                }
            }
            _ => {}
        }
    }
    found
}

/// The README's Quickstart proto is the examples' `payment.proto` (each message and service it
/// declares is declared the same there): docs-check's build.rs compiles that file for the
/// README's Rust blocks, which so use what the Quickstart shows.
#[test]
fn quickstart_proto_is_the_examples_payment_proto() {
    let readme = guide().remove(0);
    let quickstart = &blocks(&readme, "proto")[0];
    let examples = normalized_proto(
        &std::fs::read_to_string(repo().join("examples/proto/payment.proto")).unwrap(),
    );
    let shown = normalized_proto(&quickstart.code);
    let declared = declarations(&shown);
    assert!(
        !declared.is_empty(),
        "{}: no declaration found",
        quickstart.at()
    );
    for declaration in declared {
        assert!(
            examples.contains(declaration),
            "{}: `{declaration}` is not declared so in examples/proto/payment.proto, which the \
             README's Rust blocks are compiled against; make the two agree",
            quickstart.at()
        );
    }
}
