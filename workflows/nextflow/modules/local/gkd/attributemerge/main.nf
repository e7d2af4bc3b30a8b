process GKD_ATTRIBUTEMERGE {
    tag "${meta.id}"
    label 'process_single'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(shards)

    output:
    tuple val(meta), path("${prefix}.{npz,json,rows.tsv}"), emit: maps
    tuple val("${task.process}"), val('gkd-attribute'), eval('gkd-attribute --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    // Shards are named PREFIX.IofN.npz: order them by I.
    def ordered = shards.findAll { f -> f.name.endsWith('.npz') }.sort { f -> (f.name =~ /\.(\d+)of\d+\.npz$/)[0][1] as int }
    def shard_list = ordered.join(' ')
    """
    gkd-attribute --merge ${shard_list} ${args} -o ${prefix}.npz
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.npz ${prefix}.json ${prefix}.rows.tsv
    """
}
