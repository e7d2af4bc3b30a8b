//! Reading attribution files by chunks of maps: the sidecar and rows TSV in memory, `attr` and
//! `x` read as ranges of maps (checked to be finite as they are read), the small per-map arrays
//! whole.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ndarray::{Array3, ArrayD, Axis};

use super::{AttributionInfo, AttributionJson, MapRow, read_rows, rows_path_for, sidecar_path_for};
use crate::error::{Error, IoResultExt, Result};
use crate::npz::{NpyArray, NpzFile};

/// An attribution NPZ open for reading, with its description and rows.
pub struct AttributionReader {
    /// The NPZ.
    pub path: PathBuf,
    /// How the maps were made.
    pub info: AttributionInfo,
    /// What each map explains.
    pub rows: Vec<MapRow>,
    npz: NpzFile,
    attr: NpyArray,
    x: Option<NpyArray>,
}

impl AttributionReader {
    /// Open an attribution NPZ with its rows TSV and sidecar, and check that they agree.
    pub fn open(npz_path: &Path) -> Result<Self> {
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
        if !npz.contains("attr") {
            return Err(Error::in_file(npz_path, "has no array 'attr'"));
        }
        let attr = npz.array("attr")?;
        let count = attr.rows();
        for name in npz.names() {
            let array = npz.array(&name)?;
            if array.shape().is_empty() || array.rows() != count {
                return Err(Error::in_file(
                    npz_path,
                    format!("array '{name}' has shape {:?}; expected {count} maps", array.shape()),
                ));
            }
        }
        if attr.shape().len() != 3 {
            return Err(Error::in_file(
                npz_path,
                format!("array 'attr' has shape {:?}; expected (maps, channels, positions)", attr.shape()),
            ));
        }
        let x = if npz.contains("x") { Some(npz.array("x")?) } else { None };
        if let Some(x) = &x
            && (x.shape().len() != 3 || x.shape()[2] != attr.shape()[2])
        {
            return Err(Error::in_file(
                npz_path,
                format!("array 'x' has shape {:?}; 'attr' has {:?}", x.shape(), attr.shape()),
            ));
        }
        let rows = read_rows(&rows_path_for(npz_path), count)?;
        Ok(Self { path: npz_path.to_path_buf(), info: json.info, rows, npz, attr, x })
    }

    /// Maps in the file.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the file holds no maps.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The names of the NPZ's arrays, `attr` first, then in file order.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.npz.names();
        let at = names.iter().position(|n| n == "attr").expect("checked on open");
        let attr = names.remove(at);
        names.insert(0, attr);
        names
    }

    /// The scores of maps `range`, (maps, channels, positions).
    pub fn attr(&self, range: Range<usize>) -> Result<Array3<f32>> {
        self.read3(&self.attr, "attr", range)
    }

    /// The inputs of maps `range`, when the file stores them (all but attention maps).
    pub fn x(&self, range: Range<usize>) -> Result<Option<Array3<f32>>> {
        self.x.as_ref().map(|x| self.read3(x, "x", range)).transpose()
    }

    /// How the inputs are stored, when the file holds them.
    pub fn x_dtype(&self) -> Option<crate::dtype::Dtype> {
        self.x.as_ref().map(NpyArray::dtype)
    }

    /// A whole array by name (for the small per-map arrays), checked to be finite.
    pub fn array(&self, name: &str) -> Result<ArrayD<f32>> {
        let array = self.npz.read_f32(name)?;
        for (i, map) in array.axis_iter(Axis(0)).enumerate() {
            if let Some(v) = map.iter().find(|v| !v.is_finite()) {
                return Err(self.non_finite(name, i, *v));
            }
        }
        Ok(array)
    }

    fn read3(&self, array: &NpyArray, name: &str, range: Range<usize>) -> Result<Array3<f32>> {
        let &[_, c, l] = array.shape() else { unreachable!("checked on open") };
        let start = range.start;
        let values = array.read_rows(range.clone())?;
        let maps = Array3::from_shape_vec((range.len(), c, l), values).expect("maps x C x L values");
        for (i, map) in maps.axis_iter(Axis(0)).enumerate() {
            if let Some(v) = map.iter().find(|v| !v.is_finite()) {
                return Err(self.non_finite(name, start + i, *v));
            }
        }
        Ok(maps)
    }

    fn non_finite(&self, name: &str, map: usize, v: f32) -> Error {
        Error::at_record(
            &self.path,
            map as u64 + 1,
            Some(&self.rows[map].id),
            format!("array '{name}' holds a non-finite value ({v}); expected finite numbers"),
        )
    }
}
