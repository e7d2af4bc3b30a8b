process GKD_HISTONE {
    tag "${meta.id}"
    label 'process_low'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(csv)

    output:
    tuple val(meta), path("${prefix}.{npz,json,rows.tsv}"), emit: dataset
    tuple val("${task.process}"), val('gkd-histone'), eval('gkd-histone --version | cut -d" " -f2'), topic: versions

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    gkd-histone --from-deepchrome ${csv} ${args} --threads ${task.cpus} -o ${prefix}.npz
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.npz ${prefix}.json ${prefix}.rows.tsv
    """
}
