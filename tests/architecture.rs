//! docs/architecture.md against the tree: its library table lists exactly the crates in
//! tools/lib, each with the gkd crates its Cargo.toml depends on and no dependency it does not
//! have; its data-flow picture names every tool; and every binary keeps to "parse, call, write":
//! a `main.rs` (and an `args.rs` for the command line) of at most 300 lines each, nothing else.

use std::collections::BTreeSet;
use std::path::Path;

use gkd::root;

/// The most lines a binary's main.rs or args.rs may have (docs/architecture.md §2).
const LINE_BUDGET: usize = 300;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Names of the crates under `dir` (directories with a Cargo.toml).
fn crates_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The names under `[dependencies]` of a Cargo.toml.
fn dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = read(manifest);
    let mut in_deps = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once(['=', '.']) {
            let name = name.trim();
            if !name.is_empty() && !name.starts_with('#') {
                out.insert(name.to_owned());
            }
        }
    }
    out
}

/// The library table of architecture.md: (crate, names in its "depends on" column).
fn library_table(doc: &str) -> Vec<(String, Vec<String>)> {
    doc.lines()
        .filter(|l| l.starts_with("| `gkd-"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "library row with {} cells: {l}", cells.len());
            let name = cells[0].trim_matches('`').to_owned();
            let deps = cells[2].split(", ").map(|d| d.split(' ').next().unwrap().trim().to_owned()).collect();
            (name, deps)
        })
        .collect()
}

#[test]
fn the_library_table_is_the_crates_in_tools_lib_with_their_dependencies() {
    let doc = read(&root().join("docs/architecture.md"));
    let table = library_table(&doc);
    let listed: BTreeSet<String> = table.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(listed, crates_in(&root().join("tools/lib")), "architecture.md §2 and tools/lib differ");
    for (name, named) in &table {
        let deps = dependencies(&root().join("tools/lib").join(name).join("Cargo.toml"));
        let named: BTreeSet<String> = named.iter().cloned().collect();
        let gkd = |s: &BTreeSet<String>| s.iter().filter(|d| d.starts_with("gkd-")).cloned().collect::<BTreeSet<_>>();
        assert_eq!(gkd(&named), gkd(&deps), "{name}: the gkd crates it depends on");
        let unknown: Vec<&String> = named.difference(&deps).collect();
        assert!(unknown.is_empty(), "{name}: architecture.md names dependencies its Cargo.toml lacks: {unknown:?}");
    }
}

#[test]
fn the_data_flow_picture_names_every_tool() {
    let doc = read(&root().join("docs/architecture.md"));
    let picture = doc.split("## 1. Data flow").nth(1).and_then(|s| s.split("```").nth(1)).expect("the picture");
    for tool in crates_in(&root().join("tools")) {
        assert!(picture.contains(&tool), "the data-flow picture has no {tool}");
    }
}

#[test]
fn binaries_only_parse_call_and_write() {
    for tool in crates_in(&root().join("tools")) {
        let src = root().join("tools").join(&tool).join("src");
        let files: BTreeSet<String> =
            std::fs::read_dir(&src).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        let allowed: BTreeSet<String> = ["main.rs", "args.rs"].iter().map(|s| s.to_string()).collect();
        assert!(files.contains("main.rs") && files.is_subset(&allowed), "{tool}/src holds {files:?}");
        for file in &files {
            let lines = read(&src.join(file)).lines().count();
            assert!(lines <= LINE_BUDGET, "{tool}/src/{file} has {lines} lines (budget {LINE_BUDGET})");
        }
    }
}
