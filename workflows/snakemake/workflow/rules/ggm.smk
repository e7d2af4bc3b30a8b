# Optional Gaussian graphical models of the histone study's data (config `histone.ggm`): the
# training split's genes split by their expression label into two conditions, networks of the
# marks × pooled bins for each (gkd-ggm; JEEK by default: what both share and what is specific),
# λ by stability selection, drawn by gkd-report --networks.


rule histone_ggm:
    input:
        data=lambda wc: split_npz("histone", config["histone"]["seeds"][0], "train"),
    output:
        json=f"{GGM_DIR}/networks.json",
        npz=f"{GGM_DIR}/networks.npz",
        edges=f"{GGM_DIR}/networks.edges.tsv",
        hubs=f"{GGM_DIR}/networks.hubs.tsv",
    log:
        f"{OUT}/logs/histone/ggm.log",
    params:
        bin=BIN,
        prefix=lambda wc, output: output.json[: -len(".json")],
        flags=lambda wc: " ".join(
            [
                f"--by-label {GGM['class']} --method {GGM['method']} --pool-bins {GGM['pool_bins']}",
                "--log1p" if GGM["log1p"] else "",
                f"--subsamples {GGM['subsamples']} --seed {GGM['seed']}",
            ]
        ),
    threads: config["threads"]
    resources:
        mem_mb=2000,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-ggm --data {input.data} {params.flags} --threads {threads} -q -o {params.prefix} 2> {log}"


rule histone_ggm_report:
    input:
        json=rules.histone_ggm.output.json,
        edges=rules.histone_ggm.output.edges,
        hubs=rules.histone_ggm.output.hubs,
    output:
        f"{GGM_DIR}/report.html",
    log:
        f"{OUT}/logs/histone/ggm.report.log",
    params:
        bin=BIN,
    container:
        config["container"]
    shell:
        "{params.bin}gkd-report --networks {input.json} --title 'histone networks' -o {output} 2> {log}"
