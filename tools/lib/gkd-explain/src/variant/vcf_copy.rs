//! The annotated copy of the input VCF: every header line and record as read, with one INFO
//! field per model and class (alt − ref logit per ALT allele, `Number=A`) declared before `#CHROM`.
//! It is written by hand rather than through noodles' writer so that everything else in the file
//! passes through byte for byte (noodles reorders header lines and reformats QUAL).

/// INFO flag set on records whose REF differs from the FASTA (with `--ref-mismatch skip`).
pub const REF_MISMATCH_FLAG: &str = "GKD_REF_MISMATCH";

/// The INFO key of a model's effects on a class: `GKD_<model>_<class>`, with every character
/// outside `[A-Za-z0-9_.]` replaced by `_` (VCF 4.3 keys).
pub fn info_key(model: &str, class: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' { c } else { '_' }).collect()
    };
    format!("GKD_{}_{}", clean(model), clean(class))
}

/// One declared INFO field.
#[derive(Debug, Clone)]
pub struct InfoField {
    /// Its key.
    pub key: String,
    /// Its Description.
    pub description: String,
}

/// The `ID` of an `##INFO=<ID=…,…>` line.
fn info_id(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("##INFO=<ID=")?;
    Some(&rest[..rest.find([',', '>']).unwrap_or(rest.len())])
}

/// The header lines with `fields` (and the mismatch flag) declared just before `#CHROM`; earlier
/// declarations of the same keys (a file annotated before) are dropped.
pub fn header(lines: &[String], fields: &[InfoField]) -> Vec<String> {
    let ours = |id: &str| id == REF_MISMATCH_FLAG || fields.iter().any(|f| f.key == id);
    let mut out: Vec<String> =
        lines.iter().filter(|l| !l.starts_with('#') || !info_id(l).is_some_and(ours)).cloned().collect();
    let at = out.iter().position(|l| l.starts_with("#CHROM")).unwrap_or(out.len());
    let mut declared: Vec<String> = fields
        .iter()
        .map(|f| format!("##INFO=<ID={},Number=A,Type=Float,Description=\"{}\">", f.key, f.description))
        .collect();
    declared.push(format!(
        "##INFO=<ID={REF_MISMATCH_FLAG},Number=0,Type=Flag,Description=\"gkd-variant: REF differs from the reference FASTA; not scored\">"
    ));
    out.splice(at..at, declared);
    out
}

/// A record line with `values` (per key, one value per ALT allele, `None` for `.`) in its INFO
/// column, replacing earlier values of the same keys; keys whose values are all missing are left
/// out. `mismatch` sets the REF-mismatch flag.
pub fn annotate(line: &str, values: &[(String, Vec<Option<f32>>)], mismatch: bool) -> String {
    let mut columns: Vec<&str> = line.split('\t').collect();
    while columns.len() < 8 {
        columns.push(".");
    }
    let key_of = |entry: &str| entry.split('=').next().unwrap_or("").to_owned();
    let ours = |key: &str| key == REF_MISMATCH_FLAG || values.iter().any(|(k, _)| k == key);
    let mut info: Vec<String> = match columns[7] {
        "." | "" => Vec::new(),
        text => text.split(';').filter(|e| !ours(&key_of(e))).map(str::to_owned).collect(),
    };
    for (key, per_allele) in values {
        if per_allele.iter().any(Option::is_some) {
            let cells: Vec<String> =
                per_allele.iter().map(|v| v.map_or_else(|| ".".to_owned(), |x| format!("{x}"))).collect();
            info.push(format!("{key}={}", cells.join(",")));
        }
    }
    if mismatch {
        info.push(REF_MISMATCH_FLAG.to_owned());
    }
    let joined = if info.is_empty() { ".".to_owned() } else { info.join(";") };
    let mut out: Vec<&str> = columns.clone();
    out[7] = &joined;
    out.join("\t")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_vcf_identifiers() {
        assert_eq!(info_key("teacher", "CEBPB"), "GKD_teacher_CEBPB");
        assert_eq!(info_key("student-1", "H3K4me3 (peak)"), "GKD_student_1_H3K4me3__peak_");
    }

    #[test]
    fn header_declares_the_fields_before_chrom_once() {
        let lines: Vec<String> = [
            "##fileformat=VCFv4.2",
            "##INFO=<ID=GKD_m_a,Number=A,Type=Float,Description=\"old\">",
            "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"depth\">",
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
        ]
        .map(String::from)
        .to_vec();
        let fields = [InfoField { key: "GKD_m_a".into(), description: "new".into() }];
        let out = header(&lines, &fields);
        assert_eq!(out[0], "##fileformat=VCFv4.2");
        assert_eq!(out[1], lines[2]);
        assert_eq!(out[2], "##INFO=<ID=GKD_m_a,Number=A,Type=Float,Description=\"new\">");
        assert!(out[3].starts_with("##INFO=<ID=GKD_REF_MISMATCH,Number=0,Type=Flag"));
        assert_eq!(out[4], lines[3]);
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn info_values_are_appended_per_allele_and_old_ones_replaced() {
        let v = vec![("GKD_m_a".to_owned(), vec![Some(0.5f32), None]), ("GKD_m_b".to_owned(), vec![None, None])];
        let line = "chr1\t8\trs1\tT\tC,<DEL>\t30.50\tPASS\tDP=3;GKD_m_a=9";
        assert_eq!(annotate(line, &v, false), "chr1\t8\trs1\tT\tC,<DEL>\t30.50\tPASS\tDP=3;GKD_m_a=0.5,.");
        let line = "chr1\t8\t.\tT\tC\t.\t.\t.\tGT\t0/1";
        assert_eq!(annotate(line, &[], true), "chr1\t8\t.\tT\tC\t.\t.\tGKD_REF_MISMATCH\tGT\t0/1");
    }
}
