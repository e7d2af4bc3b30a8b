//! Every committed fuzz corpus (tests/fuzz/corpus/TARGET/*) replayed through its entry point
//! on stable Rust. The seeds (real files from test-data and tool outputs, named for what they
//! are) must be accepted, so the targets reach the readers' depths; the inputs campaigns added
//! (named by libFuzzer's 40-digit hashes) and every input a defect was found with (named
//! `regression-*`) must be read or refused, never crash.

#[test]
fn every_corpus_input_is_read_or_refused_without_a_panic() {
    let root = gkd::root().join("tests/fuzz/corpus");
    let mut replayed = 0;
    for (name, entry) in gkd_fuzz::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (every target has a seeded corpus)", dir.display()))
            .map(|f| f.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: empty corpus", dir.display());
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| entry(&bytes));
            let accepted = outcome.unwrap_or_else(|_| panic!("{name}: {} crashed the reader", file.display()));
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let grown = name.len() == 40 && name.chars().all(|c| c.is_ascii_hexdigit());
            let seed = !grown && !name.starts_with("regression-");
            assert!(accepted || !seed, "{name}: the seed {} is refused by its reader", file.display());
            replayed += 1;
        }
    }
    assert!(replayed >= gkd_fuzz::TARGETS.len());
}
