process GKD_PREDICT {
    tag "${meta.id}"
    label 'process_medium'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(model), path(data, stageAs: 'data/*')

    output:
    tuple val(meta), path("${prefix}.npz"), path("${prefix}.tsv"), emit: predictions
    tuple val("${task.process}"), val('gkd-predict'), eval('gkd-predict --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def data_npz = data.find { f -> f.name.endsWith('.npz') }
    """
    gkd-predict --model ${model} --data ${data_npz} --threads ${task.cpus} ${args} -o ${prefix}.npz
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.npz ${prefix}.tsv
    """
}
