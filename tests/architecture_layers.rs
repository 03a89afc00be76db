//! The module graph stays one-way (ARCHITECTURE.md, "Layers").
//!
//! Reads the source of every crate of the workspace as text and checks two properties:
//! 1. No import cycle between files, in any crate: a file `a.rs` that names `crate::b`,
//!    `super::b`, `self::b` or a child module `b::` (re-exports of a `mod.rs`/`lib.rs`
//!    included) while `b` names `a`, directly or through other files. Test-only child files
//!    (`mod tests;` that `use super::*`) are not named by their parent, so they form no cycle.
//! 2. In the server crate, every top-level module has a layer (table [`LAYERS`]) and no file
//!    names a module of a higher layer. A new module must be given a layer here.
//!
//! A reference is resolved to the longest module path that is a file; `crate::a::b::Item`
//! names `a/b.rs` if it exists, else `a.rs` or `a/mod.rs`. Comments and string literals are
//! ignored. The checker's own tests below show that it finds a cycle and an upward reference.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers of the server crate's top-level modules; arrows may only point to the same or a
/// lower number.
const LAYERS: &[(&str, u8)] = &[
    // 0 ground
    ("error", 0),
    ("config", 0),
    ("ids", 0),
    ("names", 0),
    ("locks", 0),
    ("fsutil", 0),
    ("blocking", 0),
    ("descriptor", 0),
    // 1 storage (with the tessera-wal and tessera-format crates)
    ("catalog", 1),
    ("ipc", 1),
    // 2 services
    ("logs", 2),
    ("uploads", 2),
    ("compactor", 2),
    ("lifecycle", 2),
    ("engine", 2),
    // 3 requests
    ("ingest", 3),
    ("read", 3),
    ("query", 3),
    ("verify", 3),
    // 4 the door and test support
    ("flight", 4),
    ("server", 4),
    ("harness", 4),
    // the crate root (lib.rs, main.rs) declares everything
    ("", 5),
];

type Module = Vec<String>;
type Graph = BTreeMap<Module, BTreeSet<Module>>;

/// Every `.rs` file under `root`, by module path (`lib.rs`, `main.rs`, `mod.rs` name their
/// directory's module).
fn module_files(root: &Path) -> BTreeMap<Module, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "main.rs")
                && path.with_file_name("lib.rs").exists()
            {
                // The binary beside a library is a crate of its own (it names `tessera::`).
                continue;
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("");
                let mut module: Module = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("lib" | "main" | "mod")
                ) {
                    module.pop();
                }
                out.insert(module, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

/// The source without comments, string literal contents and an inline test module at the end
/// of the file (`#[cfg(test)] mod tests { .. }`: its `super::` is the file itself).
fn strip(src: &str) -> String {
    let src = match Regex::new(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{")
        .unwrap()
        .find(src)
    {
        Some(m) => &src[..m.start()],
        None => src,
    };
    let line = Regex::new(r"//[^\n]*").unwrap();
    let block = Regex::new(r"(?s)/\*.*?\*/").unwrap();
    let string = Regex::new(r#""(\\.|[^"\\])*""#).unwrap();
    let s = block.replace_all(src, "");
    let s = line.replace_all(&s, "");
    string.replace_all(&s, "\"\"").into_owned()
}

/// `base::{a, b::{c, d}}` -> `base::a`, `base::b::c`, `base::b::d`.
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find("::{") else {
        return vec![path.to_string()];
    };
    let (base, rest) = (&path[..open], &path[open + 3..]);
    let inner = rest.strip_suffix('}').unwrap_or(rest);
    let (mut parts, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for ch in inner.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    parts.push(cur);
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{base}::{p}")))
        .collect()
}

/// The modules of `files` that `module`'s source names (itself excluded).
fn references(module: &Module, src: &str, files: &BTreeMap<Module, String>) -> BTreeSet<Module> {
    let paths = Regex::new(r"\b(?:crate|super|self)(?:::(?:\w+|\{[^;]*?\}))+").unwrap();
    let mut out = BTreeSet::new();
    for m in paths.find_iter(src) {
        for full in expand(m.as_str()) {
            let segs: Vec<&str> = full
                .split("::")
                .map(|s| s.split(" as ").next().unwrap_or(s).trim())
                .collect();
            let (mut at, rest) = match segs.first() {
                Some(&"crate") => (Vec::new(), &segs[1..]),
                _ => {
                    let mut at = module.clone();
                    let mut i = 0;
                    while let Some(s) = segs.get(i) {
                        match *s {
                            "super" => {
                                at.pop();
                            }
                            "self" => {}
                            _ => break,
                        }
                        i += 1;
                    }
                    (at, &segs[i..])
                }
            };
            for s in rest {
                let mut next = at.clone();
                next.push(s.to_string());
                if !files.contains_key(&next) {
                    break;
                }
                at = next;
            }
            if &at != module {
                out.insert(at);
            }
        }
    }
    // Child modules named without a path prefix (`seal::run(..)` in `compactor/mod.rs`).
    let decl = Regex::new(r"\bmod\s+(\w+)\s*;").unwrap();
    for c in decl.captures_iter(src) {
        let name = &c[1];
        let mut child = module.clone();
        child.push(name.to_string());
        let used = Regex::new(&format!(r"(?:^|[^:\w]){name}::")).unwrap();
        if files.contains_key(&child) && used.is_match(src) {
            out.insert(child);
        }
    }
    out
}

fn graph(files: &BTreeMap<Module, String>) -> Graph {
    files
        .iter()
        .map(|(m, src)| (m.clone(), references(m, &strip(src), files)))
        .collect()
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<Module>> {
    struct T<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        out: Vec<Vec<Module>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Module) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.g[v] {
            let Some((w, _)) = t.g.get_key_value(w) else {
                continue;
            };
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "<crate root>".into()
    } else {
        m.join("::")
    }
}

fn layer(m: &Module) -> Option<u8> {
    let top = m.first().map(String::as_str).unwrap_or("");
    LAYERS.iter().find(|(n, _)| *n == top).map(|(_, l)| *l)
}

/// Upward references and modules without a layer.
fn layer_violations(g: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for (a, refs) in g {
        let Some(la) = layer(a) else {
            out.push(format!("`{}` has no layer in LAYERS", name(a)));
            continue;
        };
        for b in refs {
            if let Some(lb) = layer(b) {
                if lb > la {
                    out.push(format!(
                        "`{}` (layer {la}) names `{}` (layer {lb})",
                        name(a),
                        name(b)
                    ));
                }
            }
        }
    }
    out
}

fn crate_roots() -> Vec<PathBuf> {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        "src",
        "wal/src",
        "format/src",
        "benches/src",
        "tests/powercut/src",
    ]
    .iter()
    .map(|d| top.join(d))
    .filter(|d| d.is_dir())
    .collect()
}

#[test]
fn no_import_cycle_between_files() {
    let mut found = Vec::new();
    let mut files_seen = 0;
    for root in crate_roots() {
        let files = module_files(&root);
        files_seen += files.len();
        for comp in cycles(&graph(&files)) {
            let names: Vec<String> = comp.iter().map(name).collect();
            found.push(format!("{}: {}", root.display(), names.join(" <-> ")));
        }
    }
    assert!(files_seen > 100, "read only {files_seen} files");
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn server_layers_point_down() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&module_files(&root));
    let bad = layer_violations(&g);
    assert!(bad.is_empty(), "layer violations:\n{}", bad.join("\n"));
}

fn synthetic(files: &[(&str, &str)]) -> Graph {
    let files: BTreeMap<Module, String> = files
        .iter()
        .map(|(m, s)| {
            let module = if m.is_empty() {
                Vec::new()
            } else {
                m.split("::").map(String::from).collect()
            };
            (module, s.to_string())
        })
        .collect();
    graph(&files)
}

#[test]
fn the_checker_finds_cycles_and_upward_references() {
    // A parent that re-exports a child which names the parent: a cycle.
    let g = synthetic(&[
        ("", "mod engine; mod read;"),
        (
            "engine",
            "mod seal;\npub use seal::run;\npub struct Engine;",
        ),
        (
            "engine::seal",
            "use super::Engine; // not a cycle by comment: super::x",
        ),
        ("read", "use crate::engine::{Engine, seal::run};"),
    ]);
    let found = cycles(&g);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].iter().map(name).collect::<Vec<_>>(),
        ["engine", "engine::seal"]
    );
    // Through a third file, with a brace group.
    let g = synthetic(&[
        ("a", "use crate::{b::X, c};"),
        ("b", "fn f() { crate::c::g() }"),
        ("c", "use super::a as thing;"),
    ]);
    assert_eq!(cycles(&g).len(), 1);
    // An inline test module's `super::` is its own file.
    let g = synthetic(&[
        ("", "mod a;"),
        (
            "a",
            "pub fn f() {}\n#[cfg(test)]\nmod tests {\n    fn t() { super::f() }\n}",
        ),
    ]);
    assert!(cycles(&g).is_empty(), "{:?}", cycles(&g));
    // Strings and comments do not count; test-only children form no cycle.
    let g = synthetic(&[
        (
            "a",
            "/* crate::b */ const S: &str = \"crate::b\";\n#[cfg(test)] mod tests;",
        ),
        ("a::tests", "use super::*;"),
        ("b", "use crate::a;"),
    ]);
    assert!(cycles(&g).is_empty(), "{:?}", cycles(&g));
    // An upward reference and a module without a layer.
    let g = synthetic(&[
        ("catalog", "use crate::engine::Engine;"),
        ("engine", ""),
        ("newthing", ""),
    ]);
    let bad = layer_violations(&g);
    assert_eq!(bad.len(), 2, "{bad:?}");
}
