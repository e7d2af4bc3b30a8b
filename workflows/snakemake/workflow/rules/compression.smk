# The compression study (config `compression`, docs/compression.md): the task-1 teacher compressed
# by gkd-compress (pruning by magnitude and ADMM, low-rank and MPO dense layers, at each ratio;
# int8), distilled students of smaller sizes, an early-exit teacher at several thresholds, and
# students trained with other optimisers (Path-SGD). Training, predictions, maps and recovery are
# the shared rules of study.smk; here are the compressed models, the early-exit predictions, the
# prediction timings and size scores (gkd-score cost), and the report over seeds.
CMP = config["compression"]
CMP_DIR = f"{OUT}/compression/seed{{seed}}"
CMP_LOG = f"{OUT}/logs/compression/seed{{seed}}"
# A dataset split's files (the sites give the task-1 recovery its class-specific truth).
CMP_DATA_FILES = DATASET_FILES + ["sites.tsv"]


if CMP["reuse"]:

    # A finished distillation study's data and models, copied (not linked: this study's outputs
    # must not change when that study is rerun).
    rule cmp_reuse_data:
        input:
            lambda wc: [f"{CMP['reuse']['dir']}/seed{wc.seed}/data/d.{wc.split}.{ext}" for ext in CMP_DATA_FILES],
        output:
            [f"{CMP_DIR}/data/d.{{split}}.{ext}" for ext in CMP_DATA_FILES],
        localrule: True
        shell:
            "cp {input} $(dirname {output[0]})/"

    rule cmp_reuse_model:
        input:
            lambda wc: f"{CMP['reuse']['dir']}/seed{wc.seed}/models/{cmp_reused()[wc.model]}",
        output:
            directory(f"{CMP_DIR}/models/{{model}}"),
        wildcard_constraints:
            model=one_of(list(cmp_reused())),
        localrule: True
        shell:
            "cp -r {input} {output} && rm -f {output}/.snakemake_timestamp"

    ruleorder: cmp_reuse_model > train


rule cmp_compress:
    input:
        teacher=f"{CMP_DIR}/models/teacher",
        data=expand(f"{CMP_DIR}/data/d.{{split}}.npz", split=["train", "valid"], allow_missing=True),
    output:
        directory(f"{CMP_DIR}/models/cmp-{{name}}"),
    log:
        f"{CMP_LOG}/compress.{{name}}.log",
    params:
        bin=BIN,
        flags=cmp_compress_flags,
        device=DEVICE,
    threads: config["threads"]
    resources:
        mem_mb=6000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-compress {params.flags} --model {input.teacher} --threads {threads} -q -o {output} 2> {log}"


ruleorder: cmp_compress > train


rule cmp_exit_predict:
    input:
        model=f"{CMP_DIR}/models/teacher-exit",
        data=f"{CMP_DIR}/data/d.test.npz",
    output:
        npz=f"{CMP_DIR}/preds/exit-t{{t}}.test.npz",
        tsv=f"{CMP_DIR}/preds/exit-t{{t}}.test.tsv",
        stats=f"{CMP_DIR}/preds/exit-t{{t}}.timing.json",
    log:
        f"{CMP_LOG}/predict.exit-t{{t}}.log",
    params:
        bin=BIN,
    # One thread: the timings of all models are taken alike.
    threads: 1
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-predict --model {input.model} --data {input.data} --exit-threshold {wildcards.t} "
        "-o {output.npz} --tsv {output.tsv} --stats {output.stats} --threads 1 -q 2> {log}"


ruleorder: cmp_exit_predict > predict


rule cmp_timing:
    input:
        model=f"{CMP_DIR}/models/{{model}}",
        data=f"{CMP_DIR}/data/d.test.npz",
    output:
        stats=f"{CMP_DIR}/preds/{{model}}.timing.json",
    wildcard_constraints:
        model="(?!exit-t)[^/.]+",
    log:
        f"{CMP_LOG}/timing.{{model}}.log",
    params:
        bin=BIN,
        scratch=lambda wc: f"{OUT}/compression/seed{wc.seed}/preds/{wc.model}.timing",
    threads: 1
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-predict --model {input.model} --data {input.data} -o {params.scratch}.npz "
        "--stats {output.stats} --threads 1 -q 2> {log} && rm -f {params.scratch}.npz {params.scratch}.tsv"


rule cmp_cost:
    input:
        models=lambda wc: [d for _, d, _ in cmp_cost_models(wc.seed)],
        timings=lambda wc: [t for _, _, t in cmp_cost_models(wc.seed)],
        data=f"{CMP_DIR}/data/d.test.npz",
    output:
        tsv=f"{CMP_DIR}/scores/cost.tsv",
        json=f"{CMP_DIR}/scores/cost.json",
    log:
        f"{CMP_LOG}/score.cost.log",
    params:
        bin=BIN,
        args=lambda wc: " ".join(f"-i {m}={d} --timing {m}={t}" for m, d, t in cmp_cost_models(wc.seed)),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score cost {params.args} --data {input.data} --reference teacher "
        "-o {output.tsv} --json {output.json} 2> {log}"


rule cmp_report:
    input:
        sweep=f"{OUT}/compression/sweep.json",
    output:
        report(f"{OUT}/compression/report.html", caption="../report/study.rst", category="gkd reports"),
    log:
        f"{OUT}/logs/compression/report.log",
    params:
        bin=BIN,
        task=CMP.get("task", "task1").replace("task", "task "),
    threads: 1
    resources:
        mem_mb=1000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-report -o {output} --title 'gkd compression study ({params.task})' --scores {input.sweep} 2> {log}"
