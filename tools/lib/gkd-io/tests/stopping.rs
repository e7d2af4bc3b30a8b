//! The clean-up a tool runs when a signal stops it (`remove_uncommitted`), in a process of its own
//! because it ends the process's ability to create outputs: it removes every temporary output not
//! yet committed, and nothing can be created after it, so no temporary file can appear between the
//! clean-up and the exit.

use gkd_io::atomic::{AtomicFile, StagedDir, remove_uncommitted, stopping};

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn after_the_clean_up_nothing_uncommitted_remains_and_nothing_new_appears() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut written = AtomicFile::create(d.join("a.tsv")).unwrap();
    written.write_all(b"x\n").unwrap();
    let staged = StagedDir::create(&d.join("model"), "partial").unwrap();
    assert_eq!(listing(d).len(), 2, "a temporary file and a staging directory: {:?}", listing(d));

    assert!(!stopping());
    let removed = remove_uncommitted();
    assert!(stopping());
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert_eq!(listing(d), Vec::<String>::new());

    // Refused, and leaves nothing behind: the process is exiting.
    assert!(AtomicFile::create(d.join("b.tsv")).is_err());
    assert!(StagedDir::create(&d.join("other"), "partial").is_err());
    assert_eq!(listing(d), Vec::<String>::new());
    drop((written, staged));
}
