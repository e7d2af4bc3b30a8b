//! Read `score<TAB>label` lines on stdin and print `auroc<TAB>aupr` with full precision: the
//! harness tests/python/test_metrics_sklearn.py compares with scikit-learn.

use std::io::BufRead;

fn main() {
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("readable stdin");
        let mut fields = line.split('\t');
        let (Some(s), Some(l)) = (fields.next(), fields.next()) else { continue };
        scores.push(s.parse::<f32>().expect("score"));
        labels.push(l.parse::<f32>().expect("label"));
    }
    let r = gkd_metrics::rank(&scores, &labels);
    let show = |v: Option<f64>| v.map(|x| format!("{x:.17e}")).unwrap_or_else(|| "NA".into());
    println!("{}\t{}", show(r.auroc), show(r.aupr));
}
