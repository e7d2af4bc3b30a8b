//! Gaussian graphical models (gkd-ggm): per network, a heatmap of |partial correlation| (|Δ| for
//! a differential network) over the features, and the hub scores summed per mark and per bin
//! range (histone features), read from the edge and hub tables beside the sidecar.

use std::collections::BTreeMap;
use std::path::Path;

use gkd_io::error::{Error, Result};
use gkd_io::networks::GgmReport;
use gkd_io::table::TextTable;

use crate::svg::{bars, escape, heatmap_with_axis};

/// Networks wider than this are shown by their hub scores only.
const MOST_FEATURES_DRAWN: usize = 150;

fn parse(path: &Path, line: usize, column: &str, text: &str) -> Result<f64> {
    text.parse().map_err(|_| {
        Error::at_line(path, line as u64 + 2, format!("column '{column}' has '{text}'; expected a number"))
    })
}

/// The section of one gkd-ggm run (its sidecar's path).
pub fn section(sidecar: &Path) -> Result<String> {
    let report = GgmReport::read(sidecar)?;
    let dir = sidecar.parent().unwrap_or(Path::new("."));
    let file = |suffix: &str| {
        report
            .files
            .iter()
            .find(|f| f.ends_with(suffix))
            .map(|f| dir.join(f))
            .ok_or_else(|| Error::in_file(sidecar, format!("names no {suffix} file")))
    };
    let (edges_path, hubs_path) = (file(".edges.tsv")?, file(".hubs.tsv")?);
    let p = report.features.len();
    let names: Vec<String> = report.networks.iter().map(|n| n.name.clone()).collect();
    let mut s = format!(
        "<section><h2>Networks: {} ({}, λ {:.4} by {})</h2><p>{} features; {}</p><div class=\"row\">",
        escape(&sidecar.display().to_string()),
        escape(&report.method),
        report.lambda.lambda,
        escape(&report.lambda.rule),
        p,
        escape(
            &report
                .networks
                .iter()
                .map(|n| format!("{}: {} edges ({} shared)", n.name, n.edges, n.shared))
                .collect::<Vec<_>>()
                .join("; ")
        )
    );
    if p <= MOST_FEATURES_DRAWN {
        let edges = TextTable::read(&edges_path, Some(b'\t'))?;
        let condition = edges.column("condition")?;
        let (i, j) = (edges.column("i")?, edges.column("j")?);
        let differential = report.method == "diffee";
        let value = edges.column(if differential { "weight" } else { "partial_correlation" })?;
        let mut matrices = vec![vec![0f32; p * p]; names.len()];
        for r in 0..edges.height() {
            let text = |c: &Vec<Option<String>>| c[r].clone().unwrap_or_default();
            let g = names.iter().position(|n| *n == text(&condition)).ok_or_else(|| {
                Error::at_line(
                    &edges_path,
                    r as u64 + 2,
                    format!("condition '{}' is not a network of the sidecar", text(&condition)),
                )
            })?;
            let (a, b) =
                (parse(&edges_path, r, "i", &text(&i))? as usize, parse(&edges_path, r, "j", &text(&j))? as usize);
            if a >= p || b >= p {
                return Err(Error::at_line(
                    &edges_path,
                    r as u64 + 2,
                    format!("feature index beyond the sidecar's {p} features"),
                ));
            }
            let v = parse(&edges_path, r, "value", &text(&value))?.abs() as f32;
            matrices[g][a * p + b] = v;
            matrices[g][b * p + a] = v;
        }
        for (name, m) in names.iter().zip(&matrices) {
            let what = if differential { "|Δ|" } else { "|partial correlation|" };
            s += &heatmap_with_axis(&format!("{name}: {what}"), &report.features, p, m, "features in the rows' order");
        }
    }
    let hubs = TextTable::read(&hubs_path, Some(b'\t'))?;
    let (condition, mark, start, end, strength) = (
        hubs.column("condition")?,
        hubs.column("mark")?,
        hubs.column("bin_start")?,
        hubs.column("bin_end")?,
        hubs.column("strength")?,
    );
    for name in &names {
        let mut by_mark: BTreeMap<String, f32> = BTreeMap::new();
        let mut by_bins: BTreeMap<(usize, usize), f32> = BTreeMap::new();
        for r in 0..hubs.height() {
            let text = |c: &Vec<Option<String>>| c[r].clone().unwrap_or_default();
            if text(&condition) != *name || text(&mark).is_empty() {
                continue;
            }
            let v = parse(&hubs_path, r, "strength", &text(&strength))? as f32;
            *by_mark.entry(text(&mark)).or_default() += v;
            let range = (
                parse(&hubs_path, r, "bin_start", &text(&start))? as usize,
                parse(&hubs_path, r, "bin_end", &text(&end))? as usize,
            );
            *by_bins.entry(range).or_default() += v;
        }
        if by_mark.is_empty() {
            continue;
        }
        let (labels, values): (Vec<String>, Vec<f32>) = by_mark.into_iter().unzip();
        s += &bars(&format!("{name}: hub strength per mark"), &labels, &values);
        let (labels, values): (Vec<String>, Vec<f32>) =
            by_bins.into_iter().map(|((a, b), v)| (format!("bins {a}-{b}"), v)).unzip();
        s += &bars(&format!("{name}: hub strength per bin range"), &labels, &values);
    }
    Ok(s + "</div></section>")
}
