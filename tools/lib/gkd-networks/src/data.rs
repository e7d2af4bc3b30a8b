//! The conditions' samples × features matrices, from gkd histone datasets (marks × bins pooled
//! to a chosen resolution) or from any matrix (NPY / NPZ array, or a TSV / CSV with a header of
//! feature names).

use std::path::{Path, PathBuf};

use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, Result};
use gkd_io::npz::NpzFile;
use gkd_io::table::TextTable;
use nalgebra::DMatrix;
use ndarray::Array2;
use ndarray_npy::{NpzReader, read_npy};

/// One condition's samples.
#[derive(Debug, Clone)]
pub struct Condition {
    /// Its name in the outputs.
    pub name: String,
    /// Where its rows came from (for the sidecar).
    pub source: String,
    /// Samples × features.
    pub data: DMatrix<f64>,
}

/// What a feature is.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// `MARK:START-END` (bins, 0-based, end exclusive) for histone features, else the column's
    /// name.
    pub name: String,
    /// The histone mark (histone inputs).
    pub mark: Option<String>,
    /// The bins pooled, [start, end) (histone inputs).
    pub bins: Option<(usize, usize)>,
}

/// How inputs become features.
#[derive(Debug, Clone)]
pub struct FeatureOptions {
    /// Histone datasets: average this many adjacent bins per feature (the last group may be
    /// shorter).
    pub pool_bins: usize,
    /// Apply log(1 + x) first (counts).
    pub log1p: bool,
}

/// One input file, with an optional label filter and name.
#[derive(Debug, Clone)]
pub struct InputSpec {
    /// The file.
    pub path: PathBuf,
    /// The condition's name (default: the file's stem).
    pub name: Option<String>,
    /// Keep only rows whose label of this class (of a gkd dataset) is this value.
    pub label: Option<(String, bool)>,
}

/// Read every input; all must give the same features.
pub fn load_conditions(inputs: &[InputSpec], options: &FeatureOptions) -> Result<(Vec<Condition>, Vec<Feature>)> {
    let mut conditions = Vec::new();
    let mut features: Option<(Vec<Feature>, PathBuf)> = None;
    for spec in inputs {
        let (data, these, source) = load_one(spec, options)?;
        if let Some((first, first_path)) = &features {
            if first != &these {
                return Err(Error::in_file(
                    &spec.path,
                    format!(
                        "has {} features ({}…); {} has {} ({}…): every condition needs the same features",
                        these.len(),
                        these.first().map_or("", |f| f.name.as_str()),
                        first_path.display(),
                        first.len(),
                        first.first().map_or("", |f| f.name.as_str())
                    ),
                ));
            }
        } else {
            features = Some((these, spec.path.clone()));
        }
        let name = spec.name.clone().unwrap_or_else(|| default_name(spec));
        conditions.push(Condition { name, source, data });
    }
    let (features, _) = features.ok_or_else(|| Error::usage("no input given"))?;
    Ok((conditions, features))
}

fn default_name(spec: &InputSpec) -> String {
    let stem = spec.path.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let stem = [".npz", ".npy", ".tsv.gz", ".csv.gz", ".tsv", ".csv"]
        .iter()
        .fold(stem, |s, ext| s.strip_suffix(ext).map(str::to_owned).unwrap_or(s));
    match &spec.label {
        Some((class, value)) => format!("{stem}:{class}={}", u8::from(*value)),
        None => stem,
    }
}

fn load_one(spec: &InputSpec, options: &FeatureOptions) -> Result<(DMatrix<f64>, Vec<Feature>, String)> {
    let path = &spec.path;
    let lower = path.to_string_lossy().to_lowercase();
    let is_table = [".tsv", ".csv", ".txt", ".tsv.gz", ".csv.gz", ".txt.gz"].iter().any(|e| lower.ends_with(e));
    let manifest_beside = lower.ends_with(".npz") && path.with_extension("json").is_file();
    if spec.label.is_some() && !manifest_beside {
        return Err(Error::in_file(
            path,
            "--by-label and --where-label need a gkd dataset split (NPZ with its manifest beside it)",
        ));
    }
    let (mut data, features) = if manifest_beside {
        histone_features(spec, options)?
    } else if is_table {
        table_matrix(path)?
    } else {
        array_matrix(path)?
    };
    if options.log1p {
        if let Some((r, c)) = find(&data, |v| v < 0.0) {
            return Err(Error::in_file(
                path,
                format!(
                    "row {}, feature '{}' is {} (< 0): --log1p needs non-negative values",
                    r + 1,
                    features[c].name,
                    data[(r, c)]
                ),
            ));
        }
        data.apply(|v| *v = v.ln_1p());
    }
    if data.nrows() < 3 {
        return Err(Error::in_file(path, format!("has {} samples; a covariance needs at least 3", data.nrows())));
    }
    let source = match &spec.label {
        Some((class, value)) => format!("{} ({class} = {})", path.display(), u8::from(*value)),
        None => path.display().to_string(),
    };
    Ok((data, features, source))
}

fn find(m: &DMatrix<f64>, bad: impl Fn(f64) -> bool) -> Option<(usize, usize)> {
    (0..m.nrows()).flat_map(|r| (0..m.ncols()).map(move |c| (r, c))).find(|&(r, c)| bad(m[(r, c)]))
}

/// A gkd dataset split (rows, marks, bins) → rows × (marks × pooled bins), mark-major.
fn histone_features(spec: &InputSpec, options: &FeatureOptions) -> Result<(DMatrix<f64>, Vec<Feature>)> {
    let path = &spec.path;
    let data = Dataset::load(path)?;
    let rows: Vec<usize> = match &spec.label {
        None => (0..data.len()).collect(),
        Some((class, value)) => {
            let c = data.manifest.classes.iter().position(|n| n == class).ok_or_else(|| {
                Error::in_file(path, format!("has no class '{class}' (classes: {})", data.manifest.classes.join(", ")))
            })?;
            (0..data.len()).filter(|&r| (data.y[(r, c)] > 0.5) == *value).collect()
        }
    };
    let x = data.gather_x(&rows)?;
    let (_, marks, bins) = x.dim();
    let pool = options.pool_bins.max(1);
    if pool > bins {
        return Err(Error::usage(format!("--pool-bins {pool} is more than the {bins} bins of {}", path.display())));
    }
    let groups: Vec<(usize, usize)> = (0..bins).step_by(pool).map(|s| (s, (s + pool).min(bins))).collect();
    let channel = |m: usize| data.manifest.channels.get(m).cloned().unwrap_or_else(|| format!("mark{m}"));
    let features: Vec<Feature> = (0..marks)
        .flat_map(|m| groups.iter().map(move |&g| (m, g)))
        .map(|(m, (s, e))| Feature {
            name: format!("{}:{s}-{e}", channel(m)),
            mark: Some(channel(m)),
            bins: Some((s, e)),
        })
        .collect();
    let matrix = DMatrix::from_fn(rows.len(), features.len(), |r, f| {
        let (m, (s, e)) = (f / groups.len(), groups[f % groups.len()]);
        (s..e).map(|b| x[(r, m, b)] as f64).sum::<f64>() / (e - s) as f64
    });
    if let Some((r, c)) = find(&matrix, |v| !v.is_finite()) {
        return Err(Error::in_file(
            path,
            format!("row {} ({}), feature '{}' is not finite", rows[r] + 1, data.ids[rows[r]], features[c].name),
        ));
    }
    Ok((matrix, features))
}

fn named(names: Vec<String>) -> Vec<Feature> {
    names.into_iter().map(|name| Feature { name, mark: None, bins: None }).collect()
}

/// A TSV / CSV with a header of feature names (a first column headed `id` holds row ids).
fn table_matrix(path: &Path) -> Result<(DMatrix<f64>, Vec<Feature>)> {
    let table = TextTable::read(path, None)?;
    let skip = usize::from(table.columns.first().is_some_and(|c| c == "id"));
    let names: Vec<String> = table.columns[skip..].to_vec();
    if names.is_empty() {
        return Err(Error::in_file(path, "has no feature columns"));
    }
    let n = table.height();
    let mut m = DMatrix::zeros(n, names.len());
    for (c, name) in names.iter().enumerate() {
        for (r, v) in table.column(name)?.into_iter().enumerate() {
            let text = v.unwrap_or_default();
            let value: f64 = text.trim().parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
                Error::at_line(path, r as u64 + 2, format!("column '{name}' has '{text}'; expected a finite number"))
            })?;
            m[(r, c)] = value;
        }
    }
    Ok((m, named(names)))
}

/// A 2-D NPY, or an NPZ's array `x` (or its only array), float64 or float32 (read by
/// ndarray-npy): samples × features named f0, f1, ….
fn array_matrix(path: &Path) -> Result<(DMatrix<f64>, Vec<Feature>)> {
    let lower = path.to_string_lossy().to_lowercase();
    let array: Array2<f64> = if lower.ends_with(".npy") {
        read_npy::<_, Array2<f64>>(path)
            .or_else(|_| read_npy::<_, Array2<f32>>(path).map(|a| a.mapv(f64::from)))
            .map_err(|e| Error::in_file(path, format!("is not a 2-D float64 or float32 .npy array: {e}")))?
    } else {
        let names = NpzFile::open(path)?.names();
        let name = if names.iter().any(|n| n == "x") {
            "x".to_owned()
        } else if names.len() == 1 {
            names[0].clone()
        } else {
            return Err(Error::in_file(
                path,
                format!("has arrays {}; expected one named 'x' (samples × features)", names.join(", ")),
            ));
        };
        let open = || -> Result<NpzReader<std::fs::File>> {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            NpzReader::new(file).map_err(|e| Error::in_file(path, e.to_string()))
        };
        let member = format!("{name}.npy");
        open()?
            .by_name::<ndarray::OwnedRepr<f64>, ndarray::Ix2>(&member)
            .or_else(|_| {
                open()?
                    .by_name::<ndarray::OwnedRepr<f32>, ndarray::Ix2>(&member)
                    .map(|a| a.mapv(f64::from))
                    .map_err(|e| Error::in_file(path, e.to_string()))
            })
            .map_err(|e| {
                Error::in_file(
                    path,
                    format!("array '{name}' is not a 2-D float64 or float32 array (samples × features): {e}"),
                )
            })?
    };
    let (n, p) = array.dim();
    let m = DMatrix::from_fn(n, p, |r, c| array[[r, c]]);
    if let Some((r, c)) = find(&m, |v| !v.is_finite()) {
        return Err(Error::in_file(path, format!("row {}, column {} is not finite", r + 1, c + 1)));
    }
    Ok((m, named((0..p).map(|c| format!("f{c}")).collect())))
}
