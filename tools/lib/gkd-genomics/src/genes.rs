//! Genes and their transcription start sites from BED (BED6/BED12) or GTF/GFF3 annotation.
//!
//! Annotation lines are split on tabs here (as for BED in [`crate::bed`]) so that every problem
//! is reported with its line number; only five columns and one attribute are needed.
//! TSS: the start on `+`, the last base on `-` (0-based); genes without a strand are treated as `+`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use gkd_io::error::{Error, Result};
use gkd_io::input;
use gkd_io::table::Strand;

/// A gene reduced to what binning needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gene {
    /// Gene id (BED name, or the chosen GTF/GFF attribute).
    pub id: String,
    /// Chromosome as written in the annotation.
    pub chrom: String,
    /// 0-based TSS position.
    pub tss: u64,
    /// Gene body: 0-based start.
    pub start: u64,
    /// Gene body: exclusive end.
    pub end: u64,
    /// Strand.
    pub strand: Strand,
    /// 1-based line in the annotation.
    pub line: u64,
}

/// Options for reading GTF/GFF3 annotation.
#[derive(Debug, Clone)]
pub struct AnnotationOptions {
    /// Feature type whose records are genes (column 3), e.g. `gene`.
    pub feature: String,
    /// Attribute holding the id [default: `gene_id` for GTF, `ID` for GFF3].
    pub id_attribute: Option<String>,
}

/// Read genes from a BED or GTF/GFF3 file (format told from the lines; gzip detected).
/// Duplicate ids are an error naming both lines.
pub fn read_genes(path: &Path, opts: &AnnotationOptions) -> Result<Vec<Gene>> {
    let (reader, _) = input::open(path)?;
    let mut genes = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut is_annotation: Option<bool> = None;
    let mut gff3 = false;
    let mut records_of_type = 0u64;
    for (i, line) in reader.lines().enumerate() {
        let n = i as u64 + 1;
        let line = line.map_err(|e| Error::at_line(path, n, format!("cannot read: {e}")))?;
        let line = line.trim_end_matches('\r');
        if line.starts_with("##gff-version 3") {
            gff3 = true;
        }
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("track") || line.starts_with("browser") {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let annotation = *is_annotation.get_or_insert(looks_like_gtf_gff(&f));
        let gene = if annotation {
            if f.len() != 9 {
                return Err(Error::at_line(path, n, format!("found {} columns; GTF/GFF lines have 9", f.len())));
            }
            if f[2] != opts.feature {
                continue;
            }
            records_of_type += 1;
            let gff = gff3 || f[8].contains('=') && !f[8].contains('"');
            let key = opts.id_attribute.clone().unwrap_or_else(|| if gff { "ID".into() } else { "gene_id".into() });
            let id = attribute(f[8], &key, gff).ok_or_else(|| {
                Error::at_line(
                    path,
                    n,
                    format!("{} record has no '{key}' attribute (choose one with --id-attribute)", f[2]),
                )
            })?;
            let start = coord(path, n, f[3], "start")?;
            let end = coord(path, n, f[4], "end")?;
            if start == 0 || end < start {
                return Err(Error::at_line(
                    path,
                    n,
                    format!("start {start} and end {end} are not 1-based with start <= end"),
                ));
            }
            let strand = strand(path, n, f[6])?;
            // 1-based inclusive [start, end] → 0-based TSS.
            let tss = if strand == Strand::Reverse { end - 1 } else { start - 1 };
            Gene { id, chrom: f[0].to_owned(), tss, start: start - 1, end, strand, line: n }
        } else {
            if f.len() < 3 {
                return Err(Error::at_line(
                    path,
                    n,
                    format!("found {} column(s); BED needs chrom, start, end", f.len()),
                ));
            }
            let start = coord(path, n, f[1], "start")?;
            let end = coord(path, n, f[2], "end")?;
            if end <= start {
                return Err(Error::at_line(path, n, format!("end {end} is not after start {start}")));
            }
            let strand = f.get(5).map(|s| strand(path, n, s)).transpose()?.unwrap_or(Strand::Unknown);
            let id = f
                .get(3)
                .filter(|s| !s.is_empty() && **s != ".")
                .map_or_else(|| format!("{}:{start}-{end}", f[0]), |s| s.to_string());
            let tss = if strand == Strand::Reverse { end - 1 } else { start };
            Gene { id, chrom: f[0].to_owned(), tss, start, end, strand, line: n }
        };
        if let Some(first) = seen.insert(gene.id.clone(), n) {
            return Err(Error::at_line(path, n, format!("duplicate gene id '{}' (first at line {first})", gene.id)));
        }
        genes.push(gene);
    }
    if is_annotation == Some(true) && records_of_type == 0 {
        return Err(Error::in_file(
            path,
            format!("has no '{}' records (column 3); choose the gene feature with --feature", opts.feature),
        ));
    }
    if genes.is_empty() {
        return Err(Error::in_file(path, "has no genes; expected BED or GTF/GFF3 lines"));
    }
    Ok(genes)
}

fn looks_like_gtf_gff(f: &[&str]) -> bool {
    f.len() == 9 && f[3].parse::<u64>().is_ok() && f[4].parse::<u64>().is_ok() && matches!(f[6], "+" | "-" | "." | "?")
}

fn coord(path: &Path, line: u64, v: &str, what: &str) -> Result<u64> {
    v.trim().parse().map_err(|_| Error::at_line(path, line, format!("{what} '{v}' is not a non-negative integer")))
}

fn strand(path: &Path, line: u64, v: &str) -> Result<Strand> {
    match v.trim() {
        "+" => Ok(Strand::Forward),
        "-" => Ok(Strand::Reverse),
        "." | "?" | "" => Ok(Strand::Unknown),
        s => Err(Error::at_line(path, line, format!("strand '{s}' should be '+', '-' or '.'"))),
    }
}

/// The value of attribute `key` in a GFF3 (`key=value;`) or GTF (`key "value";`) column 9.
fn attribute(col9: &str, key: &str, gff: bool) -> Option<String> {
    col9.split(';').map(str::trim).find_map(|kv| {
        let (k, v) = if gff { kv.split_once('=')? } else { kv.split_once(' ')? };
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tss_by_strand_in_each_format() {
        let dir = tempfile::tempdir().unwrap();
        let opts = AnnotationOptions { feature: "gene".into(), id_attribute: None };
        let bed = dir.path().join("g.bed");
        std::fs::write(&bed, "chr1\t100\t200\tA\t0\t+\nchr1\t300\t400\tB\t0\t-\n").unwrap();
        let g = read_genes(&bed, &opts).unwrap();
        assert_eq!((g[0].tss, g[1].tss), (100, 399));
        // Gene bodies in 0-based half-open coordinates, whatever the format.
        assert_eq!((g[0].start, g[0].end, g[1].start, g[1].end), (100, 200, 300, 400));
        let gtf = dir.path().join("g.gtf");
        std::fs::write(&gtf, "chr1\tsrc\tgene\t101\t200\t.\t+\t.\tgene_id \"A\"; gene_name \"x\";\nchr1\tsrc\texon\t101\t150\t.\t+\t.\tgene_id \"A\";\nchr1\tsrc\tgene\t301\t400\t.\t-\t.\tgene_id \"B\";\n").unwrap();
        let g = read_genes(&gtf, &opts).unwrap();
        assert_eq!(g.iter().map(|g| (g.id.as_str(), g.tss)).collect::<Vec<_>>(), vec![("A", 100), ("B", 399)]);
        assert_eq!((g[0].start, g[0].end, g[1].start, g[1].end), (100, 200, 300, 400));
        let gff = dir.path().join("g.gff");
        std::fs::write(&gff, "##gff-version 3\nchr1\tsrc\tgene\t101\t200\t.\t-\t.\tID=G1;Name=x\n").unwrap();
        assert_eq!(read_genes(&gff, &opts).unwrap()[0].tss, 199);
        let none = dir.path().join("n.gtf");
        std::fs::write(&none, "chr1\tsrc\texon\t101\t200\t.\t+\t.\tgene_id \"A\";\n").unwrap();
        assert!(read_genes(&none, &opts).unwrap_err().to_string().contains("has no 'gene' records"));
    }
}
