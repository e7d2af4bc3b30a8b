process GKD_REPORT {
    tag "${meta.id}"
    label 'process_single'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), path(scores), path(models), path(maps), path(truth, stageAs: 'truth/*')

    output:
    tuple val(meta), path("${prefix}.html"), emit: html
    tuple val("${task.process}"), val('gkd-report'), eval('gkd-report --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.report"
    def score_args = scores.collect { f -> "--scores ${f}" }.join(' ')
    def model_args = models.collect { d -> "--model ${d.name}=${d}" }.join(' ')
    def map_args = maps.findAll { f -> f.name.endsWith('.npz') }.collect { f -> "--attributions ${f.name.replaceAll(/\.npz$/, '')}=${f}" }.join(' ')
    def truth_npz = truth.find { f -> f.name.endsWith('.npz') }
    def truth_arg = truth_npz ? "--truth ${truth_npz}" : ''
    """
    gkd-report --title 'gkd study ${meta.id}' ${score_args} ${model_args} ${map_args} ${truth_arg} ${args} -o ${prefix}.html
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.report"
    """
    touch ${prefix}.html
    """
}
