//! Loading a dataset split (NPZ + manifest + rows TSV, docs/design.md §3) for a model, with the checks
//! that must fail before any training: finite inputs, shapes, labels, row ids.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use gkd_io::error::{Error, Result};
use gkd_io::manifest::{self, DatasetKind, DatasetManifest, TaskKind};
use gkd_io::npz::NpzFile;
use gkd_io::table::TextTable;
use ndarray::{Array2, Array3, Axis, Ix2};

use crate::loss::Head;

/// One dataset split in memory, `x` in (N, C, L) order.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The NPZ it was read from.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: DatasetManifest,
    /// Inputs (N, C, L).
    pub x: Array3<f32>,
    /// Labels (N, K).
    pub y: Array2<f32>,
    /// Row ids, in row order.
    pub ids: Vec<String>,
}

impl Dataset {
    /// Read `NAME.npz`, `NAME.json` and `NAME.rows.tsv`, and check that they agree and that
    /// every input value is finite.
    pub fn load(path: &Path) -> Result<Self> {
        let manifest_path = manifest::manifest_path_for(path);
        if !manifest_path.exists() {
            return Err(Error::in_file(
                path,
                format!(
                    "has no manifest beside it (expected {}; write datasets with gkd-onehot, gkd-synth or gkd-histone)",
                    manifest_path.display()
                ),
            ));
        }
        let manifest = DatasetManifest::read(&manifest_path)?;
        let mut npz = NpzFile::open(path)?;
        let x = manifest::read_ncl(&mut npz, "x", manifest.layout, path)?;
        let y = npz
            .read_f32("y")?
            .into_dimensionality::<Ix2>()
            .map_err(|_| Error::in_file(path, "array 'y' must have 2 dimensions (rows, classes)"))?;
        if y.nrows() != x.shape()[0] {
            return Err(Error::in_file(path, format!("'x' has {} rows but 'y' has {}", x.shape()[0], y.nrows())));
        }
        if y.ncols() != manifest.classes.len() {
            return Err(Error::in_file(
                path,
                format!("'y' has {} columns but the manifest names {} classes", y.ncols(), manifest.classes.len()),
            ));
        }
        let ids = read_ids(&manifest::rows_path_for(path), x.shape()[0])?;
        for (i, row) in x.axis_iter(Axis(0)).enumerate() {
            if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                return Err(Error::at_record(
                    path,
                    i as u64 + 1,
                    Some(&ids[i]),
                    format!("input 'x' holds a non-finite value ({v}); expected finite numbers"),
                ));
            }
        }
        for (i, row) in y.axis_iter(Axis(0)).enumerate() {
            if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                return Err(Error::at_record(path, i as u64 + 1, Some(&ids[i]), format!("label is not finite ({v})")));
            }
        }
        Ok(Self { path: path.to_path_buf(), manifest, x, y, ids })
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.x.shape()[0]
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Channels (C of (N, C, L)).
    pub fn channels(&self) -> usize {
        self.x.shape()[1]
    }

    /// Positions or bins (L of (N, C, L)).
    pub fn length(&self) -> usize {
        self.x.shape()[2]
    }

    /// The output head the task calls for.
    pub fn head(&self) -> Result<Head> {
        match self.manifest.task {
            TaskKind::Binary | TaskKind::Multilabel => Ok(Head::Sigmoid),
            TaskKind::Multiclass => Ok(Head::Softmax),
            other => Err(Error::in_file(
                &self.path,
                format!(
                    "task '{}' cannot be trained: gkd-train fits binary, multilabel and multiclass labels",
                    serde_json::to_value(other).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
                ),
            )),
        }
    }

    /// Whether this is sequence or histone data.
    pub fn kind(&self) -> DatasetKind {
        self.manifest.kind
    }

    /// Rows `rows` of `x` as a (B, C, L) tensor.
    pub fn x_batch(&self, rows: &[usize], device: &Device) -> Tensor<3> {
        gather3(&self.x, rows, device)
    }

    /// Rows `rows` of `y` as a (B, K) tensor.
    pub fn y_batch(&self, rows: &[usize], device: &Device) -> Tensor<2> {
        gather2(&self.y, rows, device)
    }
}

/// Rows of a (N, C, L) array as a tensor.
pub fn gather3(x: &Array3<f32>, rows: &[usize], device: &Device) -> Tensor<3> {
    let (_, c, l) = x.dim();
    let mut data: Vec<f32> = Vec::with_capacity(rows.len() * c * l);
    for &r in rows {
        data.extend(x.index_axis(Axis(0), r).iter());
    }
    Tensor::from_data(TensorData::new(data, [rows.len(), c, l]), device)
}

/// Rows of a (N, K) array as a tensor.
pub fn gather2(y: &Array2<f32>, rows: &[usize], device: &Device) -> Tensor<2> {
    let k = y.ncols();
    let mut data: Vec<f32> = Vec::with_capacity(rows.len() * k);
    for &r in rows {
        data.extend(y.row(r).iter());
    }
    Tensor::from_data(TensorData::new(data, [rows.len(), k]), device)
}

/// The `id` column of a rows TSV, which must have one line per row.
fn read_ids(path: &Path, rows: usize) -> Result<Vec<String>> {
    if !path.exists() {
        return Err(Error::in_file(path, "is missing (row identities of the dataset)"));
    }
    let table = TextTable::read(path, Some(b'\t'))?;
    let ids: Vec<String> = table.column("id")?.into_iter().map(Option::unwrap_or_default).collect();
    if ids.len() != rows {
        return Err(Error::in_file(path, format!("has {} rows but the arrays have {rows}", ids.len())));
    }
    Ok(ids)
}

/// Index of each id, with an error naming the first repeated id.
pub fn index_ids(ids: &[String], path: &Path) -> Result<HashMap<String, usize>> {
    let mut index = HashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if index.insert(id.clone(), i).is_some() {
            return Err(Error::at_line(path, i as u64 + 2, format!("id '{id}' appears more than once")));
        }
    }
    Ok(index)
}
