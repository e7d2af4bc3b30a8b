//! An attack run (gkd-attack): rows of a dataset split through every requested attack, a chunk of
//! rows at a time; per row and attack one line of the table, per attack an adversarial split (the
//! attacked rows after their kept substitutions: readable by every tool), and the sidecar with
//! each attack's robustness summary.

use std::io::Write;
use std::path::{Path, PathBuf};

use gkd_explain::run::{RowSelection, select_rows};
use gkd_io::adversarial::{ATTACK_SCHEMA, AttackReport, AttackSettingsRecord, AttackSummary};
use gkd_io::atomic::AtomicFile;
use gkd_io::dataset::{Dataset, SplitData, SplitInputs, stage_split};
use gkd_io::dtype::Dtype;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::manifest::{DatasetKind, Layout, SourceFile};
use gkd_io::progress::Progress;
use gkd_io::sites::ClassSites;
use gkd_io::table::{RowIdentity, read_row_identities};
use gkd_metrics::median;
use gkd_metrics::recovery::motif_positions;
use ndarray::{Array2, Array3, Axis};

use crate::attack::{self, Attack, AttackSettings, Outcome};
use crate::objective::{Attacked, Goal, RowObjective, bases_of, rate_matched_threshold};

/// The columns of the per-row table.
pub const TABLE_HEADER: &str = "row\tid\tattack\tclass\tgoal\tlabel\tstart_score\tfinal_score\tsuccess\tsubstitutions\tscores\tchanges\tin_motif\tin_site";

/// What to attack and how.
pub struct AttackRequest {
    /// The clean split.
    pub data: PathBuf,
    /// Its rows to attack.
    pub rows: RowSelection,
    /// The attacked class (index) and its name.
    pub class: (usize, String),
    /// The goal and its margin.
    pub goal: Goal,
    /// Score change of the down / up goals.
    pub margin: f32,
    /// The flip goal's decision threshold on the score.
    pub threshold: Threshold,
    /// The attacks, in the order run.
    pub attacks: Vec<Attack>,
    /// Budget and the attacks' parameters.
    pub settings: AttackSettings,
    /// IC threshold of a motif position (ground truth).
    pub ic_threshold: f64,
    /// A sites table (gkd-synth NAME.sites.tsv): substitutions inside the attacked class's sites
    /// are counted.
    pub sites: Option<PathBuf>,
    /// Rows attacked together.
    pub chunk: usize,
    /// How the adversarial splits store `x`.
    pub dtype: Dtype,
    /// Compress the adversarial splits' NPZ.
    pub compress: bool,
    /// Output prefix.
    pub prefix: String,
    /// The model directory (for the sidecar).
    pub model_dir: PathBuf,
}

/// Where the flip goal's decision threshold comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold {
    /// A score.
    Value(f32),
    /// The rate-matched threshold of the model's scores on a split
    /// ([`crate::objective::rate_matched_threshold`]).
    RateMatched(PathBuf),
}

/// The rate-matched threshold of the model on a split (e.g. the validation split).
fn calibrate(model: &Attacked<'_, '_>, split: &Path, class: usize) -> Result<f32> {
    let data = Dataset::load(split)?;
    check_data(&data, model.length)?;
    let mut scores = Vec::with_capacity(data.len());
    for start in (0..data.len()).step_by(1024) {
        let x = data.read_x(start..(start + 1024).min(data.len()))?;
        scores.extend(model.scores(&model.logits(x.view())));
    }
    let labels: Vec<f32> = data.y.column(class).to_vec();
    rate_matched_threshold(&scores, &labels).ok_or_else(|| {
        Error::in_file(split, "needs positive and negative rows of the attacked class to set a threshold")
    })
}

/// One attacked row: its clean inputs (and truth), its outcome per attack, and where its
/// positions are motifs or sites.
struct RowResult {
    row: usize,
    label: f32,
    start: f32,
    clean: Array2<f32>,
    truth: Option<Array2<f32>>,
    outcomes: Vec<Outcome>,
    motif: Option<Vec<bool>>,
    site: Option<Vec<bool>>,
    /// The clean row's base at each position (None: not one-hot, never substituted).
    bases: Vec<Option<usize>>,
}

/// Check that the split is one-hot DNA of the model's input length.
pub fn check_data(data: &Dataset, length: usize) -> Result<()> {
    if data.kind() != DatasetKind::Sequence || data.channels() != 4 {
        return Err(Error::in_file(&data.path, "is not one-hot DNA (A, C, G, T); gkd-attack substitutes bases"));
    }
    if data.length() != length {
        return Err(Error::in_file(
            &data.path,
            format!("holds {} bp rows; the model reads {length} bp", data.length()),
        ));
    }
    Ok(())
}

/// Run the attacks and stage every output file.
pub fn run(request: &AttackRequest, model: &Attacked<'_, '_>, progress: &dyn Progress) -> Result<Vec<AtomicFile>> {
    let data = Dataset::load(&request.data)?;
    check_data(&data, model.length)?;
    let selected = select_rows(&request.rows, &data)?;
    let threshold = match &request.threshold {
        Threshold::Value(t) => *t,
        Threshold::RateMatched(split) => calibrate(model, split, request.class.0)?,
    };
    log::info!("decision threshold {threshold}");
    let (class, class_name) = (&request.class.0, &request.class.1);
    let sites = request.sites.as_deref().map(ClassSites::read).transpose()?;
    progress.start("attacking rows", Some(selected.len() as u64));
    let mut results: Vec<RowResult> = Vec::with_capacity(selected.len());
    for chunk in selected.chunks(request.chunk.max(1)) {
        let x = data.gather_x(chunk)?;
        let truth = data.has_truth().then(|| data.gather_truth(chunk)).transpose()?;
        let logits = model.logits(x.view());
        let scores = model.scores(&logits);
        let objectives: Vec<RowObjective> = chunk
            .iter()
            .zip(&scores)
            .map(|(&r, &s)| RowObjective::new(request.goal, request.margin, threshold, s, data.y[[r, *class]]))
            .collect();
        let per_attack: Vec<Vec<Outcome>> = request
            .attacks
            .iter()
            .map(|&a| attack::run(a, model, x.view(), &objectives, &logits, chunk, &request.settings))
            .collect();
        for (i, &r) in chunk.iter().enumerate() {
            let truth = truth.as_ref().map(|t| t.index_axis(Axis(0), i).to_owned());
            let length = data.length();
            results.push(RowResult {
                row: r,
                label: data.y[[r, *class]],
                start: scores[i],
                clean: x.index_axis(Axis(0), i).to_owned(),
                motif: truth
                    .as_ref()
                    .map(|t| motif_positions(&t.iter().copied().collect::<Vec<f32>>(), 4, request.ic_threshold)),
                truth,
                outcomes: per_attack.iter().map(|o| o[i].clone()).collect(),
                site: sites
                    .as_ref()
                    .map(|s| s.mask(&data.ids[r], class_name, length).unwrap_or_else(|| vec![false; length])),
                bases: bases_of(x.index_axis(Axis(0), i)),
            });
        }
        progress.advance(chunk.len() as u64);
    }
    progress.finish();
    stage_outputs(request, &data, model, threshold, &results)
}

/// `a,b,c` of a list, or NA when it is empty.
fn joined<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    let text: Vec<String> = items.into_iter().map(|v| v.to_string()).collect();
    if text.is_empty() { "NA".to_owned() } else { text.join(",") }
}

/// The 0/1 flags of the substituted positions in `mask` (NA without a mask or substitutions).
fn flags(mask: Option<&Vec<bool>>, outcome: &Outcome) -> String {
    match mask {
        Some(m) => joined(outcome.substitutions.iter().map(|&(i, _)| m[i] as u8)),
        None => "NA".to_owned(),
    }
}

fn stage_outputs(
    request: &AttackRequest,
    data: &Dataset,
    model: &Attacked<'_, '_>,
    threshold: f32,
    results: &[RowResult],
) -> Result<Vec<AtomicFile>> {
    const BASES: &[u8] = b"ACGT";
    let prefix = &request.prefix;
    let table_path = PathBuf::from(format!("{prefix}.tsv"));
    let mut files = Vec::new();
    let table = AtomicFile::create(&table_path)?;
    {
        let mut w = table.writer()?;
        writeln!(w, "{TABLE_HEADER}").with_path(&table_path)?;
        for (a, attack) in request.attacks.iter().enumerate() {
            for r in results {
                let o = &r.outcomes[a];
                let final_score = o.scores.last().copied().unwrap_or(r.start);
                let changes = joined(o.substitutions.iter().map(|&(i, b)| {
                    let from = r.bases[i].expect("substituted positions are one-hot");
                    format!("{i}:{}>{}", BASES[from] as char, BASES[b] as char)
                }));
                writeln!(
                    w,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.row,
                    data.ids[r.row],
                    attack.name(),
                    request.class.1,
                    request.goal.name(),
                    r.label,
                    r.start,
                    final_score,
                    o.success.is_some() as u8,
                    o.substitutions.len(),
                    joined(&o.scores),
                    changes,
                    flags(r.motif.as_ref(), o),
                    flags(r.site.as_ref(), o),
                )
                .with_path(&table_path)?;
            }
        }
        w.flush().with_path(&table_path)?;
    }
    files.push(table);

    let identities = read_row_identities(&gkd_io::manifest::rows_path_for(&data.path))?;
    let rows: Vec<usize> = results.iter().map(|r| r.row).collect();
    let stack = |row: &dyn Fn(&RowResult) -> Array2<f32>| -> Array3<f32> {
        let views: Vec<Array2<f32>> = results.iter().map(row).collect();
        ndarray::stack(Axis(0), &views.iter().map(|v| v.view()).collect::<Vec<_>>()).expect("rows of one shape")
    };
    let truth = data.has_truth().then(|| stack(&|r| r.truth.clone().expect("a split with truth")));
    let y = data.y.select(Axis(0), &rows);
    let ids: Vec<RowIdentity> = rows.iter().map(|&r| identities[r].clone()).collect();
    let mut summaries = Vec::new();
    for (a, attack) in request.attacks.iter().enumerate() {
        let x = stack(&|r| r.outcomes[a].apply(r.clean.view()));
        let npz = PathBuf::from(format!("{prefix}.{}.npz", attack.name()));
        let success: Vec<String> =
            results.iter().map(|r| (r.outcomes[a].success.is_some() as u8).to_string()).collect();
        let used: Vec<String> = results.iter().map(|r| r.outcomes[a].substitutions.len().to_string()).collect();
        let extra: Vec<(&str, ndarray::ArrayViewD<'_, f32>)> =
            truth.as_ref().map(|t| ("truth", t.view().into_dyn())).into_iter().collect();
        let split = SplitData {
            kind: DatasetKind::Sequence,
            split: &data.manifest.split,
            layout: Layout::Ncl,
            channels: data.manifest.channels.clone(),
            classes: &data.manifest.classes,
            task: data.manifest.task,
            x: SplitInputs::Array(x.view()),
            dtype: request.dtype,
            y: y.view(),
            extra_arrays: extra,
            rows: &ids,
            row_columns: vec![
                ("attack".to_owned(), vec![attack.name().to_owned(); rows.len()]),
                ("attack_success".to_owned(), success),
                ("substitutions".to_owned(), used),
            ],
            counts: Default::default(),
            sources: vec![SourceFile::new("clean", &data.path), SourceFile::new("model", &request.model_dir)],
            parameters: serde_json::json!({
                "attack": attack.name(), "class": request.class.1, "goal": request.goal.name(),
                "budget": request.settings.budget,
            }),
            tool: "gkd-attack",
            compress: request.compress,
        };
        files.extend(stage_split(&split, &npz)?);
        summaries.push(summarise(*attack, &npz, results, a, request.settings.budget));
    }
    let file_name = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let report = AttackReport {
        schema: ATTACK_SCHEMA.to_owned(),
        model: request.model_dir.display().to_string(),
        data: request.data.display().to_string(),
        class: request.class.1.clone(),
        head: model.head.name().to_owned(),
        settings: AttackSettingsRecord {
            budget: request.settings.budget,
            goal: request.goal.name().to_owned(),
            margin: request.margin,
            threshold: (request.goal == Goal::Flip).then_some(threshold),
            threshold_from: match &request.threshold {
                Threshold::RateMatched(p) => Some(p.display().to_string()),
                Threshold::Value(_) => None,
            },
            pgd_steps: request.settings.pgd_steps,
            pgd_step: request.settings.pgd_step,
            seed: request.settings.seed,
            ic_threshold: request.ic_threshold,
            sites: request.sites.as_ref().map(|p| p.display().to_string()),
        },
        table: file_name(&table_path),
        attacks: summaries,
        tool: "gkd-attack".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    files.push(report.stage(Path::new(&format!("{prefix}.json")))?);
    Ok(files)
}

/// How many of one attack's successful substitutions fall inside `mask`, and the mean share of
/// substitutable positions inside it over the broken rows (what that count's fraction would be by
/// chance); `None` when the rows have no such mask.
fn placed(
    results: &[RowResult],
    a: usize,
    mask: impl Fn(&RowResult) -> Option<&Vec<bool>>,
) -> Option<(u64, Option<f64>)> {
    if results.iter().any(|r| mask(r).is_none()) {
        return None;
    }
    let mut inside = 0u64;
    let mut expected = Vec::new();
    for r in results.iter().filter(|r| r.outcomes[a].success.is_some_and(|k| k > 0)) {
        let m = mask(r).expect("checked above");
        inside += r.outcomes[a].substitutions.iter().filter(|&&(i, _)| m[i]).count() as u64;
        let open = r.bases.iter().filter(|b| b.is_some()).count();
        let open_inside = r.bases.iter().zip(m).filter(|&(b, &m)| b.is_some() && m).count();
        if open > 0 {
            expected.push(open_inside as f64 / open as f64);
        }
    }
    let mean = (!expected.is_empty()).then(|| expected.iter().sum::<f64>() / expected.len() as f64);
    Some((inside, mean))
}

/// One attack's summary over the attacked rows.
fn summarise(attack: Attack, npz: &Path, results: &[RowResult], a: usize, budget: usize) -> AttackSummary {
    let rows = results.len();
    let used: Vec<Option<usize>> = results.iter().map(|r| r.outcomes[a].success).collect();
    let broken_clean = used.iter().filter(|u| **u == Some(0)).count();
    let successes: Vec<f64> = used.iter().filter_map(|u| u.filter(|&k| k > 0).map(|k| k as f64)).collect();
    let robust = (0..=budget)
        .map(|k| used.iter().filter(|u| u.is_none_or(|used| used > k)).count() as f64 / rows as f64)
        .collect();
    let motif = placed(results, a, |r| r.motif.as_ref());
    let site = placed(results, a, |r| r.site.as_ref());
    let substitutions: u64 = results
        .iter()
        .filter(|r| r.outcomes[a].success.is_some_and(|k| k > 0))
        .map(|r| r.outcomes[a].substitutions.len() as u64)
        .sum();
    let fraction = |p: Option<(u64, Option<f64>)>| {
        p.and_then(|(inside, _)| (substitutions > 0).then(|| inside as f64 / substitutions as f64))
    };
    AttackSummary {
        attack: attack.name().to_owned(),
        split: npz.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        rows,
        broken_clean,
        successes: successes.len(),
        success_rate: (rows > broken_clean).then(|| successes.len() as f64 / (rows - broken_clean) as f64),
        median_substitutions: median(successes.iter().copied()),
        robust,
        substitutions,
        in_motif: motif.map(|m| m.0),
        motif_fraction: fraction(motif),
        motif_fraction_expected: motif.and_then(|m| m.1),
        in_site: site.map(|s| s.0),
        site_fraction: fraction(site),
        site_fraction_expected: site.and_then(|s| s.1),
    }
}
