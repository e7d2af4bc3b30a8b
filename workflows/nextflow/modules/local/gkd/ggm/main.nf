process GKD_GGM {
    tag "${meta.id}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(data)

    output:
    tuple val(meta), path("${prefix}.json"), emit: json
    tuple val(meta), path("${prefix}.npz"), emit: npz
    tuple val(meta), path("${prefix}.{edges,hubs}.tsv"), emit: tables
    tuple val(meta), path("${prefix}.html"), emit: html
    tuple val("${task.process}"), val('gkd-ggm'), eval('gkd-ggm --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.networks"
    // One histone split (its NPZ, manifest and rows table staged together); the conditions come
    // from ext.args (e.g. --by-label expressed), then the networks are drawn by gkd-report.
    def npz = data.find { f -> f.name.endsWith('.npz') }
    """
    gkd-ggm --data ${npz} --threads ${task.cpus} ${args} -o ${prefix}; gkd-report --networks ${prefix}.json --title 'networks ${meta.id}' -o ${prefix}.html
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.networks"
    """
    touch ${prefix}.json ${prefix}.npz ${prefix}.edges.tsv ${prefix}.hubs.tsv ${prefix}.html
    """
}
