# Optional motif discovery (config `motifs`): the maps of the listed attribution methods go through
# TF-MoDISco (modisco-lite: `modisco motifs`, then `modisco report` for the HTML), its patterns are
# named against a motif database with Tomtom (memelite, workflows/scripts/gkd_tomtom.py: no MEME
# suite), and gkd-score motifs scores them against the motifs the synthetic data embedded. Which
# maps: motif_maps() in common.smk.
MOTIF_DIR = f"{SEED_DIR}/modisco/{{model}}.{{method}}"
TOMTOM_SCRIPT = os.path.join(ROOT, "workflows", "scripts", "gkd_tomtom.py")


rule modisco_inputs:
    input:
        maps=lambda wc: map_npz(wc.study, wc.seed, wc.model, wc.method),
    output:
        directory(f"{MOTIF_DIR}/inputs"),
    wildcard_constraints:
        study=one_of(WITH_TRUTH),
    log:
        f"{LOG_DIR}/modisco-inputs.{{model}}.{{method}}.log",
    params:
        bin=BIN,
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-attribute --maps {input.maps} --modisco {output} 2> {log}"


rule modisco_motifs:
    input:
        f"{MOTIF_DIR}/inputs",
    output:
        f"{MOTIF_DIR}/modisco.h5",
    wildcard_constraints:
        study=one_of(WITH_TRUTH),
    log:
        f"{LOG_DIR}/modisco-motifs.{{model}}.{{method}}.log",
    params:
        modisco=config["motifs"]["modisco"],
        seqlets=config["motifs"]["max_seqlets"],
        # modisco-lite centres an even window, so an odd length loses its last position.
        window=lambda wc: config[wc.study]["length"] // 2 * 2,
    threads: config["threads"]
    resources:
        mem_mb=8000,
    container:
        config["container"]
    shell:
        "NUMBA_NUM_THREADS={threads} {params.modisco} motifs -s {input}/sequences.npz -a {input}/attributions.npz "
        "-n {params.seqlets} -w {params.window} -o {output} > {log} 2>&1"


rule modisco_report:
    input:
        f"{MOTIF_DIR}/modisco.h5",
    output:
        directory(f"{MOTIF_DIR}/report"),
    wildcard_constraints:
        study=one_of(WITH_TRUTH),
    log:
        f"{LOG_DIR}/modisco-report.{{model}}.{{method}}.log",
    params:
        modisco=config["motifs"]["modisco"],
        python=config["motifs"]["python"],
        script=TOMTOM_SCRIPT,
        database=data_path(config["motifs"]["database"]),
    threads: 1
    resources:
        mem_mb=4000,
    container:
        config["container"]
    shell:
        # `modisco report -l` (Tomtom from memelite, no MEME suite), or a one-line page when there
        # is no pattern (see gkd_tomtom.py --report).
        "{params.python} {params.script} --modisco {input} --database {params.database} --report {output} "
        "--modisco-command {params.modisco} > {log} 2>&1"


rule tomtom:
    input:
        f"{MOTIF_DIR}/modisco.h5",
    output:
        f"{MOTIF_DIR}/patterns.json",
    wildcard_constraints:
        study=one_of(WITH_TRUTH),
    log:
        f"{LOG_DIR}/tomtom.{{model}}.{{method}}.log",
    params:
        python=config["motifs"]["python"],
        script=TOMTOM_SCRIPT,
        database=data_path(config["motifs"]["database"]),
    threads: 1
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.python} {params.script} --modisco {input} --database {params.database} -o {output} 2> {log}"


rule score_motifs:
    input:
        data=lambda wc: split_npz(wc.study, wc.seed, "test"),
        patterns=lambda wc: [
            f"{OUT}/{wc.study}/seed{wc.seed}/modisco/{m}.{method}/patterns.json" for m, method in motif_maps(wc.study)
        ],
        reports=lambda wc: [
            f"{OUT}/{wc.study}/seed{wc.seed}/modisco/{m}.{method}/report" for m, method in motif_maps(wc.study)
        ],
    output:
        tsv=f"{SEED_DIR}/scores/motifs.tsv",
        json=f"{SEED_DIR}/scores/motifs.json",
    wildcard_constraints:
        study=one_of(WITH_TRUTH),
    log:
        f"{LOG_DIR}/score.motifs.log",
    params:
        bin=BIN,
        inputs=lambda wc, input: " ".join(
            f"-i {m}.{method}={p}" for (m, method), p in zip(motif_maps(wc.study), input.patterns)
        ),
        q=config["motifs"]["q"],
    threads: 1
    resources:
        mem_mb=1000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-score motifs --data {input.data} {params.inputs} --q {params.q} "
        "-o {output.tsv} --json {output.json} 2> {log}"
