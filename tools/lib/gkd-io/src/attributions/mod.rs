//! Attribution files (docs/data-contracts.md): `NAME.npz` with `attr` (N, C, L) — hypothetical scores, every
//! channel at every position — and the inputs `x` it explains, plus method-specific arrays
//! (`gap` for integrated gradients, `beta` for attention, `raw` for class optimization);
//! `NAME.rows.tsv` (which dataset row and which class each map explains); and the sidecar
//! `NAME.json` (method, parameters, model, dataset). The same description, with the scores of
//! every row added, is the `--json` export; one JSON Schema covers both.

use std::path::{Path, PathBuf};

use ndarray::{Array3, ArrayD, Axis, s};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::manifest::sibling_with_suffix;
use crate::table::{RowIdentity, Strand, TextTable, row_identities};

mod method;
mod reader;
mod writer;

pub use method::{AttributionMethod, MapKind};
pub use reader::AttributionReader;
pub use writer::{AttributionOutputs, AttributionWriter, Inputs, ReadInputs};

/// The `$id` of the attribution schema, recorded in every sidecar and export.
pub const ATTRIBUTION_SCHEMA: &str = "https://gkd.example/schemas/attributions.v1.schema.json";

/// How an attribution map was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributionInfo {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The attribution method.
    pub method: AttributionMethod,
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

    /// Stage the NPZ, its rows TSV and its sidecar JSON, and the exports `outputs` asks for.
    pub fn stage(&self, outputs: &AttributionOutputs) -> Result<Vec<AtomicFile>> {
        let mut writer = AttributionWriter::create(outputs, self.info.clone())?;
        writer.write(self.attr().view().into_dimensionality().map_err(|_| self.not_maps())?, &self.rows)?;
        let x = self.array("x").map(|x| x.view().into_dimensionality::<ndarray::Ix3>()).transpose();
        let x = x.map_err(|_| self.not_maps())?;
        let extra: Vec<(String, ArrayD<f32>)> =
            self.arrays.iter().filter(|(n, _)| n != "attr" && n != "x").cloned().collect();
        let mut read = |range: std::ops::Range<usize>| Ok(x.expect("inputs given").slice(s![range, .., ..]).to_owned());
        let inputs =
            x.map(|x| Inputs { channels: x.shape()[1], dtype: Dtype::Float32, read: &mut read as ReadInputs<'_> });
        writer.finish(inputs, &extra)
    }

    fn not_maps(&self) -> Error {
        Error::runtime("internal: 'attr' and 'x' must be (maps, channels, positions)")
    }

    /// Read an attribution NPZ with its rows TSV and sidecar, every array in memory.
    pub fn read(npz_path: &Path) -> Result<Self> {
        let reader = AttributionReader::open(npz_path)?;
        let arrays = reader.names().into_iter().map(|n| reader.array(&n).map(|a| (n, a))).collect::<Result<_>>()?;
        Ok(Self { info: reader.info, rows: reader.rows, arrays })
    }
}

/// Sees a chunk of maps: scores, inputs (if stored) and rows.
pub type MapChunkVisitor<'a> = &'a mut dyn FnMut(&Array3<f32>, Option<&Array3<f32>>, &[MapRow]) -> Result<()>;

/// Join the shards of one run, given in order 1..n, into the files one run would have written,
/// a chunk of maps at a time: every shard must say it is shard i of n and come from the same
/// run. Returns the staged files and the merged description. `each` sees every chunk (scores, inputs, rows) as it is copied.
pub fn merge_shards(
    paths: &[PathBuf],
    outputs: &AttributionOutputs,
    each: MapChunkVisitor<'_>,
) -> Result<(Vec<AtomicFile>, AttributionInfo)> {
    let shards: Vec<AttributionReader> = paths.iter().map(|p| AttributionReader::open(p)).collect::<Result<_>>()?;
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
        if shard.names() != first.names() {
            return Err(Error::in_file(path, "holds other arrays than the first shard"));
        }
    }
    let mut info = first.info.clone();
    info.shard = None;
    info.count = shards.iter().map(AttributionReader::len).sum();
    let mut writer = AttributionWriter::create(outputs, info.clone())?;
    for shard in &shards {
        for start in (0..shard.len()).step_by(MERGE_CHUNK) {
            let range = start..(start + MERGE_CHUNK).min(shard.len());
            let attr = shard.attr(range.clone())?;
            let x = shard.x(range.clone())?;
            each(&attr, x.as_ref(), &shard.rows[range.clone()])?;
            writer.write(attr.view(), &shard.rows[range])?;
        }
    }
    // The inputs, map range by map range, from whichever shards hold them.
    let offsets: Vec<usize> = shards.iter().scan(0, |at, s| Some(std::mem::replace(at, *at + s.len()))).collect();
    let mut read = |range: std::ops::Range<usize>| -> Result<Array3<f32>> {
        let mut parts = Vec::new();
        for (shard, &offset) in shards.iter().zip(&offsets) {
            let (lo, hi) = (range.start.max(offset), range.end.min(offset + shard.len()));
            if lo < hi {
                parts.push(shard.x(lo - offset..hi - offset)?.expect("every shard holds x"));
            }
        }
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        ndarray::concatenate(Axis(0), &views).map_err(|e| Error::runtime(format!("joining the shards' inputs: {e}")))
    };
    let stored = first.x(0..0)?.map(|x| (x.shape()[1], first.x_dtype().unwrap_or_default()));
    let inputs = stored.map(|(channels, dtype)| Inputs { channels, dtype, read: &mut read as ReadInputs<'_> });
    let mut extra = Vec::new();
    for name in first.names().into_iter().filter(|n| n != "attr" && n != "x") {
        let arrays: Vec<ArrayD<f32>> = shards.iter().map(|s| s.array(&name)).collect::<Result<_>>()?;
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        let joined = ndarray::concatenate(Axis(0), &views)
            .map_err(|e| Error::runtime(format!("joining array '{name}' of the shards: {e}")))?;
        extra.push((name, joined));
    }
    Ok((writer.finish(inputs, &extra)?, info))
}

/// Maps copied at a time when shards are merged.
const MERGE_CHUNK: usize = 1024;

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
            method: AttributionMethod::Saliency,
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
        crate::atomic::commit_all(a.stage(&AttributionOutputs { npz: path.clone(), ..Default::default() }).unwrap())
            .unwrap();
        assert_eq!(Attributions::read(&path).unwrap(), a);
    }

    #[test]
    fn maps_written_in_chunks_give_the_files_of_one_write_and_merge_back() {
        let dir = tempfile::tempdir().unwrap();
        let outputs = |stem: &str| AttributionOutputs {
            npz: dir.path().join(format!("{stem}.npz")),
            long_tsv: Some(dir.path().join(format!("{stem}.tsv"))),
            long_tsv_header: true,
            json: Some(dir.path().join(format!("{stem}.export.json"))),
        };
        // Five maps with an input array and a per-map extra.
        let mut a = sample();
        let attr = Array3::from_shape_fn((5, 2, 3), |(n, c, l)| (n * 6 + c * 3 + l) as f32 * 0.25 - 1.0);
        let x = Array3::from_shape_fn((5, 2, 3), |(n, c, l)| ((n + c + l) % 2) as f32);
        a.rows = (0..5).map(|i| MapRow { id: format!("r{i}"), dataset_row: Some(i), ..a.rows[0].clone() }).collect();
        a.info.count = 5;
        let gap = ndarray::Array1::from_shape_fn(5, |i| i as f32 * 0.5).into_dyn();
        a.arrays = vec![
            ("attr".into(), attr.clone().into_dyn()),
            ("x".into(), x.clone().into_dyn()),
            ("gap".into(), gap.clone()),
        ];
        crate::atomic::commit_all(a.stage(&outputs("whole")).unwrap()).unwrap();
        let mut writer = AttributionWriter::create(&outputs("chunks"), a.info.clone()).unwrap();
        for range in [0..2, 2..3, 3..5] {
            writer.write(attr.slice(s![range.clone(), .., ..]), &a.rows[range]).unwrap();
        }
        let mut read = |r: std::ops::Range<usize>| Ok(x.slice(s![r, .., ..]).to_owned());
        let inputs = Inputs { channels: 2, dtype: Dtype::Float32, read: &mut read };
        crate::atomic::commit_all(writer.finish(Some(inputs), &[("gap".into(), gap)]).unwrap()).unwrap();
        for suffix in [".npz", ".rows.tsv", ".json", ".tsv", ".export.json"] {
            let read = |stem: &str| std::fs::read(dir.path().join(format!("{stem}{suffix}"))).unwrap();
            assert!(read("whole") == read("chunks"), "{suffix} differs");
        }
        assert_eq!(Attributions::read(&dir.path().join("chunks.npz")).unwrap(), a);
        // Two shards of the same maps merge back into the same files.
        for (i, range) in [(1, 0..3), (2, 3..5)] {
            let mut shard = a.clone();
            shard.info.shard = Some(format!("{i}/2"));
            shard.info.count = range.len();
            shard.rows = a.rows[range.clone()].to_vec();
            shard.arrays = a
                .arrays
                .iter()
                .map(|(n, v)| (n.clone(), v.slice_axis(Axis(0), range.clone().into()).to_owned()))
                .collect();
            let files =
                shard.stage(&AttributionOutputs { npz: dir.path().join(format!("s{i}.npz")), ..Default::default() });
            crate::atomic::commit_all(files.unwrap()).unwrap();
        }
        let shards = [dir.path().join("s1.npz"), dir.path().join("s2.npz")];
        let (files, info) = merge_shards(&shards, &outputs("merged"), &mut |_, _, _| Ok(())).unwrap();
        crate::atomic::commit_all(files).unwrap();
        assert_eq!(info, a.info);
        for suffix in [".npz", ".rows.tsv", ".json", ".tsv", ".export.json"] {
            let read = |stem: &str| std::fs::read(dir.path().join(format!("{stem}{suffix}"))).unwrap();
            assert!(read("whole") == read("merged"), "merged {suffix} differs");
        }
    }

    #[test]
    fn long_tsv_lists_every_channel_at_every_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tsv");
        let outputs = AttributionOutputs {
            npz: dir.path().join("a.npz"),
            long_tsv: Some(path.clone()),
            long_tsv_header: true,
            json: Some(dir.path().join("a.export.json")),
        };
        crate::atomic::commit_all(sample().stage(&outputs).unwrap()).unwrap();
        // The export is the sidecar's description with every map.
        let export: AttributionJson =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("a.export.json")).unwrap()).unwrap();
        assert_eq!(export.info, sample().info);
        let rows = export.rows.unwrap();
        assert_eq!((rows.len(), rows[1].scores[1][2]), (2, 11f32 * 0.1 - 0.2));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 2 * 2 * 3);
        // Row b (n = 1), position 2, channel C (c = 1): (6 + 3 + 2) * 0.1 - 0.2.
        assert_eq!(lines[12], format!("b\tpos\t2\tC\t{}", 11f32 * 0.1 - 0.2));
    }
}
