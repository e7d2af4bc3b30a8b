//! The JSON Schemas in schemas/ are generated from the Rust types; this test fails when a type
//! changes without its committed schema (GKD_UPDATE_SCHEMAS=1 rewrites the stale ones and fails
//! that run, so that a passing run always compared the types with committed files), and
//! checks that what the tools write validates against the committed schemas (attribution and
//! score files: tests/attribute.rs and tests/python/test_attribution_crosscheck.py).

use gkd::*;
use gkd_gkm::model::KmerCard;
use gkd_io::adversarial::{AttackReport, DetectionReport};
use gkd_io::attributions::AttributionJson;
use gkd_io::manifest::DatasetManifest;
use gkd_io::networks::GgmReport;
use gkd_io::scan_manifest::ScanManifest;
use gkd_io::scores::ScoreReport;
use gkd_io::variant_effects::VariantEffects;
use gkd_nn::store::ModelCard;

fn committed(name: &str) -> serde_json::Value {
    let path = root().join("schemas").join(name);
    if std::env::var_os("GKD_UPDATE_SCHEMAS").is_some() {
        let value = match name {
            "dataset-manifest.v1.schema.json" => DatasetManifest::json_schema(),
            "model.v1.schema.json" => ModelCard::json_schema(),
            "attributions.v1.schema.json" => AttributionJson::json_schema(),
            "scores.v1.schema.json" => ScoreReport::json_schema(),
            "scan.v1.schema.json" => ScanManifest::json_schema(),
            "variant-effects.v1.schema.json" => VariantEffects::json_schema(),
            "kmer-model.v1.schema.json" => KmerCard::json_schema(),
            "attack.v1.schema.json" => AttackReport::json_schema(),
            "attack-detection.v1.schema.json" => DetectionReport::json_schema(),
            "ggm.v1.schema.json" => GgmReport::json_schema(),
            other => panic!("no generator for {other}"),
        };
        // Rewriting a schema cannot pass its own comparison: a changed file fails this run, and
        // the next run without GKD_UPDATE_SCHEMAS compares the types with what was committed.
        let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).unwrap();
            panic!("{} rewritten from the type: review it, then rerun without GKD_UPDATE_SCHEMAS", path.display());
        }
    }
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

#[test]
fn dataset_manifest_schema_matches_the_type() {
    assert_eq!(
        committed("dataset-manifest.v1.schema.json"),
        DatasetManifest::json_schema(),
        "schemas/dataset-manifest.v1.schema.json is stale: rerun with GKD_UPDATE_SCHEMAS=1"
    );
}

#[test]
fn written_manifests_validate() {
    let schema = committed("dataset-manifest.v1.schema.json");
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let dir = tempfile::tempdir().unwrap();
    let m = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(dir.path(), "gkd-synth", &["task1", "--motifs", m.to_str().unwrap(), "--n", "100", "-o", "s.{split}.npz"]);
    let fa = data("seqdata/logomaker_crp_sites.fa");
    run_ok(
        dir.path(),
        "gkd-onehot",
        &["--fasta", fa.to_str().unwrap(), "--header-labels", "--layout", "nlc", "-o", "o.npz"],
    );
    for file in ["s.train.json", "s.test.json", "o.json"] {
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(file)).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
        // And a broken manifest is rejected.
        let mut broken = value.clone();
        broken["layout"] = serde_json::json!("sideways");
        assert!(!validator.is_valid(&broken));
    }
}

#[test]
fn model_card_schema_matches_the_type_and_validates_written_cards() {
    let schema = committed("model.v1.schema.json");
    assert_eq!(
        schema,
        ModelCard::json_schema(),
        "schemas/model.v1.schema.json is stale: rerun with GKD_UPDATE_SCHEMAS=1"
    );
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let dir = tempfile::tempdir().unwrap();
    let m = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(dir.path(), "gkd-synth", &["task1", "--motifs", m.to_str().unwrap(), "--n", "200", "-o", "s.{split}.npz"]);
    let args = ["--arch", "koo-cnn-local", "--train", "s.train.npz", "--valid", "s.valid.npz", "--epochs", "1", "-o"];
    run_ok(dir.path(), "gkd-train", &[&args[..], &["m"]].concat());
    run_ok(dir.path(), "gkd-train", &[&args[..], &["d", "--teacher", "m"]].concat());
    for file in ["m/model.json", "d/model.json"] {
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(file)).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
        let mut broken = value.clone();
        broken["spec"]["arch"] = serde_json::json!("resnet-50");
        assert!(!validator.is_valid(&broken), "{file}: an unknown architecture must not validate");
    }
}

#[test]
fn attribution_and_score_schemas_match_their_types() {
    assert_eq!(
        committed("attributions.v1.schema.json"),
        AttributionJson::json_schema(),
        "schemas/attributions.v1.schema.json is stale: rerun with GKD_UPDATE_SCHEMAS=1"
    );
    assert_eq!(
        committed("scores.v1.schema.json"),
        ScoreReport::json_schema(),
        "schemas/scores.v1.schema.json is stale: rerun with GKD_UPDATE_SCHEMAS=1"
    );
}

#[test]
fn variant_sidecars_match_the_type_and_validate() {
    let schema = committed("variant-effects.v1.schema.json");
    assert_eq!(
        schema,
        VariantEffects::json_schema(),
        "schemas/variant-effects.v1.schema.json is stale: rerun with GKD_UPDATE_SCHEMAS=1"
    );
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    let vcf = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr2L\t5000\t.\tN\tA\t.\t.\t.\n";
    std::fs::write(d.join("v.vcf"), vcf).unwrap();
    let fasta = data("fasta/dm3_chr2L_1-10050.fa");
    let args = ["--model", "m", "--vcf", "v.vcf", "--fasta", fasta.to_str().unwrap(), "--ref-mismatch", "skip"];
    run_ok(d, "gkd-variant", &[&args[..], &["--ism-flank", "2", "-o", "whole"]].concat());
    run_ok(d, "gkd-variant", &[&args[..], &["--shard", "1/1", "-o", "part"]].concat());
    for file in ["whole.json", "part.json"] {
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join(file)).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
        let mut broken = value.clone();
        broken["counts"]["scored"] = serde_json::json!("many");
        assert!(!validator.is_valid(&broken), "{file}: a count that is not a number must not validate");
    }
}

#[test]
fn scan_manifests_match_the_type_and_validate() {
    let schema = committed("scan.v1.schema.json");
    assert_eq!(
        schema,
        ScanManifest::json_schema(),
        "schemas/scan.v1.schema.json is stale: rerun with GKD_UPDATE_SCHEMAS=1"
    );
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(d, "gkd-synth", &["task1", "--motifs", m.to_str().unwrap(), "--n", "100", "-o", "s.{split}.npz"]);
    run_ok(
        d,
        "gkd-train",
        &["--arch", "koo-cnn-local", "--train", "s.train.npz", "--valid", "s.valid.npz", "--epochs", "1", "-o", "m"],
    );
    let fasta = data("fasta/dm3_chr2L_1-10050.fa");
    for (extra, prefix) in [(vec![], "whole"), (vec!["--shard", "1/2"], "p1"), (vec!["--shard", "2/2"], "p2")] {
        let mut args = vec!["--model", "m", "--fasta", fasta.to_str().unwrap(), "--stride", "500", "-o", prefix];
        args.extend(extra);
        run_ok(d, "gkd-scan", &args);
    }
    run_ok(d, "gkd-scan", &["merge", "-o", "merged", "p1", "p2"]);
    for file in ["whole.scan.json", "p2.scan.json", "merged.scan.json"] {
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join(file)).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
        let mut broken = value.clone();
        broken["shard"] = serde_json::json!({"index": "two"});
        assert!(!validator.is_valid(&broken));
    }
}

#[test]
fn kmer_model_cards_match_the_type_and_validate() {
    let schema = committed("kmer-model.v1.schema.json");
    assert_eq!(
        schema,
        KmerCard::json_schema(),
        "schemas/kmer-model.v1.schema.json is stale: rerun with GKD_UPDATE_SCHEMAS=1"
    );
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    run_ok(
        d,
        "gkd-kmer",
        &["train", "--data", "t.train.npz", "--class", "CEBPB", "-l", "8", "-k", "5", "-d", "2", "-o", "svm"],
    );
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("svm/kmer.json")).unwrap()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&card).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(card["class"], "CEBPB");
    let mut broken = card.clone();
    broken["l"] = serde_json::json!("eleven");
    assert!(!validator.is_valid(&broken), "a word length that is not a number must not validate");
}

#[test]
fn attack_schemas_match_their_types() {
    // What gkd-attack writes is validated against them in tests/attack.rs.
    assert_eq!(
        committed("attack.v1.schema.json"),
        AttackReport::json_schema(),
        "schemas/attack.v1.schema.json is stale"
    );
    assert_eq!(
        committed("attack-detection.v1.schema.json"),
        DetectionReport::json_schema(),
        "schemas/attack-detection.v1.schema.json is stale"
    );
}

#[test]
fn ggm_schema_matches_its_type() {
    // What gkd-ggm writes is validated against it in tests/ggm.rs and test_ggm_crosscheck.py.
    assert_eq!(committed("ggm.v1.schema.json"), GgmReport::json_schema(), "schemas/ggm.v1.schema.json is stale");
}
