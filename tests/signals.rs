//! Tools stopped the way clusters stop them: SIGTERM (a time limit, a cancelled job), a full disk,
//! and two runs writing into one directory at once. No partial output may be left at any path,
//! and gkd-train checkpoints between batches so that `--resume` ends with the same weights.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gkd::*;

const MOTIFS: &str = "motifs/koo_eddy_12tf_jaspar2016.jaspar";

fn synth_args(n: usize, template: &str) -> Vec<String> {
    let motifs = data(MOTIFS).to_str().unwrap().to_owned();
    ["task1", "--motifs", &motifs, "--n", &n.to_string(), "--seed", "3", "-o", template].map(str::to_owned).to_vec()
}

/// Send SIGTERM to a child process.
fn terminate(pid: u32) {
    let ok = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill -TERM {pid}");
}

#[test]
fn a_data_tool_stopped_by_sigterm_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Big enough that writing the splits takes seconds.
    let child = Command::new(bin("gkd-synth"))
        .args(synth_args(200_000, "big.{split}.npz"))
        .current_dir(d)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stop it while it writes: once a temporary output file exists.
    let start = Instant::now();
    while !listing(d).iter().any(|p| p.file_name().unwrap().to_string_lossy().ends_with(".tmp")) {
        assert!(start.elapsed() < Duration::from_secs(120), "no temporary output appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    terminate(child.id());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");
    assert_eq!(listing(d), Vec::<std::path::PathBuf>::new(), "partial output left behind");
}

#[test]
fn a_full_disk_names_the_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A file-size limit of 512 KiB stands in for a full disk: the training split is larger.
    let script = format!("ulimit -f 512; exec '{}' \"$@\"", bin("gkd-synth").display());
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("gkd-synth")
        .args(synth_args(20_000, "s.{split}.npz"))
        .current_dir(d)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("s.train.npz") && !stderr.contains("internal error"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
    assert_eq!(listing(d), Vec::<std::path::PathBuf>::new(), "partial output left behind");
}

#[test]
fn two_runs_into_one_directory_do_not_disturb_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (d, alone) = (dir.path().join("together"), dir.path().join("alone"));
    for p in [&d, &alone] {
        std::fs::create_dir_all(p).unwrap();
    }
    let spawn = |template: &str, seed: &str| {
        let mut args = synth_args(30_000, template);
        args[6] = seed.to_owned();
        Command::new(bin("gkd-synth")).args(args).current_dir(&d).spawn().unwrap()
    };
    let (a, b) = (spawn("a.{split}.npz", "1"), spawn("b.{split}.npz", "2"));
    for mut child in [a, b] {
        assert!(child.wait().unwrap().success());
    }
    for (template, seed) in [("a.{split}.npz", "1"), ("b.{split}.npz", "2")] {
        let mut args = synth_args(30_000, template);
        args[6] = seed.to_owned();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok(&alone, "gkd-synth", &args);
    }
    let names = |p: &Path| listing(p).iter().map(|f| f.strip_prefix(p).unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&d), names(&alone));
    for f in names(&alone) {
        assert_eq!(std::fs::read(d.join(&f)).unwrap(), std::fs::read(alone.join(&f)).unwrap(), "{f:?} differs");
    }
}

#[test]
fn sigterm_makes_gkd_train_checkpoint_between_batches_and_resume_finishes_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 8,400 training rows in batches of 20: an epoch is about a second on the engine, so a stop
    // sent just after the first checkpoint lands among the second epoch's batches.
    let synth: Vec<String> = synth_args(12_000, "t.{split}.npz");
    run_ok(d, "gkd-synth", &synth.iter().map(String::as_str).collect::<Vec<_>>());
    let train = |out: &str| -> Vec<String> {
        ["--arch", "koo-cnn-local", "--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "4"]
            .into_iter()
            .chain(["--batch-size", "20", "--seed", "7", "-o", out])
            .map(str::to_owned)
            .collect()
    };
    let straight: Vec<String> = train("straight");
    run_ok(d, "gkd-train", &straight.iter().map(String::as_str).collect::<Vec<_>>());

    let child =
        Command::new(bin("gkd-train")).args(train("stopped")).current_dir(d).stderr(Stdio::piped()).spawn().unwrap();
    // Into the second epoch: just after the first checkpoint.
    let latest = d.join("stopped.partial/checkpoint/latest");
    let start = Instant::now();
    while !latest.exists() {
        assert!(start.elapsed() < Duration::from_secs(300), "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    terminate(child.id());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM after batch") && stderr.contains("--resume"), "{stderr}");
    let kept = std::fs::read_to_string(&latest).unwrap();
    assert!(kept.contains("-batch-"), "the checkpoint is within an epoch: {kept}");
    assert!(!d.join("stopped").exists(), "an unfinished model was put in place");

    let mut resumed = train("stopped");
    resumed.push("--resume".into());
    run_ok(d, "gkd-train", &resumed.iter().map(String::as_str).collect::<Vec<_>>());
    for file in ["model.safetensors", "history.tsv", "model.json"] {
        let same = std::fs::read(d.join("straight").join(file)).unwrap()
            == std::fs::read(d.join("stopped").join(file)).unwrap();
        assert!(same, "{file} differs after a stop between batches and --resume");
    }
}

/// Start `tool` in `d`, let it compute for `after`, check that it is still computing, send it
/// SIGTERM and require it to end within 2 s with exit 143 and no output left.
fn stops_within_two_seconds(d: &Path, tool: &str, args: &[&str], after: Duration) {
    let before = listing(d);
    let mut child = Command::new(bin(tool)).args(args).current_dir(d).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(after);
    assert!(child.try_wait().unwrap().is_none(), "{tool} {args:?} ended before SIGTERM: make its work longer");
    terminate(child.id());
    let sent = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(sent.elapsed() < Duration::from_secs(2), "{tool} {args:?} still running 2 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{tool}: {stderr}");
    assert_eq!(listing(d), before, "{tool} left partial output behind");
}

#[test]
fn the_long_numeric_phases_stop_within_two_seconds_of_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let synth: Vec<String> = synth_args(3000, "t.{split}.npz");
    run_ok(d, "gkd-synth", &synth.iter().map(String::as_str).collect::<Vec<_>>());
    let train = ["--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "1"];
    run_ok(d, "gkd-train", &[&train[..], &["-q", "-o", "m"]].concat());
    let warm = Duration::from_millis(1500);
    // Attribution: IG (many steps) and naive ISM (every mutant through the whole network).
    let ig = ["--model", "m", "--data", "t.train.npz", "--method", "ig", "--steps", "400", "-q", "-o", "ig.npz"];
    stops_within_two_seconds(d, "gkd-attribute", &ig, warm);
    let ism = ["--model", "m", "--data", "t.train.npz", "--method", "ism", "--engine", "burn", "-q", "-o", "ism.npz"];
    stops_within_two_seconds(d, "gkd-attribute", &ism, warm);
    // Compression: ADMM pruning, whose retraining is most of its time.
    let admm = ["prune", "--method", "admm", "--ratio", "3", "--admm-epochs", "200", "--model", "m"];
    stops_within_two_seconds(
        d,
        "gkd-compress",
        &[&admm[..], &["--train", "t.train.npz", "--valid", "t.valid.npz", "-q", "-o", "c"]].concat(),
        warm,
    );
    // A genome scan with per-base attribution tracks.
    let fasta = data("fasta/dm3_chr2L_1-10050.fa");
    let scan =
        ["--model", "m", "--fasta", fasta.to_str().unwrap(), "--stride", "1", "--attribution", "ism", "-q", "-o", "s"];
    stops_within_two_seconds(d, "gkd-scan", &scan, warm);
}
