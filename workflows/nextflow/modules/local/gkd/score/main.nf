process GKD_SCORE {
    tag "${meta.id} ${mode}"
    label 'process_single'
    container 'gkd/gkd:0.1.0'

    input:
    tuple val(meta), val(mode), path(data, stageAs: 'data/*'), path(inputs)

    output:
    tuple val(meta), path("${prefix}.json"), emit: json
    tuple val(meta), path("${prefix}.tsv"), emit: tsv
    tuple val("${task.process}"), val('gkd-score'), eval('gkd-score --version | cut -d" " -f2'), topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${mode}"
    // What the inputs are scored against: the split (NPZ), a variant truth table (variants mode)
    // and the model whose ranking the others are compared with (meta.reference, variants mode).
    def data_npz = data.find { f -> f.name.endsWith('.npz') }
    def truth_tsv = data.find { f -> f.name.endsWith('.truth.tsv') }
    def data_arg = [
        data_npz ? "--data ${data_npz}" : '',
        truth_tsv ? "--truth ${truth_tsv}" : '',
        meta.reference ? "--reference ${meta.reference}" : '',
    ].findAll { a -> a }.join(' ')
    // Every input NPZ (or patterns JSON, for motifs), labelled by its file name without .npz or
    // .patterns.json (an NPZ's companions sit beside it); gkd-variant tables keep their models' names.
    def labelled = inputs.findAll { f -> f.name.endsWith('.npz') || f.name.endsWith('.patterns.json') }.collect { f -> "-i ${f.name.replaceAll(/\.(npz|patterns\.json)$/, '')}=${f}" }
        .plus(inputs.findAll { f -> f.name.endsWith('.effects.tsv') }.collect { f -> "-i ${f}" })
        // gkd-attack sidecars (robustness mode), labelled by their model, with its detections.
        .plus(inputs.findAll { f -> f.name.endsWith('.attack.json') }.collect { f -> "-i ${f.name - ~/\.attack\.json$/}=${f}" })
        .plus(inputs.findAll { f -> f.name =~ /\.detect\.[^.]+\.json$/ }.collect { f -> "--detection ${f.name - ~/\.detect\.[^.]+\.json$/}=${f}" })
        .join(' ')
    """
    gkd-score ${mode} ${data_arg} ${labelled} ${args} -o ${prefix}.tsv --json ${prefix}.json
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${mode}"
    """
    touch ${prefix}.json ${prefix}.tsv
    """
}
