process GKD_SCAN {
    tag "${meta.id} ${shard}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(model), path(fasta), val(shard)

    output:
    tuple val(meta), path("${prefix}.*"), emit: tracks
    tuple val("${task.process}"), val('gkd-scan'), eval('gkd-scan --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def shard_tag = shard.replace('/', 'of')
    prefix = task.ext.prefix ?: "${meta.id}.${shard_tag}"
    """
    gkd-scan --model ${model} --fasta ${fasta} --shard ${shard} --threads ${task.cpus} ${args} -o ${prefix}
    """

    stub:
    def shard_tag = shard.replace('/', 'of')
    prefix = task.ext.prefix ?: "${meta.id}.${shard_tag}"
    """
    touch ${prefix}.scan.json
    """
}
