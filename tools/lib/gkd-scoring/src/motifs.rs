//! `gkd-score motifs`: TF-MoDISco patterns (named by Tomtom) against the motifs a synthetic
//! dataset embedded (docs/science.md §5). An embedded motif is found when some pattern matches it
//! with q below the threshold; its row counts those patterns and their seqlets. Patterns that
//! match no embedded motif are false patterns: matched to a decoy (its own row), to another
//! database motif (`other`) or to nothing (`none`).

use std::path::{Path, PathBuf};

use gkd_io::error::{Error, Result};
use gkd_io::manifest::{DatasetManifest, manifest_path_for};
use gkd_io::patterns::{Pattern, PatternSet};
use gkd_io::scores::MotifRow;

/// The motifs a synthetic split embedded, from its manifest: (true motifs, decoys), each
/// "ID NAME".
pub fn embedded(data: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let manifest_path = manifest_path_for(data);
    let manifest = DatasetManifest::read(&manifest_path)?;
    let list = |key: &str| -> Vec<String> {
        manifest.parameters[key]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    // Task 3 records positives and decoys; task 1 records its motifs.
    let truth =
        if manifest.parameters.get("positive_motifs").is_some() { list("positive_motifs") } else { list("motifs") };
    if truth.is_empty() {
        return Err(Error::in_file(
            &manifest_path,
            "records no embedded motifs (a gkd-synth split has 'motifs' or 'positive_motifs'); give --motif",
        ));
    }
    Ok((truth, list("decoy_motifs")))
}

/// The database id of an "ID NAME" motif.
fn id_of(motif: &str) -> &str {
    motif.split_whitespace().next().unwrap_or(motif)
}

/// The significant matches' ids of a pattern.
fn significant(pattern: &Pattern, q: f64) -> Vec<&str> {
    pattern.matches.iter().filter(|m| m.q < q).map(|m| m.id.as_str()).collect()
}

/// Score each labelled patterns file (MODEL.METHOD=FILE) against the true and decoy motifs.
pub fn score(inputs: &[(String, PathBuf)], truth: &[String], decoys: &[String], q: f64) -> Result<Vec<MotifRow>> {
    let mut rows = Vec::new();
    for (label, path) in inputs {
        let set = PatternSet::read(path)?;
        let (model, method) = match label.rsplit_once('.') {
            Some((m, k)) => (m.to_owned(), k.to_owned()),
            None => (label.clone(), String::new()),
        };
        let row = |motif: &str, kind: &str, matched: &[&Pattern], best_q: Option<f64>| MotifRow {
            model: model.clone(),
            method: method.clone(),
            motif: motif.to_owned(),
            kind: kind.to_owned(),
            found: !matched.is_empty(),
            patterns: matched.len(),
            seqlets: matched.iter().map(|p| p.seqlets).sum(),
            best_q,
        };
        let best_q = |motif: &str| {
            set.patterns
                .iter()
                .flat_map(|p| p.matches.iter())
                .filter(|m| m.id == id_of(motif))
                .map(|m| m.q)
                .fold(None, |best: Option<f64>, q| Some(best.map_or(q, |b| b.min(q))))
        };
        let matching = |motif: &str| -> Vec<&Pattern> {
            set.patterns.iter().filter(|p| significant(p, q).contains(&id_of(motif))).collect()
        };
        for motif in truth {
            rows.push(row(motif, "true", &matching(motif), best_q(motif)));
        }
        let is_true = |p: &&Pattern| significant(p, q).iter().any(|id| truth.iter().any(|t| id_of(t) == *id));
        let false_patterns: Vec<&Pattern> = set.patterns.iter().filter(|p| !is_true(p)).collect();
        for motif in decoys {
            let matched: Vec<&Pattern> =
                false_patterns.iter().copied().filter(|p| significant(p, q).contains(&id_of(motif))).collect();
            if !matched.is_empty() {
                rows.push(row(motif, "decoy", &matched, best_q(motif)));
            }
        }
        let is_decoy = |p: &&Pattern| significant(p, q).iter().any(|id| decoys.iter().any(|d| id_of(d) == *id));
        let other: Vec<&Pattern> =
            false_patterns.iter().copied().filter(|p| !is_decoy(p) && !significant(p, q).is_empty()).collect();
        let none: Vec<&Pattern> = false_patterns.iter().copied().filter(|p| significant(p, q).is_empty()).collect();
        rows.push(row("other", "other", &other, None));
        rows.push(row("none", "none", &none, None));
        let found =
            rows.iter().filter(|r| r.model == model && r.method == method && r.kind == "true" && r.found).count();
        log::info!(
            "{label}: {} pattern(s); {found} of {} embedded motif(s) found; {} false pattern(s)",
            set.patterns.len(),
            truth.len(),
            false_patterns.len()
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(name: &str, seqlets: usize, matches: &[(&str, f64)]) -> String {
        let m: Vec<String> =
            matches.iter().map(|(id, q)| format!(r#"{{"id": "{id}", "name": "", "p": {q}, "q": {q}}}"#)).collect();
        format!(
            r#"{{"metacluster": "pos_patterns", "pattern": "{name}", "seqlets": {seqlets}, "matches": [{}]}}"#,
            m.join(",")
        )
    }

    #[test]
    fn patterns_are_counted_against_true_decoy_and_other_motifs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let patterns = [
            pattern("pattern_0", 60, &[("MA1", 0.001), ("MA9", 0.01)]), // true MA1 (and other MA9)
            pattern("pattern_1", 30, &[("MA1", 0.04)]),                 // true MA1 again
            pattern("pattern_2", 20, &[("MA5", 0.2), ("MA2", 0.3)]),    // nothing significant
            pattern("pattern_3", 10, &[("MA7", 0.001)]),                // decoy MA7
            pattern("pattern_4", 5, &[("MA9", 0.02)]),                  // other
        ];
        std::fs::write(&path, format!(r#"{{"patterns": [{}]}}"#, patterns.join(","))).unwrap();
        let truth = vec!["MA1 ONE".to_owned(), "MA2 TWO".to_owned()];
        let decoys = vec!["MA7 SEVEN".to_owned(), "MA8 EIGHT".to_owned()];
        let rows = score(&[("teacher.deepshap".into(), path)], &truth, &decoys, 0.05).unwrap();
        let got: Vec<(&str, &str, bool, usize, usize)> =
            rows.iter().map(|r| (r.motif.as_str(), r.kind.as_str(), r.found, r.patterns, r.seqlets)).collect();
        assert_eq!(
            got,
            vec![
                ("MA1 ONE", "true", true, 2, 90),
                ("MA2 TWO", "true", false, 0, 0),
                ("MA7 SEVEN", "decoy", true, 1, 10),
                ("other", "other", true, 1, 5),
                ("none", "none", true, 1, 20),
            ]
        );
        assert_eq!((rows[0].model.as_str(), rows[0].method.as_str()), ("teacher", "deepshap"));
        assert_eq!((rows[0].best_q, rows[1].best_q), (Some(0.001), Some(0.3)));
    }
}
