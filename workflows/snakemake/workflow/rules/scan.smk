# Optional genome scan after training (config `scan`): each listed model of each sequence study and
# seed scans a FASTA with gkd-scan in `shards` jobs (scatter), joined by `gkd-scan merge` (gather).
# A shard's tracks and manifest live in its own folder; the merged ones in scan/MODEL/. Which models
# and how: scan_targets() and scan_flags() in common.smk.

rule scan_shard:
    input:
        model=f"{SEED_DIR}/models/{{model}}",
    output:
        directory(f"{SEED_DIR}/scan/shards/{{model}}.{{shard}}"),
    wildcard_constraints:
        study=one_of(SCAN_STUDIES),
        shard=r"\d+",
    log:
        f"{LOG_DIR}/scan.{{model}}.{{shard}}.log",
    params:
        bin=BIN,
        flags=scan_flags(),
        shards=SCAN["shards"],
    threads: config["threads"]
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-scan --model {input.model} {params.flags} --shard {wildcards.shard}/{params.shards} "
        "--threads {threads} -q -o {output}/part 2> {log}"


rule scan_merge:
    input:
        lambda wc: [f"{OUT}/{wc.study}/seed{wc.seed}/scan/shards/{wc.model}.{i}" for i in range(1, SCAN["shards"] + 1)],
    output:
        directory(f"{SEED_DIR}/scan/{{model}}"),
    wildcard_constraints:
        study=one_of(SCAN_STUDIES),
    log:
        f"{LOG_DIR}/scan-merge.{{model}}.log",
    params:
        bin=BIN,
        parts=lambda wc, input: " ".join(f"{p}/part" for p in input),
    threads: 1
    resources:
        mem_mb=1000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-scan merge -q -o {output}/{wildcards.model} {params.parts} 2> {log}"
