//! The documents and what the checks read in them: fenced code blocks and inline code spans,
//! each with the file and line it starts at, so that a failure names where to look.

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("docs-check is a folder of the repository")
        .into()
}

/// A Markdown file, with its path from the repository's root.
pub struct Document {
    /// e.g. `docs/setup.md`.
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// README.md and docs/*.md: the documents whose Rust blocks src/lib.rs compiles.
pub fn guide() -> Vec<Document> {
    let mut paths = vec!["README.md".to_owned()];
    let mut pages: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/ is readable")
        .map(|entry| entry.expect("docs/ is readable").file_name())
        .map(|name| format!("docs/{}", name.to_string_lossy()))
        .filter(|path| path.ends_with(".md"))
        .collect();
    pages.sort();
    paths.extend(pages);
    paths.into_iter().map(read).collect()
}

/// The guide and the other documents that show commands: deploy/README.md and BENCHMARKS.md.
pub fn documents() -> Vec<Document> {
    let mut documents = guide();
    documents.push(read("deploy/README.md".to_owned()));
    documents.push(read("BENCHMARKS.md".to_owned()));
    documents
}

fn read(path: String) -> Document {
    let text = std::fs::read_to_string(repo().join(&path))
        .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    Document { path, text }
}

/// A fenced code block.
#[derive(Debug, Clone)]
pub struct Block {
    /// The document's path, e.g. `README.md`.
    pub file: String,
    /// The line of the opening fence, from 1.
    pub line: usize,
    /// What follows the opening fence, e.g. `rust,no_run`.
    pub info: String,
    /// The lines between the fences, without the fence's indentation.
    pub code: String,
}

impl Block {
    /// `file:line` of the opening fence, e.g. `README.md:55`.
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The language: the info string up to the first comma or space (`rust` for `rust,no_run`).
    pub fn lang(&self) -> &str {
        self.info.split([',', ' ']).next().unwrap_or_default()
    }
}

/// An inline code span (`` `…` ``), its line breaks read as spaces.
#[derive(Debug, Clone)]
pub struct Span {
    /// `file:line` of the opening backtick.
    pub at: String,
    /// The span's text.
    pub code: String,
}

impl Document {
    /// The fenced code blocks (```` ``` ```` fences, indented ones in list items included).
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        let mut open: Option<(usize, usize, String, Vec<&str>)> = None;
        for (index, line) in self.text.lines().enumerate() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            match &mut open {
                None if trimmed.starts_with("```") => {
                    let info = trimmed.trim_start_matches('`').trim().to_owned();
                    open = Some((index + 1, indent, info, Vec::new()));
                }
                None => {}
                Some(_) if trimmed == "```" => {
                    let (line, indent, info, lines) = open.take().expect("a block is open");
                    let code: Vec<&str> = lines
                        .iter()
                        .map(|line| {
                            let spaces = line.len() - line.trim_start_matches(' ').len();
                            &line[spaces.min(indent)..]
                        })
                        .collect();
                    blocks.push(Block {
                        file: self.path.clone(),
                        line,
                        info,
                        code: code.join("\n") + "\n",
                    });
                }
                Some((_, _, _, lines)) => lines.push(line),
            }
        }
        if let Some((line, ..)) = open {
            panic!("{}:{line}: a code block is never closed", self.path);
        }
        blocks
    }

    /// The inline code spans of the text outside the fenced blocks.
    pub fn code_spans(&self) -> Vec<Span> {
        // The text with every fenced block's lines blanked, so that line numbers still hold.
        let mut prose = String::new();
        let mut in_block = false;
        for line in self.text.lines() {
            let fence = line.trim_start().starts_with("```");
            if !in_block && !fence {
                prose.push_str(line);
            }
            if fence {
                in_block = !in_block;
            }
            prose.push('\n');
        }
        let mut spans = Vec::new();
        let mut rest = prose.as_str();
        let mut line = 1;
        while let Some(start) = rest.find('`') {
            line += rest[..start].matches('\n').count();
            let ticks = rest[start..].len() - rest[start..].trim_start_matches('`').len();
            let fence = &rest[start..start + ticks];
            let after = &rest[start + ticks..];
            // The span ends at the next run of exactly as many backticks.
            let mut search = 0;
            let end = loop {
                match after[search..].find(fence) {
                    Some(found) => {
                        let at = search + found;
                        let run = after[at..].len() - after[at..].trim_start_matches('`').len();
                        if run == ticks {
                            break Some(at);
                        }
                        search = at + run;
                    }
                    None => break None,
                }
            };
            let Some(end) = end else {
                rest = after;
                continue;
            };
            let code = after[..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            spans.push(Span {
                at: format!("{}:{line}", self.path),
                code,
            });
            line += after[..end + ticks].matches('\n').count();
            rest = &after[end + ticks..];
        }
        spans
    }
}
