//! The shape of the source as a newcomer reads it: the modules of `runtime/src` import each
//! other without a cycle, no source file of the three crates is over 1,000 lines, and the core
//! (`runtime/src` outside `init/`) has no exporter-specific code.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// Lines a source file may have, its tests included.
const MAX_LINES: usize = 1000;
/// The features that bring an exporter, and with it code only the setup layer may hold.
const EXPORTER_FEATURES: [&str; 3] = ["otlp", "prometheus", "console"];

/// Every `.rs` file under `dir`, with its path relative to `dir`.
fn sources(root: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = fs::read_to_string(&path).unwrap();
                found.push((path.strip_prefix(root).unwrap().to_owned(), text));
            }
        }
    }
    found
}

/// The module path of a file of a crate's `src`: `server/call.rs` is `server/call`,
/// `server/mod.rs` is `server`, `lib.rs` is the root, ``.
fn module_of(path: &Path) -> String {
    let path = path.to_string_lossy().trim_end_matches(".rs").to_owned();
    match path.as_str() {
        "lib" => String::new(),
        _ => path.trim_end_matches("/mod").to_owned(),
    }
}

/// `text` without comments and without its unit tests (a `mod tests` at the end).
fn code_of(text: &str) -> String {
    let text = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules of `runtime/src` each module names through `crate::`, `super::` or a child's
/// name in a `use`; names that reach the crate root (its re-exports) are left out.
fn imports(modules: &BTreeMap<String, String>) -> BTreeMap<&str, BTreeSet<&str>> {
    let file_module = |segments: &[&str]| -> Option<&str> {
        (1..=segments.len())
            .rev()
            .find_map(|end| modules.get_key_value(&segments[..end].join("/")))
            .map(|(module, _)| module.as_str())
    };
    let mut graph = BTreeMap::new();
    for (module, text) in modules {
        let own: Vec<&str> = module.split('/').filter(|part| !part.is_empty()).collect();
        let mut names = BTreeSet::new();
        let code = code_of(text);
        for (start, _) in code
            .match_indices("crate::")
            .chain(code.match_indices("super::"))
        {
            if code[..start].ends_with("::") {
                continue; // `super::super::…`, read from its first `super`
            }
            for path in paths_at(&code[start..]) {
                let ups = path
                    .iter()
                    .take_while(|segment| **segment == "super")
                    .count();
                let full = match path.first() {
                    Some(&"crate") => path[1..].to_vec(),
                    _ => [&own[..own.len().saturating_sub(ups)], &path[ups..]].concat(),
                };
                if let Some(target) = file_module(&full) {
                    names.insert(target);
                }
            }
        }
        for line in code.lines() {
            let line = line.trim_start();
            let line = line.strip_prefix("pub ").unwrap_or(line);
            let line = line.strip_prefix("pub(crate) ").unwrap_or(line);
            if let Some(child) = line
                .strip_prefix("use ")
                .and_then(|path| path.split("::").next())
            {
                let child = [own.clone(), vec![child]].concat().join("/");
                if let Some((child, _)) = modules.get_key_value(&child) {
                    names.insert(child.as_str());
                }
            }
        }
        // A module's own file and its ancestors (whose items it is part of) are not imports.
        names.retain(|name| {
            !name.is_empty() && *name != module && !module.starts_with(&format!("{name}/"))
        });
        graph.insert(module.as_str(), names);
    }
    graph
}

/// The paths named at the start of `text`: `crate::a::b` is one, `crate::a::{b, c::d}` two.
fn paths_at(text: &str) -> Vec<Vec<&str>> {
    let is_path = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let end = text.find(|c: char| !is_path(c)).unwrap_or(text.len());
    let head: Vec<&str> = text[..end].split("::").filter(|s| !s.is_empty()).collect();
    let Some(group) = text[end..].strip_prefix('{') else {
        return vec![head];
    };
    let mut depth = 0;
    let close = group
        .find(|c: char| {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            depth < 0
        })
        .unwrap_or(group.len());
    let mut items = Vec::new();
    let mut depth = 0;
    let mut item_start = 0;
    for (at, c) in group[..close].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[item_start..at]);
                item_start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&group[item_start..close]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|item| !item.is_empty() && *item != "self")
        .flat_map(paths_at)
        .map(|tail| [head.clone(), tail].concat())
        .collect()
}

/// The modules of each import cycle of `graph` (its strongly connected components of two or
/// more modules).
fn cycles<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    let reaches = |from: &'a str| -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::new();
        let mut pending = vec![from];
        while let Some(module) = pending.pop() {
            for next in graph.get(module).into_iter().flatten() {
                if seen.insert(*next) {
                    pending.push(next);
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&str, BTreeSet<&str>> = graph
        .keys()
        .map(|module| (*module, reaches(module)))
        .collect();
    let mut found: Vec<Vec<&str>> = Vec::new();
    for (module, reached) in &reachable {
        let cycle: Vec<&str> = reached
            .iter()
            .copied()
            .filter(|other| reachable[other].contains(module))
            .collect();
        if cycle.len() > 1 && !found.contains(&cycle) {
            found.push(cycle);
        }
    }
    found
}

fn runtime_modules() -> BTreeMap<String, String> {
    sources(&Path::new(WORKSPACE).join("runtime/src"))
        .into_iter()
        .map(|(path, text)| (module_of(&path), text))
        .collect()
}

#[test]
fn the_runtime_modules_import_each_other_without_a_cycle() {
    let modules = runtime_modules();
    let graph = imports(&modules);
    // The edges the graph must see, or it would find no cycle for want of reading imports.
    assert!(graph["server/call"].contains("server/response_stream"));
    assert!(graph["server/call"].contains("config"));
    assert!(graph["config"].contains("metrics"));
    assert!(graph["init/setup"].contains("init/pipeline"));
    assert_eq!(cycles(&graph), Vec::<Vec<&str>>::new());
}

#[test]
fn a_cycle_is_found() {
    let modules: BTreeMap<String, String> = [
        ("a".to_owned(), "use crate::b::Thing;".to_owned()),
        ("b".to_owned(), "fn f() { crate::a::g() }".to_owned()),
        ("c".to_owned(), "use super::a;".to_owned()),
    ]
    .into_iter()
    .collect();
    assert_eq!(cycles(&imports(&modules)), [["a", "b"]]);
}

#[test]
fn no_source_file_is_over_a_thousand_lines() {
    for krate in ["runtime", "macros", "build-support"] {
        let src = Path::new(WORKSPACE).join(krate).join("src");
        for (path, text) in sources(&src) {
            let lines = text.lines().count();
            assert!(
                lines <= MAX_LINES,
                "{krate}/src/{} has {lines} lines; split it by concern",
                path.display()
            );
        }
    }
}

#[test]
fn the_core_has_no_exporter_specific_code() {
    for (module, text) in runtime_modules() {
        if module == "init" || module.starts_with("init/") || module.is_empty() {
            continue;
        }
        for feature in EXPORTER_FEATURES {
            assert!(
                !text.contains(&format!("feature = \"{feature}\"")),
                "runtime/src/{module} has code for the {feature} exporter; it belongs to init/"
            );
        }
    }
}
