//! The layers point one way (docs/ARCHITECTURE.md): read from the source itself, no product module (a folder of
//! src/modules/) sits in an import cycle, and nothing below the app's assembly imports a product module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top: assembles the app (and the command line that starts it); the only code that may import everything.
const TOP: [&str; 3] = ["app", "cli", "lib"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `modules::<name>` for a product module, else the top-level module a file belongs to.
fn node_of_file(src: &Path, file: &Path) -> String {
    let rel: Vec<String> = file.strip_prefix(src).unwrap().with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    match rel.as_slice() {
        [m, name, ..] if m == "modules" => format!("modules::{name}"),
        [first, ..] => first.clone(),
        [] => "lib".into(),
    }
}

fn node_of_path(path: &str) -> String {
    let mut parts = path.split("::");
    match (parts.next(), parts.next()) {
        (Some("modules"), Some(name)) => format!("modules::{name}"),
        (Some(first), _) => first.to_string(),
        _ => String::new(),
    }
}

/// Every `crate::a::b` path a file names outside its tests, including inside `use crate::{a, b::c}` groups.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level items of the group (commas inside nested braces belong to their item).
            let (mut depth, mut start) = (0usize, 0usize);
            let mut items = Vec::new();
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        items.push(&group[start..i]);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            for item in items {
                if let Some(first) = item.trim().split(['{', ' ']).next().filter(|s| !s.is_empty()) {
                    out.insert(first.trim_end_matches("::").to_string());
                }
            }
            continue;
        }
        let path: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
        out.insert(path.trim_end_matches("::").to_string());
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let from = node_of_file(&src, &file);
        let text = std::fs::read_to_string(&file).unwrap();
        for path in crate_paths(&text) {
            let to = node_of_path(&path);
            // Macros exported at the crate root (`crate::text_enum!`) are not modules.
            if !to.is_empty() && to != from && to != "text_enum" {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
        edges.entry(from).or_default();
    }
    edges
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit(t: &mut T, v: &str) {
        t.index.insert(v.into(), t.next);
        t.low.insert(v.into(), t.next);
        t.next += 1;
        t.stack.push(v.into());
        t.on.insert(v.into());
        for w in t.edges.get(v).cloned().unwrap_or_default() {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let lw = t.low[&w];
                let lv = t.low[v];
                t.low.insert(v.into(), lv.min(lw));
            } else if t.on.contains(&w) {
                let iw = t.index[&w];
                let lv = t.low[v];
                t.low.insert(v.into(), lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: vec![], on: BTreeSet::new(), next: 0, out: vec![] };
    for v in edges.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_product_module_is_in_an_import_cycle_and_only_the_top_imports_product_modules() {
    let edges = graph();
    assert!(edges.contains_key("modules::planner") && edges.contains_key("jobs"), "the source was read: {:?}", edges.keys());
    for comp in cycles(&edges) {
        let product: Vec<&String> = comp.iter().filter(|m| m.starts_with("modules::")).collect();
        assert!(product.is_empty(), "product modules in an import cycle: {comp:?}");
    }
    for (from, tos) in &edges {
        if from.starts_with("modules::") || TOP.contains(&from.as_str()) {
            continue;
        }
        let up: Vec<&String> = tos.iter().filter(|t| t.starts_with("modules::")).collect();
        assert!(up.is_empty(), "{from} (below the modules) imports {up:?}");
    }
}

#[test]
fn the_reader_finds_grouped_and_plain_paths() {
    let text =
        "use crate::{jobs::{Job, Registry}, web};\nfn f() { crate::modules::planner::x(); }\n#[cfg(test)]\nmod t { use crate::app; }";
    let paths = crate_paths(text);
    let nodes: BTreeSet<String> = paths.iter().map(|p| node_of_path(p)).collect();
    assert_eq!(nodes, BTreeSet::from(["jobs".to_string(), "web".to_string(), "modules::planner".to_string()]));
}
