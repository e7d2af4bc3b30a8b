//! Attribution files (docs/data-contracts.md): `NAME.npz` with `attr` (N, C, L) — hypothetical scores, every
//! channel at every position — and the inputs `x` it explains, plus method-specific arrays
//! (`gap` for integrated gradients, `beta` for attention, `raw` for class optimization);
//! `NAME.rows.tsv` (which dataset row and which class each map explains); and the sidecar
//! `NAME.json` (method, parameters, model, dataset). The same description, with the scores of
//! every row added, is the `--json` export; one JSON Schema covers both.

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, Axis};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::error::{Error, IoResultExt, Result};
use crate::manifest::sibling_with_suffix;
use crate::npz::{self, NpzFile};
use crate::table::{RowIdentity, Strand, TextTable, row_identities};

/// The `$id` of the attribution schema, recorded in every sidecar and export.
pub const ATTRIBUTION_SCHEMA: &str = "https://gkd.example/schemas/attributions.v1.schema.json";

/// How an attribution map was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributionInfo {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// saliency, gradxinput, ig, ism, ism-fast, temporal, classopt or attention.
    pub method: String,
    /// The method's settings (only those that apply to it).
    pub parameters: MethodParameters,
    /// The model explained.
    pub model: ModelRef,
    /// The dataset split the rows come from (absent for class optimization without data).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dataset: Option<String>,
    /// Names of the channels of `attr` (A, C, G, T; marks; or forward/reverse for temporal scores).
    pub channels: Vec<String>,
    /// Positions (or bins) per map.
    pub length: usize,
    /// Maps in this file.
    pub count: usize,
    /// "i/n" when this file is one shard of a run split with --shard.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<String>,
    /// The tool that wrote it.
    pub tool: String,
    /// Its version.
    pub version: String,
}

/// Settings of an attribution run; absent fields do not apply to the method.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodParameters {
    /// The target as given: a class, `all` or `predicted`.
    pub target: String,
    /// Rows (or mutants, or path points) per forward pass.
    pub batch_size: usize,
    /// Majdandzic et al. (2023) gradient correction applied.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gradient_correction: Option<bool>,
    /// Integrated-gradients path intervals.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub steps: Option<usize>,
    /// Integrated-gradients reference: zeros, uniform, shuffle or dinucleotide.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline: Option<String>,
    /// Reference inputs per row (shuffles); attributions are averaged over them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baselines: Option<usize>,
    /// Seed of shuffles or of class optimization's random start.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seed: Option<u64>,
    /// In-silico mutagenesis engine actually used: fast (windowed) or naive.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub engine: Option<String>,
    /// Class optimization: L2 weight λ.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lambda: Option<f64>,
    /// Class optimization: RMSprop learning rate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lr: Option<f64>,
    /// Class optimization: optimisation steps.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub optimisation_steps: Option<usize>,
    /// Temporal scores: probability (sigmoid / softmax) of the target class on each prefix/suffix.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scores: Option<String>,
}

/// The model an attribution explains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    /// Model directory as given.
    pub path: String,
    /// Architecture name.
    pub architecture: String,
    /// Class names, one per logit.
    pub classes: Vec<String>,
}

/// What one map explains: a dataset row (or, for class optimization, a class alone).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapRow {
    /// Row id (dataset id; `classopt:<class>` for class optimization).
    pub id: String,
    /// 0-based row index in the dataset (none for class optimization).
    pub dataset_row: Option<usize>,
    /// The class explained.
    pub class: String,
    /// Reference name, when the row has coordinates.
    pub chrom: Option<String>,
    /// 0-based start.
    pub start: Option<u64>,
    /// Exclusive end.
    pub end: Option<u64>,
    /// Strand.
    pub strand: Strand,
}

/// One row of the `--json` export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRow {
    /// Row id.
    pub id: String,
    /// The class explained.
    pub class: String,
    /// Reference name, when the row has coordinates.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub chrom: Option<String>,
    /// 0-based start.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub start: Option<u64>,
    /// Exclusive end.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub end: Option<u64>,
    /// One list of `length` scores per channel, in `channels` order.
    pub scores: Vec<Vec<f32>>,
}

/// The sidecar (without `rows`) and the `--json` export (with them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributionJson {
    /// How the maps were made.
    #[serde(flatten)]
    pub info: AttributionInfo,
    /// The maps, in file order (export only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rows: Option<Vec<ExportRow>>,
}

impl AttributionJson {
    /// The JSON Schema of sidecars and exports.
    pub fn json_schema() -> serde_json::Value {
        let mut schema = serde_json::to_value(schemars::schema_for!(AttributionJson)).expect("schema serialises");
        if let Some(o) = schema.as_object_mut() {
            o.insert("$id".into(), ATTRIBUTION_SCHEMA.into());
        }
        schema
    }
}

/// Attribution maps in memory: the description, what each map explains, and the named arrays
/// (all with the maps along axis 0; `attr` first).
#[derive(Debug, Clone, PartialEq)]
pub struct Attributions {
    /// How they were made.
    pub info: AttributionInfo,
    /// What each map explains.
    pub rows: Vec<MapRow>,
    /// `attr` and the other arrays, maps along axis 0.
    pub arrays: Vec<(String, ArrayD<f32>)>,
}

/// The sidecar JSON of an attribution NPZ: same name, `.json` extension.
pub fn sidecar_path_for(npz_path: &Path) -> PathBuf {
    npz_path.with_extension("json")
}

/// The rows TSV of an attribution NPZ: `NAME.rows.tsv`.
pub fn rows_path_for(npz_path: &Path) -> PathBuf {
    sibling_with_suffix(npz_path, ".rows.tsv")
}

const ROWS_HEADER: &str = "id\tdataset_row\tclass\tchrom\tstart\tend\tstrand";

impl Attributions {
    /// The `attr` array.
    pub fn attr(&self) -> &ArrayD<f32> {
        self.array("attr").expect("attributions always hold 'attr'")
    }

    /// An array by name.
    pub fn array(&self, name: &str) -> Option<&ArrayD<f32>> {
        self.arrays.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    /// Stage the NPZ, its rows TSV and its sidecar JSON.
    pub fn stage(&self, npz_path: &Path) -> Result<Vec<AtomicFile>> {
        let mut npz_file = AtomicFile::create(npz_path)?;
        let named: Vec<npz::NamedArray<'_>> = self.arrays.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
        npz::write_npz(&mut npz_file, &named, false)?;
        let mut rows = AtomicFile::create(rows_path_for(npz_path))?;
        rows.write_all(self.rows_tsv().as_bytes())?;
        let mut sidecar = AtomicFile::create(sidecar_path_for(npz_path))?;
        let json = AttributionJson { info: self.info.clone(), rows: None };
        sidecar.write_all((serde_json::to_string_pretty(&json).expect("serialises") + "\n").as_bytes())?;
        Ok(vec![npz_file, rows, sidecar])
    }

    /// The rows TSV text, header included.
    fn rows_tsv(&self) -> String {
        let mut text = format!("{ROWS_HEADER}\n");
        let opt = |v: Option<String>| v.unwrap_or_default();
        for r in &self.rows {
            text += &format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                r.id,
                opt(r.dataset_row.map(|v| v.to_string())),
                r.class,
                opt(r.chrom.clone()),
                opt(r.start.map(|v| v.to_string())),
                opt(r.end.map(|v| v.to_string())),
                r.strand.as_str()
            );
        }
        text
    }

    /// Stage the long-form TSV (id, class, position, channel, score), positions 0-based within
    /// the row; `header` is false for shards after the first, so that `cat` of the shards equals
    /// one run's file.
    pub fn stage_long_tsv(&self, path: &Path, header: bool) -> Result<AtomicFile> {
        let mut file = AtomicFile::create(path)?;
        {
            let p = file.path().to_path_buf();
            let mut w = file.buffered();
            if header {
                writeln!(w, "id\tclass\tposition\tchannel\tscore").with_path(&p)?;
            }
            let attr = self.attr();
            for (row, map) in self.rows.iter().zip(attr.axis_iter(Axis(0))) {
                let length = map.shape()[1];
                for position in 0..length {
                    for (c, channel) in self.info.channels.iter().enumerate() {
                        // `{}` prints the shortest decimal that reads back as the same f32.
                        writeln!(w, "{}\t{}\t{position}\t{channel}\t{}", row.id, row.class, map[[c, position]])
                            .with_path(&p)?;
                    }
                }
            }
            w.flush().with_path(&p)?;
        }
        Ok(file)
    }

    /// Stage the `--json` export: the sidecar's description plus every map.
    pub fn stage_json_export(&self, path: &Path) -> Result<AtomicFile> {
        let attr = self.attr();
        let rows = self
            .rows
            .iter()
            .zip(attr.axis_iter(Axis(0)))
            .map(|(r, map)| ExportRow {
                id: r.id.clone(),
                class: r.class.clone(),
                chrom: r.chrom.clone(),
                start: r.start,
                end: r.end,
                scores: map.outer_iter().map(|channel| channel.iter().copied().collect()).collect(),
            })
            .collect();
        let json = AttributionJson { info: self.info.clone(), rows: Some(rows) };
        let mut file = AtomicFile::create(path)?;
        {
            let p = file.path().to_path_buf();
            let mut w = file.buffered();
            serde_json::to_writer(&mut w, &json).map_err(|e| Error::runtime(format!("{}: {e}", p.display())))?;
            writeln!(w).with_path(&p)?;
            w.flush().with_path(&p)?;
        }
        Ok(file)
    }

    /// Join the shards of one run, given in order 1..n, into the attributions one run would have
    /// made: every shard must say it is shard i of n and come from the same run.
    pub fn merge_shards(paths: &[PathBuf]) -> Result<Self> {
        let shards: Vec<Attributions> = paths.iter().map(|p| Attributions::read(p)).collect::<Result<_>>()?;
        let n = shards.len();
        let first = shards.first().ok_or_else(|| Error::usage("no shards to merge"))?;
        for (i, (shard, path)) in shards.iter().zip(paths).enumerate() {
            let expected = format!("{}/{n}", i + 1);
            if shard.info.shard.as_deref() != Some(expected.as_str()) {
                return Err(Error::in_file(
                    path,
                    format!(
                        "is shard {} but is listed as shard {expected}: give the {n} shards of one run, in order",
                        shard.info.shard.as_deref().unwrap_or("(none: not a shard)")
                    ),
                ));
            }
            let (a, b) = (&shard.info, &first.info);
            let same_run = a.method == b.method
                && a.parameters == b.parameters
                && a.model == b.model
                && a.dataset == b.dataset
                && a.channels == b.channels
                && a.length == b.length;
            if !same_run {
                return Err(Error::in_file(
                    path,
                    format!(
                        "comes from another run than {} (method, parameters, model or dataset differ)",
                        paths[0].display()
                    ),
                ));
            }
            let names: Vec<&String> = shard.arrays.iter().map(|(n, _)| n).collect();
            if names != first.arrays.iter().map(|(n, _)| n).collect::<Vec<_>>() {
                return Err(Error::in_file(path, "holds other arrays than the first shard"));
            }
        }
        let mut merged = first.clone();
        merged.info.shard = None;
        merged.rows = shards.iter().flat_map(|s| s.rows.clone()).collect();
        merged.info.count = merged.rows.len();
        for (a, (name, _)) in first.arrays.iter().enumerate() {
            let views: Vec<_> = shards.iter().map(|s| s.arrays[a].1.view()).collect();
            let joined: ArrayD<f32> = ndarray::concatenate(Axis(0), &views)
                .map_err(|e| Error::runtime(format!("joining array '{name}' of the shards: {e}")))?;
            merged.arrays[a].1 = joined;
        }
        Ok(merged)
    }

    /// Read an attribution NPZ with its rows TSV and sidecar.
    pub fn read(npz_path: &Path) -> Result<Self> {
        let sidecar = sidecar_path_for(npz_path);
        if !sidecar.exists() {
            return Err(Error::in_file(
                npz_path,
                format!("has no sidecar beside it (expected {}, written by gkd-attribute)", sidecar.display()),
            ));
        }
        let text = std::fs::read_to_string(&sidecar).with_path(&sidecar)?;
        let json: AttributionJson = serde_json::from_str(&text)
            .map_err(|e| Error::in_file(&sidecar, format!("is not a gkd attribution description: {e}")))?;
        let npz = NpzFile::open(npz_path)?;
        let mut arrays = Vec::new();
        for name in npz.names() {
            let array = npz.read_f32(&name)?;
            arrays.push((name, array));
        }
        let Some(position) = arrays.iter().position(|(n, _)| n == "attr") else {
            return Err(Error::in_file(npz_path, "has no array 'attr'"));
        };
        arrays.swap(0, position);
        let count = arrays[0].1.shape()[0];
        if let Some((name, a)) = arrays.iter().find(|(_, a)| a.ndim() == 0 || a.shape()[0] != count) {
            return Err(Error::in_file(
                npz_path,
                format!("array '{name}' has shape {:?}; expected {count} maps", a.shape()),
            ));
        }
        let rows = read_rows(&rows_path_for(npz_path), count)?;
        for (name, array) in &arrays {
            let maps = array.axis_iter(Axis(0)).enumerate();
            if let Some((i, v)) = maps.filter_map(|(i, m)| m.iter().find(|v| !v.is_finite()).map(|v| (i, *v))).next() {
                return Err(Error::at_record(
                    npz_path,
                    i as u64 + 1,
                    Some(&rows[i].id),
                    format!("array '{name}' holds a non-finite value ({v}); expected finite numbers"),
                ));
            }
        }
        Ok(Self { info: json.info, rows, arrays })
    }
}

fn read_rows(path: &Path, count: usize) -> Result<Vec<MapRow>> {
    if !path.exists() {
        return Err(Error::in_file(path, "is missing (the rows TSV written by gkd-attribute)"));
    }
    let table = TextTable::read(path, Some(b'\t'))?;
    let identities = row_identities(&table)?;
    let (dataset_rows, classes) = (table.column("dataset_row")?, table.column("class")?);
    if identities.len() != count {
        return Err(Error::in_file(path, format!("lists {} rows; the NPZ holds {count} maps", identities.len())));
    }
    identities
        .into_iter()
        .zip(dataset_rows.into_iter().zip(classes))
        .enumerate()
        .map(|(i, (identity, (dataset_row, class)))| {
            let line = i as u64 + 2;
            let dataset_row = dataset_row
                .map(|s| {
                    s.parse::<usize>()
                        .map_err(|_| Error::at_line(path, line, format!("dataset_row '{s}' is not a whole number")))
                })
                .transpose()?;
            let class = class.ok_or_else(|| Error::at_line(path, line, "empty class"))?;
            let RowIdentity { id, chrom, start, end, strand } = identity;
            Ok(MapRow { id, dataset_row, class, chrom, start, end, strand })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn sample() -> Attributions {
        let info = AttributionInfo {
            schema: ATTRIBUTION_SCHEMA.into(),
            method: "saliency".into(),
            parameters: MethodParameters { target: "0".into(), batch_size: 8, ..Default::default() },
            model: ModelRef { path: "m".into(), architecture: "koo-cnn-local".into(), classes: vec!["pos".into()] },
            dataset: Some("d.npz".into()),
            channels: vec!["A".into(), "C".into()],
            length: 3,
            count: 2,
            shard: None,
            tool: "gkd-attribute".into(),
            version: "0".into(),
        };
        let attr = Array3::from_shape_fn((2, 2, 3), |(n, c, l)| (n * 6 + c * 3 + l) as f32 * 0.1 - 0.2).into_dyn();
        let rows = vec![
            MapRow { id: "a".into(), dataset_row: Some(4), class: "pos".into(), ..Default::default() },
            MapRow {
                id: "b".into(),
                dataset_row: Some(9),
                class: "pos".into(),
                chrom: Some("chr1".into()),
                start: Some(10),
                end: Some(13),
                strand: Strand::Reverse,
            },
        ];
        Attributions { info, rows, arrays: vec![("attr".into(), attr)] }
    }

    #[test]
    fn files_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npz");
        let a = sample();
        crate::atomic::commit_all(a.stage(&path).unwrap()).unwrap();
        assert_eq!(Attributions::read(&path).unwrap(), a);
    }

    #[test]
    fn long_tsv_lists_every_channel_at_every_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tsv");
        sample().stage_long_tsv(&path, true).unwrap().commit().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 2 * 2 * 3);
        // Row b (n = 1), position 2, channel C (c = 1): (6 + 3 + 2) * 0.1 - 0.2.
        assert_eq!(lines[12], format!("b\tpos\t2\tC\t{}", 11f32 * 0.1 - 0.2));
    }
}
