//! Matching chromosome names across naming styles (`chr1`↔`1`, `chrM`↔`MT`↔`M`): BED intervals
//! against a FASTA index, genes against a bigWig or BAM.

use std::collections::HashMap;

/// The name a chromosome is compared by across naming styles: `chr1`↔`1`, `chrM`↔`MT`↔`M`.
pub fn canonical_chrom(name: &str) -> String {
    let stripped = name.strip_prefix("chr").unwrap_or(name);
    match stripped {
        "M" | "MT" => "MT".to_owned(),
        s => s.to_owned(),
    }
}

/// How wanted chromosome names map onto a file's chromosomes.
#[derive(Debug, Default)]
pub struct ChromMatch {
    /// Wanted name → (file name, its length).
    pub map: HashMap<String, (String, u64)>,
    /// Wanted names matched through an alias, as (wanted, file name), sorted.
    pub aliases: Vec<(String, String)>,
    /// Wanted names absent from the file, in first-seen order.
    pub missing: Vec<String>,
}

/// Match every wanted name to one of `available` (name, length): exactly if possible, else by
/// alias (the first file chromosome with the same canonical name).
pub fn match_chroms<'a>(wanted: impl IntoIterator<Item = &'a str>, available: &[(String, u64)]) -> ChromMatch {
    let exact: HashMap<&str, u64> = available.iter().map(|(n, l)| (n.as_str(), *l)).collect();
    let mut canon: HashMap<String, (&str, u64)> = HashMap::new();
    for (n, l) in available {
        canon.entry(canonical_chrom(n)).or_insert((n.as_str(), *l));
    }
    let mut m = ChromMatch::default();
    for w in wanted {
        if m.map.contains_key(w) || m.missing.iter().any(|x| x == w) {
            continue;
        }
        if let Some(&l) = exact.get(w) {
            m.map.insert(w.to_owned(), (w.to_owned(), l));
        } else if let Some(&(n, l)) = canon.get(&canonical_chrom(w)) {
            m.aliases.push((w.to_owned(), n.to_owned()));
            m.map.insert(w.to_owned(), (n.to_owned(), l));
        } else {
            m.missing.push(w.to_owned());
        }
    }
    m.aliases.sort();
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_first_then_aliases() {
        let avail = vec![("chr1".to_owned(), 10), ("1".to_owned(), 20), ("MT".to_owned(), 5)];
        let m = match_chroms(["1", "chrM", "chr2", "chr1"], &avail);
        assert_eq!(m.map["1"], ("1".to_owned(), 20));
        assert_eq!(m.map["chr1"], ("chr1".to_owned(), 10));
        assert_eq!(m.map["chrM"], ("MT".to_owned(), 5));
        assert_eq!(m.aliases, vec![("chrM".to_owned(), "MT".to_owned())]);
        assert_eq!(m.missing, vec!["chr2".to_owned()]);
    }
}
