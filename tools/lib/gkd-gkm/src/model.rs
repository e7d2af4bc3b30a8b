//! A trained gkm-SVM as a model directory: `kmer.json` (the card: kernel parameters, C, the class,
//! the bias) and `support.tsv` (each support vector's id, α·y and sequence). Its decision values
//! are the model's logits (one class, sigmoid head), so they are scored and used as soft targets
//! like any model's.

use std::io::Write;
use std::path::Path;

use gkd_genomics::variant_synth::decode_bases;
use gkd_io::atomic::AtomicFile;
use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::manifest::DatasetKind;
use gkd_io::table::TextTable;
use ndarray::{Array2, Axis};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kernel::{GkmParams, words_of};
use crate::svm::SvmSolution;

/// The card's file name; its presence marks a gkm-SVM model directory.
pub const CARD_FILE: &str = "kmer.json";
/// The support vectors' file name.
pub const SUPPORT_FILE: &str = "support.tsv";
/// The `$schema` of the card.
pub const KMER_SCHEMA: &str = "https://gkd.example/schemas/kmer-model.v1.schema.json";

/// `kmer.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KmerCard {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// `gkm-svm`.
    pub kind: String,
    /// Word length l.
    pub l: usize,
    /// Informative columns k.
    pub k: usize,
    /// Most mismatches d.
    pub d: usize,
    /// Whether reverse complements are counted.
    pub reverse_complement: bool,
    /// The SVM's cost C.
    pub c: f64,
    /// The solver's stopping tolerance.
    pub tolerance: f64,
    /// The one class the decision value stands for (positive above 0).
    pub class: String,
    /// Input length in bases of the training rows.
    pub length: usize,
    /// The bias: decision = Σ coef K − rho.
    pub rho: f64,
    /// Support vectors.
    pub support_vectors: usize,
    /// Training rows, positives among them, SMO iterations.
    pub training: serde_json::Value,
    /// The tool that wrote it and its version.
    pub tool: String,
    /// Its version.
    pub version: String,
}

impl KmerCard {
    /// The JSON Schema of `kmer.json` (schemas/kmer-model.v1.schema.json).
    pub fn json_schema() -> serde_json::Value {
        gkd_io::json_file::schema_with_id::<KmerCard>(KMER_SCHEMA)
    }

    /// The kernel parameters.
    pub fn params(&self) -> GkmParams {
        GkmParams { l: self.l, k: self.k, d: self.d, reverse_complement: self.reverse_complement }
    }
}

/// A loaded gkm-SVM.
#[derive(Debug, Clone)]
pub struct KmerModel {
    /// Its card.
    pub card: KmerCard,
    /// Support vector ids.
    pub ids: Vec<String>,
    /// α·y per support vector.
    pub coef: Vec<f64>,
    /// Support vector sequences.
    pub sequences: Vec<Vec<u8>>,
}

/// The rows of a one-hot DNA split as base strings (N where no channel is set); an error naming
/// the split when it is not DNA.
pub fn split_sequences(data: &Dataset) -> Result<Vec<Vec<u8>>> {
    check_dna(data)?;
    let x = data.read_x(0..data.len())?;
    Ok(x.axis_iter(Axis(0)).map(decode_bases).collect())
}

/// Refuse a split that is not one-hot DNA, naming it.
pub fn check_dna(data: &Dataset) -> Result<()> {
    if data.kind() != DatasetKind::Sequence || data.channels() != 4 {
        return Err(Error::in_file(&data.path, "is not one-hot DNA (4 channels); a gkm-SVM reads sequences"));
    }
    Ok(())
}

/// Whether `dir` holds a gkm-SVM (its `kmer.json`).
pub fn is_kmer_model(dir: &Path) -> bool {
    dir.join(CARD_FILE).is_file()
}

impl KmerModel {
    /// The model of a solution on the training `sequences` (with `ids`).
    pub fn from_solution(card: KmerCard, solution: &SvmSolution, ids: &[String], sequences: &[Vec<u8>]) -> Self {
        KmerModel {
            card,
            ids: solution.support.iter().map(|&i| ids[i].clone()).collect(),
            coef: solution.coef.clone(),
            sequences: solution.support.iter().map(|&i| sequences[i].clone()).collect(),
        }
    }

    /// Stage `kmer.json` and `support.tsv` into `dir` (committed by the caller).
    pub fn stage(&self, dir: &Path) -> Result<Vec<AtomicFile>> {
        let card = gkd_io::json_file::stage(&self.card, &dir.join(CARD_FILE))?;
        let path = dir.join(SUPPORT_FILE);
        let mut support = AtomicFile::create(&path)?;
        {
            let mut w = support.buffered();
            writeln!(w, "id\tcoef\tsequence").with_path(&path)?;
            for ((id, coef), seq) in self.ids.iter().zip(&self.coef).zip(&self.sequences) {
                // `{}` prints the shortest decimal that reads back as the same f64.
                writeln!(w, "{id}\t{coef}\t{}", String::from_utf8_lossy(seq)).with_path(&path)?;
            }
            w.flush().with_path(&path)?;
        }
        Ok(vec![card, support])
    }

    /// Read a model directory.
    pub fn load(dir: &Path) -> Result<Self> {
        let card: KmerCard = gkd_io::json_file::read(&dir.join(CARD_FILE), "a gkd-kmer model card")?;
        card.params().check().map_err(|e| Error::in_file(dir.join(CARD_FILE), e))?;
        if !card.rho.is_finite() {
            return Err(Error::in_file(dir.join(CARD_FILE), format!("rho is {}; expected a finite number", card.rho)));
        }
        let path = dir.join(SUPPORT_FILE);
        let table = TextTable::read(&path, Some(b'\t'))?;
        let (ids, coefs, seqs) = (table.column("id")?, table.column("coef")?, table.column("sequence")?);
        let mut coef = Vec::with_capacity(ids.len());
        for (i, v) in coefs.iter().enumerate() {
            let value = v.as_deref().and_then(|t| t.parse::<f64>().ok()).filter(|v| v.is_finite());
            coef.push(value.ok_or_else(|| {
                Error::at_line(&path, i as u64 + 2, format!("column 'coef': expected a finite number, got {v:?}"))
            })?);
        }
        if coef.len() != card.support_vectors {
            return Err(Error::in_file(
                &path,
                format!("has {} support vectors; {} says {}", coef.len(), CARD_FILE, card.support_vectors),
            ));
        }
        Ok(KmerModel {
            card,
            ids: ids.into_iter().map(Option::unwrap_or_default).collect(),
            coef,
            sequences: seqs.into_iter().map(|s| s.unwrap_or_default().into_bytes()).collect(),
        })
    }

    /// The model's logits (its decision values, N × 1) on every row of a one-hot DNA split.
    pub fn logits(&self, data: &Dataset) -> Result<Array2<f32>> {
        let z = self.decision(&split_sequences(data)?);
        Ok(Array2::from_shape_vec((z.len(), 1), z.iter().map(|&v| v as f32).collect()).expect("N x 1"))
    }

    /// Decision values of `sequences`: Σ coef · K(sv, x) − rho on the normalised kernel.
    pub fn decision(&self, sequences: &[Vec<u8>]) -> Vec<f64> {
        let p = self.card.params();
        let (sv, rows) = (words_of(&self.sequences, &p), words_of(sequences, &p));
        let kernel = crate::kernel::cross_kernel(&rows, &sv, &p);
        let s = sv.len();
        (0..rows.len())
            .map(|r| kernel[r * s..(r + 1) * s].iter().zip(&self.coef).map(|(k, c)| k * c).sum::<f64>() - self.card.rho)
            .collect()
    }
}
