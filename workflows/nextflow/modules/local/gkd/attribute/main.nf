process GKD_ATTRIBUTE {
    tag "${meta.id} ${shard}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(model), path(data, stageAs: 'data/*'), val(shard)

    output:
    tuple val(meta), path("${prefix}.{npz,json,rows.tsv}"), emit: maps
    tuple val("${task.process}"), val('gkd-attribute'), eval('gkd-attribute --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def shard_tag = shard.replace('/', 'of')
    prefix = task.ext.prefix ?: "${meta.id}.${shard_tag}"
    def data_npz = data.find { f -> f.name.endsWith('.npz') }
    """
    gkd-attribute --model ${model} --data ${data_npz} --method ${meta.method} --shard ${shard} --threads ${task.cpus} ${args} -o ${prefix}.npz
    """

    stub:
    def shard_tag = shard.replace('/', 'of')
    prefix = task.ext.prefix ?: "${meta.id}.${shard_tag}"
    """
    touch ${prefix}.npz ${prefix}.json ${prefix}.rows.tsv
    """
}
