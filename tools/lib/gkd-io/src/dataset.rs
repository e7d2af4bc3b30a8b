//! One dataset split as the files of docs/data-contracts.md: `NAME.npz` (x, y and any extra arrays such
//! as `truth`), `NAME.rows.tsv` (row identity and labels, same order) and `NAME.json` (the
//! manifest). Reading ([`Dataset::load`], with the checks that must fail before any training:
//! finite inputs, shapes, labels, row ids) and writing (staged as [`AtomicFile`]s; commit every
//! split's files together with [`crate::atomic::commit_all`]).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, ArrayViewD, Axis, Ix2};

use crate::atomic::AtomicFile;
use crate::dtype::Dtype;
use crate::error::{Error, IoResultExt, Result};
use crate::manifest::{self, DatasetKind, DatasetManifest, Layout, SourceFile, TaskKind};
pub use crate::npz::FillRows;
use crate::npz::{self, NpyArray, NpzFile, fill_chunk_rows};
use crate::table::{self, RowIdentity, TextTable};

/// One dataset split: its manifest, labels and row ids in memory, and its inputs `x` (and
/// ground truth, when the split has one) read by rows, in (rows, C, L) order whatever the
/// stored layout and element type. Memory does not grow with the size of `x`: read what a
/// batch needs with [`read_x`](Self::read_x) or [`gather_x`](Self::gather_x), or everything
/// with [`into_resident`](Self::into_resident) (training, which revisits every row each epoch).
pub struct Dataset {
    /// The NPZ it was read from.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: DatasetManifest,
    /// Labels (N, K).
    pub y: Array2<f32>,
    /// Row ids, in row order.
    pub ids: Vec<String>,
    x: SplitArray,
    truth: Option<SplitArray>,
}

/// A 3-D array of a split, read by rows as (rows, C, L) float32.
struct SplitArray {
    array: NpyArray,
    layout: Layout,
    /// (C, L) of one row after the layout is applied.
    row_shape: (usize, usize),
}

impl SplitArray {
    fn open(npz: &NpzFile, name: &str, layout: Layout, path: &Path) -> Result<Self> {
        let array = npz.array(name)?;
        let &[_, a, b] = array.shape() else {
            return Err(Error::in_file(
                path,
                format!("array '{name}' has shape {:?}; expected 3 dimensions (rows, channels, length)", array.shape()),
            ));
        };
        let row_shape = match layout {
            Layout::Ncl => (a, b),
            Layout::Nlc => (b, a),
        };
        Ok(Self { array, layout, row_shape })
    }

    fn rows(&self) -> usize {
        self.array.rows()
    }

    /// Rows `range`, in (rows, C, L) order.
    fn read(&self, range: Range<usize>, buffer: &mut Vec<f32>) -> Result<Array3<f32>> {
        let (c, l) = self.row_shape;
        self.array.read_rows_into(range.clone(), buffer)?;
        let values = std::mem::take(buffer);
        Ok(match self.layout {
            Layout::Ncl => Array3::from_shape_vec((range.len(), c, l), values).expect("rows x C x L values"),
            Layout::Nlc => {
                let nlc = Array3::from_shape_vec((range.len(), l, c), values).expect("rows x L x C values");
                nlc.permuted_axes([0, 2, 1]).as_standard_layout().into_owned()
            }
        })
    }

    /// Any rows, in the order given; consecutive runs are read together.
    fn gather(&self, rows: &[usize]) -> Result<Array3<f32>> {
        let (c, l) = self.row_shape;
        let mut out = Array3::zeros((rows.len(), c, l));
        let mut buffer = Vec::new();
        let mut i = 0;
        while i < rows.len() {
            let mut j = i + 1;
            while j < rows.len() && rows[j] == rows[j - 1] + 1 {
                j += 1;
            }
            let block = self.read(rows[i]..rows[j - 1] + 1, &mut buffer)?;
            out.slice_mut(ndarray::s![i..j, .., ..]).assign(&block);
            buffer = block.into_raw_vec_and_offset().0;
            i = j;
        }
        Ok(out)
    }
}

impl Dataset {
    /// Open `NAME.npz` with `NAME.json` and `NAME.rows.tsv`, and check that they agree. Labels
    /// and ids are read and checked here; inputs are checked (finite values) as they are read.
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
        let npz = NpzFile::open(path)?;
        let x = SplitArray::open(&npz, "x", manifest.layout, path)?;
        let truth =
            if npz.contains("truth") { Some(SplitArray::open(&npz, "truth", manifest.layout, path)?) } else { None };
        let y = npz
            .read_f32("y")?
            .into_dimensionality::<Ix2>()
            .map_err(|_| Error::in_file(path, "array 'y' must have 2 dimensions (rows, classes)"))?;
        if y.nrows() != x.rows() {
            return Err(Error::in_file(path, format!("'x' has {} rows but 'y' has {}", x.rows(), y.nrows())));
        }
        if y.ncols() != manifest.classes.len() {
            return Err(Error::in_file(
                path,
                format!("'y' has {} columns but the manifest names {} classes", y.ncols(), manifest.classes.len()),
            ));
        }
        let ids = read_ids(&manifest::rows_path_for(path), x.rows())?;
        for (i, row) in y.axis_iter(Axis(0)).enumerate() {
            if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                return Err(Error::at_record(path, i as u64 + 1, Some(&ids[i]), format!("label is not finite ({v})")));
            }
        }
        Ok(Self { path: path.to_path_buf(), manifest, x, y, ids, truth })
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Channels (C of (N, C, L)).
    pub fn channels(&self) -> usize {
        self.x.row_shape.0
    }

    /// Positions or bins (L of (N, C, L)).
    pub fn length(&self) -> usize {
        self.x.row_shape.1
    }

    /// How `x` is stored on disk.
    pub fn x_dtype(&self) -> Dtype {
        self.x.array.dtype()
    }

    /// Inputs of rows `range`, (rows, C, L), every value checked to be finite.
    pub fn read_x(&self, range: Range<usize>) -> Result<Array3<f32>> {
        let start = range.start;
        let x = self.x.read(range, &mut Vec::new())?;
        self.check_finite(&x, start)?;
        Ok(x)
    }

    /// Inputs of any rows, in the order given, (rows, C, L).
    pub fn gather_x(&self, rows: &[usize]) -> Result<Array3<f32>> {
        let x = self.x.gather(rows)?;
        for (i, map) in x.axis_iter(Axis(0)).enumerate() {
            if let Some(v) = map.iter().find(|v| !v.is_finite()) {
                return Err(self.non_finite(rows[i], *v));
            }
        }
        Ok(x)
    }

    /// Every row's inputs in memory, checked: what training needs.
    pub fn into_resident(self) -> Result<ResidentDataset> {
        let x = self.read_x(0..self.len())?;
        Ok(ResidentDataset { data: self, x })
    }

    fn check_finite(&self, x: &Array3<f32>, first_row: usize) -> Result<()> {
        for (i, row) in x.axis_iter(Axis(0)).enumerate() {
            if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                return Err(self.non_finite(first_row + i, *v));
            }
        }
        Ok(())
    }

    fn non_finite(&self, row: usize, v: f32) -> Error {
        Error::at_record(
            &self.path,
            row as u64 + 1,
            Some(&self.ids[row]),
            format!("input 'x' holds a non-finite value ({v}); expected finite numbers"),
        )
    }

    /// Refuse a split (e.g. validation) whose inputs or classes differ from `train`'s.
    pub fn check_compatible_with(&self, train: &Dataset) -> Result<()> {
        let (t, v) = (&train.manifest, &self.manifest);
        if t.kind != v.kind || train.channels() != self.channels() || train.length() != self.length() {
            return Err(Error::in_file(
                &self.path,
                format!(
                    "holds {} x {} {} data; the training split holds {} x {} {} data",
                    self.channels(),
                    self.length(),
                    v.kind.name(),
                    train.channels(),
                    train.length(),
                    t.kind.name()
                ),
            ));
        }
        if t.classes != v.classes {
            return Err(Error::in_file(
                &self.path,
                format!("has classes [{}]; the training split has [{}]", v.classes.join(", "), t.classes.join(", ")),
            ));
        }
        Ok(())
    }

    /// Whether this is sequence or histone data.
    pub fn kind(&self) -> DatasetKind {
        self.manifest.kind
    }

    /// Whether the split has a ground truth (`truth`, written by gkd-synth).
    pub fn has_truth(&self) -> bool {
        self.truth.is_some()
    }

    /// The ground truth (rows, C, L) of some rows of a synthetic split (gkd-synth's `truth`: the
    /// generating PWM of every position), in the order given.
    pub fn gather_truth(&self, rows: &[usize]) -> Result<Array3<f32>> {
        let truth = self.truth.as_ref().ok_or_else(|| {
            Error::in_file(
                &self.path,
                "has no 'truth' array (the generating PWM of every position, which gkd-synth writes; motif recovery and ground-truth logos need it)",
            )
        })?;
        if truth.rows() != self.len() || truth.row_shape != self.x.row_shape {
            return Err(Error::in_file(
                &self.path,
                format!(
                    "'truth' has shape {:?}; 'x' has {:?}",
                    truth.array.shape(),
                    [self.len(), self.channels(), self.length()]
                ),
            ));
        }
        let values = truth.gather(rows)?;
        for (i, row) in values.axis_iter(Axis(0)).enumerate() {
            if let Some(v) = row.iter().find(|v| !(v.is_finite() && (0.0..=1.0).contains(*v))) {
                return Err(Error::at_record(
                    &self.path,
                    rows[i] as u64 + 1,
                    Some(&self.ids[rows[i]]),
                    format!("'truth' holds {v}; expected base probabilities in [0, 1]"),
                ));
            }
        }
        Ok(values)
    }

    /// The ground truth of every row (see [`gather_truth`](Self::gather_truth)).
    pub fn read_truth(&self) -> Result<Array3<f32>> {
        self.gather_truth(&(0..self.len()).collect::<Vec<_>>())
    }
}

/// A split with every row's inputs in memory (`x`, (N, C, L)).
pub struct ResidentDataset {
    /// The split.
    pub data: Dataset,
    /// Its inputs.
    pub x: Array3<f32>,
}

impl std::ops::Deref for ResidentDataset {
    type Target = Dataset;
    fn deref(&self) -> &Dataset {
        &self.data
    }
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

/// Everything needed to write one split.
pub struct SplitData<'a> {
    /// Sequence or histone.
    pub kind: DatasetKind,
    /// Split name.
    pub split: &'a str,
    /// Axis order of `x`.
    pub layout: Layout,
    /// Channel names.
    pub channels: Vec<String>,
    /// Class names (columns of `y`).
    pub classes: &'a [String],
    /// How `y` is read.
    pub task: TaskKind,
    /// The inputs, (N, C, L) or (N, L, C).
    pub x: SplitInputs<'a>,
    /// How `x` is stored (`--dtype`).
    pub dtype: Dtype,
    /// The labels, (N, K).
    pub y: ArrayView2<'a, f32>,
    /// Further arrays (e.g. `truth`).
    pub extra_arrays: Vec<(&'a str, ArrayViewD<'a, f32>)>,
    /// Row identities, one per row of `x`.
    pub rows: &'a [RowIdentity],
    /// Extra text columns of the rows TSV (after strand, before the labels).
    pub row_columns: Vec<(String, Vec<String>)>,
    /// Counts for the manifest.
    pub counts: BTreeMap<String, u64>,
    /// Source files for the manifest.
    pub sources: Vec<SourceFile>,
    /// Tool parameters for the manifest.
    pub parameters: serde_json::Value,
    /// The writing tool's name.
    pub tool: &'a str,
    /// Compress the archive (numpy.savez_compressed) instead of storing (numpy.savez).
    pub compress: bool,
}

/// The inputs of a split being written: a whole array, or rows made on demand as they are
/// written, so that the tensor never exists in memory.
pub enum SplitInputs<'a> {
    /// All rows, (N, C, L) or (N, L, C).
    Array(ArrayView3<'a, f32>),
    /// Rows made by `fill`, a chunk at a time.
    Rows {
        /// (N, C, L) or (N, L, C).
        shape: [usize; 3],
        /// Makes the rows.
        fill: FillRows<'a>,
    },
}

impl SplitInputs<'_> {
    /// (N, C, L) or (N, L, C).
    pub fn shape(&self) -> [usize; 3] {
        match self {
            SplitInputs::Array(x) => [x.shape()[0], x.shape()[1], x.shape()[2]],
            SplitInputs::Rows { shape, .. } => *shape,
        }
    }
}

/// Writes the splits of a data tool (gkd-onehot, gkd-histone, gkd-synth) all or nothing: each
/// split's dataset files and the tool's own files beside them are staged, and the whole set
/// appears together on [`commit`](Self::commit).
pub struct SplitWriter<'t> {
    template: &'t Path,
    staged: Vec<AtomicFile>,
}

impl<'t> SplitWriter<'t> {
    /// Splits go to `template` with `{split}` replaced by each split's name.
    pub fn new(template: &'t Path) -> Self {
        Self { template, staged: Vec::new() }
    }

    /// Stage the NPZ, rows TSV and manifest of one split; returns the NPZ's path.
    pub fn stage(&mut self, data: &SplitData<'_>) -> Result<PathBuf> {
        let npz_path = split_path(self.template, data.split);
        self.staged.extend(stage_split(data, &npz_path)?);
        Ok(npz_path)
    }

    /// Stage another file that belongs with the splits (an export, a sites table).
    pub fn add(&mut self, file: AtomicFile) {
        self.staged.push(file);
    }

    /// Put every staged file in place.
    pub fn commit(self) -> Result<()> {
        crate::atomic::commit_all(self.staged)
    }
}

/// The path of a split's arrays: `{split}` in the template is replaced by the split name.
pub fn split_path(template: &Path, split: &str) -> PathBuf {
    PathBuf::from(template.to_string_lossy().replace("{split}", split))
}

/// Check output templates: each given path must contain `{split}` exactly when splitting.
pub fn check_templates(splitting: bool, templates: &[(&str, Option<&Path>)]) -> Result<()> {
    for (flag, template) in templates {
        if let Some(t) = template
            && splitting != t.to_string_lossy().contains("{split}")
        {
            return Err(Error::usage(if splitting {
                format!("{flag} must contain {{split}} when splitting (e.g. data/name.{{split}}.npz)")
            } else {
                format!("{flag} contains {{split}} but no --split or --split-chroms was given")
            }));
        }
    }
    Ok(())
}

/// Infer how labels are to be read: no columns → none; all values 0/1 → binary (one column) or
/// multilabel; otherwise regression.
pub fn infer_task(y: ArrayView2<'_, f32>) -> TaskKind {
    if y.ncols() == 0 {
        TaskKind::None
    } else if y.iter().all(|&v| v == 0.0 || v == 1.0) {
        if y.ncols() == 1 { TaskKind::Binary } else { TaskKind::Multilabel }
    } else {
        TaskKind::Regression
    }
}

/// Stage the three files of a split at `npz_path` (rows TSV and manifest beside it).
pub fn stage_split(data: &SplitData<'_>, npz_path: &Path) -> Result<Vec<AtomicFile>> {
    let shape = data.x.shape();
    let n = shape[0];
    if data.y.nrows() != n || data.rows.len() != n || data.y.ncols() != data.classes.len() {
        return Err(Error::runtime(format!(
            "internal: split '{}' has {} rows of x, {} of y, {} identities, {} label columns for {} classes",
            data.split,
            n,
            data.y.nrows(),
            data.rows.len(),
            data.y.ncols(),
            data.classes.len()
        )));
    }
    let rows_path = manifest::rows_path_for(npz_path);
    let manifest_path = manifest::manifest_path_for(npz_path);

    let npz_file = AtomicFile::create(npz_path)?;
    {
        let mut w = npz_file.writer()?;
        // Name the file; a value the chosen --dtype cannot hold stays a usage error.
        let in_file = |e: Error| match e {
            Error::Usage(m) => Error::usage(format!("{}: {m}", npz_path.display())),
            other => Error::runtime(format!("{}: {other}", npz_path.display())),
        };
        let mut npz = npz::NpzWriter::new(&mut w, data.compress);
        match &data.x {
            SplitInputs::Array(x) => npz.add("x", x.into_dyn(), data.dtype).map_err(in_file)?,
            SplitInputs::Rows { shape, fill } => {
                npz.begin("x", shape, data.dtype).map_err(in_file)?;
                let mut buffer = Vec::new();
                let chunk = fill_chunk_rows(shape[1] * shape[2]);
                for start in (0..n).step_by(chunk) {
                    buffer.clear();
                    fill(start..(start + chunk).min(n), &mut buffer)?;
                    npz.write(&buffer).map_err(in_file)?;
                }
                npz.end().map_err(in_file)?;
            }
        }
        npz.add("y", data.y.into_dyn(), Dtype::Float32).map_err(in_file)?;
        for (name, array) in &data.extra_arrays {
            npz.add(name, array.view(), Dtype::Float32).map_err(in_file)?;
        }
        npz.finish().map_err(in_file)?;
        std::io::Write::flush(&mut w).with_path(npz_path)?;
    }

    let mut rows_file = AtomicFile::create(&rows_path)?;
    table::write_rows_tsv(&mut rows_file, data.rows, &data.row_columns, data.classes, data.y)?;

    let file_name = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let positives = (0..data.y.ncols()).map(|k| data.y.column(k).iter().filter(|&&v| v > 0.0).count() as u64).collect();
    let (length, channels_axis) = match data.layout {
        Layout::Ncl => (shape[2], 1),
        Layout::Nlc => (shape[1], 2),
    };
    debug_assert_eq!(shape[channels_axis], data.channels.len());
    let mut arrays = BTreeMap::from([("x".to_owned(), shape.to_vec()), ("y".to_owned(), data.y.shape().to_vec())]);
    arrays.extend(data.extra_arrays.iter().map(|(k, v)| (k.to_string(), v.shape().to_vec())));
    let manifest = DatasetManifest {
        schema: manifest::DATASET_MANIFEST_SCHEMA.to_owned(),
        kind: data.kind,
        split: data.split.to_owned(),
        arrays_file: file_name(npz_path),
        rows_file: file_name(&rows_path),
        arrays,
        x_dtype: data.dtype,
        layout: data.layout,
        channels: data.channels.clone(),
        classes: data.classes.to_vec(),
        task: data.task,
        length,
        rows: n,
        positives,
        counts: data.counts.clone(),
        sources: data.sources.clone(),
        parameters: data.parameters.clone(),
        tool: data.tool.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut manifest_file = AtomicFile::create(&manifest_path)?;
    manifest.write(&mut manifest_file)?;
    Ok(vec![npz_file, rows_file, manifest_file])
}
