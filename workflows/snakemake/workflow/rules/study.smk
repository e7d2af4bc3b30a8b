# The rules every study shares: train each model (distilled ones from their teacher's logits on
# the training rows), predict, explain (in shards where a study asks for them), score, report, and
# summarise over seeds. Which models, maps and scores a study has comes from common.smk.
SEED_DIR = f"{OUT}/{{study}}/seed{{seed}}"
LOG_DIR = f"{OUT}/logs/{{study}}/seed{{seed}}"
SHARDED = [s for s in STUDIES if s not in TASK1_STUDIES and sharded(s)]
UNSHARDED = [s for s in STUDIES if s not in SHARDED]
PER_SEED_REPORTS = [s for s in STUDIES if s not in TASK1_STUDIES]
# Studies whose test predictions are scored by the plain rule (distillation adds agreement per
# teacher kind in distillation.smk).
PLAIN_PREDICTIVE = [s for s in STUDIES if s != "distillation"]


wildcard_constraints:
    study=one_of(STUDIES),
    seed=r"\d+",
    model=r"[^/]+",
    split="train|valid|test",
    method="saliency|gradxinput|ig|ism|ism-fast|deeplift|deepshap|gkmexplain|temporal|classopt|attention",


rule train:
    input:
        train=lambda wc: split_npz(wc.study, wc.seed, "train"),
        valid=lambda wc: split_npz(wc.study, wc.seed, "valid"),
        soft=lambda wc: soft_targets(wc.study, wc.model, wc.seed),
    output:
        directory(f"{SEED_DIR}/models/{{model}}"),
    wildcard_constraints:
        # Every model name but the gapped k-mer SVMs' (rule train_gkm).
        model=f"(?!(?:{one_of(ALL_GKM)})$)[^/]+",
    log:
        f"{LOG_DIR}/train.{{model}}.log",
    params:
        bin=BIN,
        flags=lambda wc, input: train_flags(wc.study, wc.model, wc.seed, input.soft),
        device=DEVICE,
    threads: config["threads"]
    resources:
        mem_mb=6000,
        gpu=GPU,
    container:
        config["container"]
    shell:
        # --resume: a job killed on a cluster (time limit, node lost) continues from its last
        # checkpoint in MODEL.partial when rerun, with the same result as a run never stopped.
        "{params.bin}gkd-train {params.flags} --train {input.train} --valid {input.valid} --resume "
        "--device {params.device} --threads {threads} -q -o {output} 2> {log}"


rule train_gkm:
    input:
        train=lambda wc: split_npz(wc.study, wc.seed, "train"),
    output:
        directory(f"{SEED_DIR}/models/{{model}}"),
    wildcard_constraints:
        model=one_of(ALL_GKM),
    log:
        f"{LOG_DIR}/train.{{model}}.log",
    params:
        bin=BIN,
        flags=lambda wc: gkm_flags(wc.study, wc.model),
    threads: config["threads"]
    resources:
        mem_mb=8000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-kmer train --data {input.train} {params.flags} --threads {threads} -q -o {output} 2> {log}"


rule predict:
    input:
        models=lambda wc: prediction_models(wc.study, wc.seed, wc.model),
        data=lambda wc: split_npz(wc.study, wc.seed, wc.split),
    output:
        npz=f"{SEED_DIR}/preds/{{model}}.{{split}}.npz",
        tsv=f"{SEED_DIR}/preds/{{model}}.{{split}}.tsv",
    log:
        f"{LOG_DIR}/predict.{{model}}.{{split}}.log",
    params:
        bin=BIN,
        models=lambda wc, input: " ".join(f"--model {m}" for m in input.models),
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-predict {params.models} --data {input.data} -o {output.npz} --tsv {output.tsv} "
        "--threads {threads} -q 2> {log}"


rule attribute:
    input:
        model=lambda wc: prediction_models(wc.study, wc.seed, wc.model)[0],
        data=lambda wc: split_npz(wc.study, wc.seed, "test"),
    output:
        npz=f"{SEED_DIR}/attr/{{model}}.{{method}}.npz",
        json=f"{SEED_DIR}/attr/{{model}}.{{method}}.json",
        rows=f"{SEED_DIR}/attr/{{model}}.{{method}}.rows.tsv",
    wildcard_constraints:
        study=one_of(UNSHARDED),
    log:
        f"{LOG_DIR}/attribute.{{model}}.{{method}}.log",
    params:
        bin=BIN,
        flags=lambda wc: attribute_flags(wc.study, wc.method, wc.seed),
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attribute --model {input.model} --data {input.data} --method {wildcards.method} "
        "{params.flags} --threads {threads} -q -o {output.npz} 2> {log}"


rule attribute_shard:
    input:
        model=lambda wc: prediction_models(wc.study, wc.seed, wc.model)[0],
        data=lambda wc: split_npz(wc.study, wc.seed, "test"),
    output:
        npz=f"{SEED_DIR}/attr/shards/{{model}}.{{method}}.{{shard}}.npz",
        json=f"{SEED_DIR}/attr/shards/{{model}}.{{method}}.{{shard}}.json",
        rows=f"{SEED_DIR}/attr/shards/{{model}}.{{method}}.{{shard}}.rows.tsv",
    wildcard_constraints:
        study=one_of(SHARDED),
        shard=r"\d+",
    log:
        f"{LOG_DIR}/attribute.{{model}}.{{method}}.{{shard}}.log",
    params:
        bin=BIN,
        flags=lambda wc: attribute_flags(wc.study, wc.method, wc.seed),
        shards=lambda wc: config[wc.study]["attribution"]["shards"],
    threads: config["threads"]
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attribute --model {input.model} --data {input.data} --method {wildcards.method} "
        "{params.flags} --shard {wildcards.shard}/{params.shards} --threads {threads} -q -o {output.npz} 2> {log}"


rule attribute_merge:
    input:
        lambda wc: [
            f"{OUT}/{wc.study}/seed{wc.seed}/attr/shards/{wc.model}.{wc.method}.{i}.npz"
            for i in range(1, config[wc.study]["attribution"]["shards"] + 1)
        ],
    output:
        npz=f"{SEED_DIR}/attr/{{model}}.{{method}}.npz",
        json=f"{SEED_DIR}/attr/{{model}}.{{method}}.json",
        rows=f"{SEED_DIR}/attr/{{model}}.{{method}}.rows.tsv",
    wildcard_constraints:
        study=one_of(SHARDED),
    log:
        f"{LOG_DIR}/merge.{{model}}.{{method}}.log",
    params:
        bin=BIN,
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attribute --merge {input} -o {output.npz} 2> {log}"


rule score_predictive:
    input:
        data=lambda wc: split_npz(wc.study, wc.seed, "test"),
        preds=lambda wc: [f"{OUT}/{wc.study}/seed{wc.seed}/preds/{m}.test.npz" for m in compared_models(wc.study)],
    output:
        tsv=f"{SEED_DIR}/scores/predictive.tsv",
        json=f"{SEED_DIR}/scores/predictive.json",
    wildcard_constraints:
        study=one_of(PLAIN_PREDICTIVE),
    log:
        f"{LOG_DIR}/score.predictive.log",
    params:
        bin=BIN,
        preds=lambda wc, input: " ".join(f"-i {m}={p}" for m, p in zip(compared_models(wc.study), input.preds)),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score predictive --data {input.data} {params.preds} -o {output.tsv} --json {output.json} 2> {log}"


rule score_recovery:
    input:
        data=lambda wc: split_npz(wc.study, wc.seed, "test"),
        sites=lambda wc: split_npz(wc.study, wc.seed, "test")[: -len(".npz")] + ".sites.tsv" if multi_label(wc.study) else [],
        maps=lambda wc: [map_npz(wc.study, wc.seed, m, method) for m, method in recovery_maps(wc.study)],
    output:
        tsv=f"{SEED_DIR}/scores/recovery.tsv",
        json=f"{SEED_DIR}/scores/recovery.json",
    wildcard_constraints:
        study=one_of(WITH_TRUTH),
    log:
        f"{LOG_DIR}/score.recovery.log",
    params:
        bin=BIN,
        maps=lambda wc, input: " ".join(f"-i {os.path.basename(p)[:-4]}={p}" for p in input.maps),
        # Task-1 studies score every selected row's maps against the sites of the class each
        # explains (--first counts maps); task-3 studies their first positive rows.
        flags=lambda wc, input: (
            f"--sites {input.sites} --first 1000000"
            if input.sites
            else f"--first {config[wc.study].get('attribution', {}).get('first', 500)}"
        ),
    threads: 1
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score recovery --data {input.data} {params.maps} {params.flags} "
        "-o {output.tsv} --json {output.json} 2> {log}"


rule score_consistency:
    input:
        maps=lambda wc: [map_npz(wc.study, wc.seed, m, "saliency") for m in compared_models(wc.study)],
        reference=lambda wc: map_npz(wc.study, wc.seed, config[wc.study]["consistency"], "saliency"),
    output:
        tsv=f"{SEED_DIR}/scores/consistency.tsv",
        json=f"{SEED_DIR}/scores/consistency.json",
    wildcard_constraints:
        study=one_of([s for s in PER_SEED_REPORTS if config[s].get("consistency")]),
    log:
        f"{LOG_DIR}/score.consistency.log",
    params:
        bin=BIN,
        maps=lambda wc, input: " ".join(f"-i {m}={p}" for m, p in zip(compared_models(wc.study), input.maps)),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score consistency {params.maps} --reference {input.reference} "
        "-o {output.tsv} --json {output.json} 2> {log}"


rule report:
    input:
        scores=lambda wc: score_reports(wc.study, wc.seed),
        models=lambda wc: [f"{OUT}/{wc.study}/seed{wc.seed}/models/{m}" for m in compared_models(wc.study)],
        maps=lambda wc: [map_npz(wc.study, wc.seed, m, method) for m, method in report_maps(wc.study)],
        # Sequence logos beside the ground truth (the histone truth is scored, not drawn).
        truth=lambda wc: split_npz(wc.study, wc.seed, "test") if wc.study in ("sequence",) + TASK1_STUDIES else [],
        patterns=lambda wc: [
            f"{OUT}/{wc.study}/seed{wc.seed}/modisco/{m}.{method}/patterns.json" for m, method in motif_maps(wc.study)
        ],
    output:
        report(f"{SEED_DIR}/report.html", caption="../report/study.rst", category="gkd reports"),
    wildcard_constraints:
        study=one_of(PER_SEED_REPORTS),
    log:
        f"{LOG_DIR}/report.log",
    params:
        bin=BIN,
        title=lambda wc: f"{config[wc.study]['title']} (seed {wc.seed})",
        scores=lambda wc, input: " ".join(f"--scores {p}" for p in input.scores),
        models=lambda wc, input: " ".join(f"--model {m}={d}" for m, d in zip(compared_models(wc.study), input.models)),
        maps=lambda wc, input: " ".join(f"--attributions {m}.{method}={p}" for (m, method), p in zip(report_maps(wc.study), input.maps)),
        truth=lambda wc, input: f"--truth {input.truth} --show {config[wc.study]['report_show']}" if input.truth else "",
        patterns=lambda wc, input: " ".join(
            f"--patterns {m}.{method}={p}" for (m, method), p in zip(motif_maps(wc.study), input.patterns)
        ),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-report -o {output} --title '{params.title}' {params.scores} {params.models} {params.maps} "
        "{params.truth} {params.patterns} 2> {log}"


rule summary:
    input:
        reports=lambda wc: [path for _, path in summary_reports(wc.study)],
    output:
        tsv=f"{OUT}/{{study}}/sweep.tsv",
        json=f"{OUT}/{{study}}/sweep.json",
    log:
        f"{OUT}/logs/{{study}}/sweep.log",
    params:
        bin=BIN,
        reports=lambda wc: summary_arguments(wc.study),
        reference=lambda wc: config[wc.study]["reference"],
    threads: 1
    resources:
        mem_mb=1000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score sweep {params.reports} --reference {params.reference} -o {output.tsv} --json {output.json} 2> {log}"
