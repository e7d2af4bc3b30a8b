# The distillation question on Koo & Eddy task 1: one data set per seed, shared by all of that
# seed's models; a single teacher (teacher1) and an ensemble teacher (teacher1..E, logits averaged);
# a student from scratch and one distilled student per (teacher kind, T, alpha); test AUPR, agreement
# with the teacher, and motif recovery (each map scored against the sites of the class it explains)
# -> per-seed score reports -> gkd-score sweep (mean +/- sd over seeds, paired differences from the
# scratch student with a sign test) -> report with AUPR / recovery against T, one line per alpha.
# Training, predictions, maps, recovery and the sweep are the shared rules of study.smk; here are
# only the data, the predictive scores per teacher kind (agreement with that teacher) and the report.
DIS = config["distillation"]
DIS_DIR = f"{OUT}/distillation/seed{{seed}}"


# The data of the distillation and compression studies (unless the compression study reuses
# another study's data): task 1, or task 3 for a compression study with `task: task3`.
SYNTH_STUDIES = [s for s in TASK1_STUDIES if not (s == "compression" and config["compression"]["reuse"])]


rule study_synth:
    output:
        expand(
            f"{OUT}/{{study}}/seed{{seed}}/data/d.{{split}}.{{ext}}",
            split=SPLITS,
            ext=DATASET_FILES + ["sites.tsv"],
            allow_missing=True,
        ),
    wildcard_constraints:
        study=one_of(SYNTH_STUDIES),
    log:
        f"{OUT}/logs/{{study}}/seed{{seed}}/synth.log",
    params:
        bin=BIN,
        template=lambda wc: f"{OUT}/{wc.study}/seed{wc.seed}/data/d.{{split}}.npz",
        motifs=lambda wc: data_path(config[wc.study]["motifs"]),
        size=lambda wc: synth_size(wc.study),
        length=lambda wc: config[wc.study]["length"],
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-synth {params.size} --motifs {params.motifs} --length {params.length} "
        "--seed {wildcards.seed} -o '{params.template}' 2> {log}"


rule dis_score_predictive:
    input:
        data=f"{DIS_DIR}/data/d.test.npz",
        preds=lambda wc: [
            f"{OUT}/distillation/seed{wc.seed}/preds/{m}.test.npz"
            for m in [wc.kind, "scratch"] + [s for s in dis_students() if dis_setting(s)[0] == wc.kind]
        ],
    output:
        tsv=f"{DIS_DIR}/scores/predictive.{{kind}}.tsv",
        json=f"{DIS_DIR}/scores/predictive.{{kind}}.json",
    wildcard_constraints:
        kind="teacher|ensemble",
    log:
        f"{OUT}/logs/distillation/seed{{seed}}/score.predictive.{{kind}}.log",
    params:
        bin=BIN,
        preds=lambda wc, input: " ".join(f"-i {os.path.basename(p)[: -len('.test.npz')]}={p}" for p in input.preds),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score predictive --data {input.data} {params.preds} --agreement-with {wildcards.kind} "
        "-o {output.tsv} --json {output.json} 2> {log}"


rule dis_report:
    input:
        sweep=f"{OUT}/distillation/sweep.json",
    output:
        report(f"{OUT}/distillation/report.html", caption="../report/study.rst", category="gkd reports"),
    log:
        f"{OUT}/logs/distillation/report.log",
    params:
        bin=BIN,
    threads: 1
    resources:
        mem_mb=1000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-report -o {output} --title 'gkd distillation sweep (task 1)' --scores {input.sweep} 2> {log}"
