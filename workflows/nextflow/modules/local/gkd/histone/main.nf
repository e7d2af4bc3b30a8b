process GKD_HISTONE {
    tag "${meta.id}"
    label 'process_low'
    container 'gkd/gkd:0.1.0'

    input:
    // Either a DeepChrome CSV (one split), or genes + mark tracks (bigWig/BAM, named by
    // meta.mark_names in order) + expression (TSV, or an RNA-seq bigWig) split three ways.
    tuple val(meta), path(csv), path(genes), path(marks, stageAs: 'marks/*'), path(expression)

    output:
    tuple val(meta), path("${prefix}*.{npz,json,rows.tsv}"), emit: dataset
    tuple val("${task.process}"), val('gkd-histone'), eval('gkd-histone --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def mark_args = [meta.mark_names ?: [], marks instanceof List ? marks : [marks]].transpose().collect { pair -> "--mark ${pair[0]}=${pair[1]}" }.join(' ')
    def expression_arg = !expression ? '' : (expression.name.endsWith('.tsv') ? "--expression ${expression}" : "--expression-bigwig ${expression}")
    def source = csv ? "--from-deepchrome ${csv}" : "--genes ${genes} ${mark_args} ${expression_arg} --split train=0.7,valid=0.1,test=0.2"
    def output = csv ? "${prefix}.npz" : "${prefix}.{split}.npz"
    """
    gkd-histone ${source} ${args} --threads ${task.cpus} -o '${output}'
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.npz ${prefix}.json ${prefix}.rows.tsv
    """
}
