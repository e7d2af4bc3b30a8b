//! Which maps a run computes: the dataset rows (ids, a range, the positives of a class, the first
//! N), the class each row is explained for (`--target`), and the shard of them this run does.

use std::path::Path;

use gkd_io::error::{Error, Result};

/// One map to compute: a dataset row and the class it is explained for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// 0-based dataset row.
    pub row: usize,
    /// Class index.
    pub class: usize,
}

/// `--target`: which logit a map explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// One class, by index.
    Class(usize),
    /// Every class (one map per row and class).
    All,
    /// The class with the largest logit of each row.
    Predicted,
    /// Every class the row is labelled positive for (one map per row and positive class): the
    /// classes whose motifs a multi-label synthetic row carries.
    Labelled,
}

impl TargetSpec {
    /// Parse a `--target` value against the model's classes: a name, a 0-based index, `all` or
    /// `predicted`. `model_card` is named in the message when the class does not exist.
    pub fn parse(text: &str, classes: &[String], model_card: &Path) -> Result<Self> {
        match text {
            "all" => return Ok(TargetSpec::All),
            "predicted" => return Ok(TargetSpec::Predicted),
            "labelled" => return Ok(TargetSpec::Labelled),
            _ => {}
        }
        if let Some(k) = classes.iter().position(|c| c == text) {
            return Ok(TargetSpec::Class(k));
        }
        match text.parse::<usize>() {
            Ok(k) if k < classes.len() => Ok(TargetSpec::Class(k)),
            _ => Err(Error::in_file(
                model_card,
                format!(
                    "--target '{text}' is not a class of this model: it has {} class{} ({}, or indices 0..{}), or use 'all' / 'predicted' / 'labelled'",
                    classes.len(),
                    if classes.len() == 1 { "" } else { "es" },
                    classes.join(", "),
                    classes.len()
                ),
            )),
        }
    }
}

/// `--shard i/n` (1-based i).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1..=n.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("'{s}' is not a shard: expected i/n with 1 <= i <= n, e.g. 2/8");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// This shard's contiguous part of `items`, in whole blocks of `block` items: blocks
    /// [⌊(i−1)·B/n⌋, ⌊i·B/n⌋) of the B blocks, so the shards in order are the whole list and
    /// every block is computed exactly as in one run (floating-point results can depend on
    /// how many inputs share a forward pass).
    pub fn take<T: Clone>(&self, items: &[T], block: usize) -> Vec<T> {
        let block = block.max(1);
        let blocks = items.len().div_ceil(block);
        let first = (self.index - 1) * blocks / self.count * block;
        let last = (self.index * blocks / self.count * block).min(items.len());
        items[first..last].to_vec()
    }
}

/// Parse `--rows START:END` (0-based, end exclusive; either side may be left out).
pub fn parse_range(text: &str, rows: usize) -> Result<std::ops::Range<usize>> {
    let bad = || {
        Error::usage(format!("--rows '{text}' is not a range: expected START:END (0-based, END exclusive), e.g. 0:500"))
    };
    let (a, b) = text.split_once(':').ok_or_else(bad)?;
    let start = if a.is_empty() { 0 } else { a.parse().map_err(|_| bad())? };
    let end = if b.is_empty() { rows } else { b.parse().map_err(|_| bad())? };
    if start > end || end > rows {
        return Err(Error::usage(format!("--rows {text} does not fit the dataset's {rows} rows")));
    }
    Ok(start..end)
}

/// Rows named by id, in the order given; an unknown (or, in the dataset, repeated) id is an
/// error naming `source`.
pub fn rows_by_id(wanted: &[String], ids: &[String], source: &Path) -> Result<Vec<usize>> {
    let index = gkd_nn::data::index_ids(ids, &gkd_io::manifest::rows_path_for(source))?;
    wanted
        .iter()
        .map(|id| {
            index.get(id.as_str()).copied().ok_or_else(|| Error::in_file(source, format!("has no row with id '{id}'")))
        })
        .collect()
}

/// Expand rows into maps: one per row for a single class or the predicted class (argmax of the
/// row's `logits`, one row of `logits` per selected row), one per class for `All`, one per
/// positive label (`labels`: the dataset's N x K labels, indexed by dataset row) for `Labelled`.
pub fn pairs(
    rows: &[usize],
    target: &TargetSpec,
    classes: usize,
    logits: Option<&ndarray::Array2<f32>>,
    labels: &ndarray::Array2<f32>,
) -> Vec<Pair> {
    match target {
        TargetSpec::Labelled => rows
            .iter()
            .flat_map(|&row| {
                (0..classes).filter(move |&k| labels[[row, k]] > 0.5).map(move |class| Pair { row, class })
            })
            .collect(),
        TargetSpec::Class(k) => rows.iter().map(|&row| Pair { row, class: *k }).collect(),
        TargetSpec::All => rows.iter().flat_map(|&row| (0..classes).map(move |class| Pair { row, class })).collect(),
        TargetSpec::Predicted => {
            let logits = logits.expect("logits of the selected rows for --target predicted");
            rows.iter()
                .enumerate()
                .map(|(i, &row)| {
                    let z = logits.row(i);
                    // First maximum on ties, as numpy's argmax.
                    let class = (0..z.len()).fold(0, |best, k| if z[k] > z[best] { k } else { best });
                    Pair { row, class }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_list_in_order() {
        let items: Vec<usize> = (0..10).collect();
        for block in [1, 3, 4, 16] {
            for n in 1..=12 {
                let shards: Vec<Vec<usize>> =
                    (1..=n).map(|i| Shard { index: i, count: n }.take(&items, block)).collect();
                assert_eq!(shards.concat(), items, "{n} shards of blocks of {block}");
                // Every shard starts on a block boundary.
                let mut start = 0;
                for s in &shards {
                    assert_eq!(start % block, 0);
                    start += s.len();
                }
            }
        }
        assert_eq!("3/4".parse::<Shard>().unwrap(), Shard { index: 3, count: 4 });
        for bad in ["0/4", "5/4", "4", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_and_ranges() {
        let classes = vec!["a".to_owned(), "b".to_owned()];
        let card = Path::new("m/model.json");
        assert_eq!(TargetSpec::parse("b", &classes, card).unwrap(), TargetSpec::Class(1));
        assert_eq!(TargetSpec::parse("0", &classes, card).unwrap(), TargetSpec::Class(0));
        assert!(TargetSpec::parse("2", &classes, card).unwrap_err().to_string().contains("2 classes (a, b"));
        assert_eq!(parse_range(":3", 10).unwrap(), 0..3);
        assert_eq!(parse_range("4:", 10).unwrap(), 4..10);
        assert!(parse_range("4:11", 10).is_err());
        let logits = ndarray::array![[0.0f32, 2.0], [1.0, 1.0]];
        let labels = ndarray::Array2::<f32>::zeros((8, 2));
        let p = pairs(&[5, 7], &TargetSpec::Predicted, 2, Some(&logits), &labels);
        assert_eq!(p, vec![Pair { row: 5, class: 1 }, Pair { row: 7, class: 0 }]);
        assert_eq!(pairs(&[3], &TargetSpec::All, 2, None, &labels).len(), 2);
        assert_eq!(TargetSpec::parse("labelled", &classes, card).unwrap(), TargetSpec::Labelled);
        let labels = ndarray::array![[1.0f32, 1.0], [0.0, 0.0], [0.0, 1.0]];
        let p = pairs(&[2, 1, 0], &TargetSpec::Labelled, 2, None, &labels);
        assert_eq!(
            p,
            vec![Pair { row: 2, class: 1 }, Pair { row: 0, class: 0 }, Pair { row: 0, class: 1 }],
            "rows in the order selected, classes ascending, unlabelled rows without a map"
        );
    }
}
