#!/usr/bin/env nextflow
/*
 * gkd: genomic knowledge distillation studies in Nextflow (DSL2, strict syntax).
 *   --study sequence : gkd-synth benchmark with ground truth (the seed study)
 *   --study histone  : DeepChrome CSVs (train/valid/test), or --histone_genes + --histone_marks NAME=FILE,...
 *                      + --histone_expression (TSV or RNA-seq bigWig) -> AttentiveChrome teacher -> DeepChrome students
 *   --study custom   : your FASTA (+ BED windows) with labels
 *   --scan_fasta FA  : then scan FA with the trained sequence models (gkd-scan, sharded) into bigWig tracks
 *   --motif_methods deepshap : then TF-MoDISco + Tomtom on those maps, scored against the embedded motifs
 *   --compress 'prune --ratio 10;quantize' : then compress each teacher (gkd-compress), predict and score it
 *   --variant_models teacher,scratch,distilled : then variant effects of those models (gkd-variant) on
 *                      synthetic motif-breaking/background SNVs (sequence study) and on --variant_vcf +
 *                      --variant_fasta, rankings compared with the first model's (gkd-score variants)
 * Parameters: nextflow_schema.json; profiles: test, docker, singularity, apptainer, gpu, slurm.
 */

include { GKD_SYNTH                  } from './modules/local/gkd/synth'
include { GKD_ONEHOT                 } from './modules/local/gkd/onehot'
include { GKD_HISTONE                } from './modules/local/gkd/histone'
include { DISTILL_STUDY              } from './subworkflows/local/distill_study'
include { GKD_SCAN                   } from './modules/local/gkd/scan'
include { GKD_SCANMERGE              } from './modules/local/gkd/scanmerge'
include { GKD_MODISCO                } from './modules/local/gkd/modisco'
include { GKD_SCORE as SCORE_MOTIFS  } from './modules/local/gkd/score'
include { GKD_COMPRESS               } from './modules/local/gkd/compress'
include { GKD_PREDICT as PREDICT_COMPRESSED } from './modules/local/gkd/predict'
include { GKD_SCORE as SCORE_COMPRESSED     } from './modules/local/gkd/score'
include { GKD_SYNTHVARIANTS                 } from './modules/local/gkd/synthvariants'
include { GKD_VARIANT                       } from './modules/local/gkd/variant'
include { GKD_SCORE as SCORE_VARIANTS       } from './modules/local/gkd/score'
include { GKD_GGM                           } from './modules/local/gkd/ggm'

params.study = 'sequence'
params.outdir = 'results'
params.seeds = '1,2,3'
params.task = 'task3'
params.motifs = "${projectDir}/../../test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar"
params.decoys = "${projectDir}/../../test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme"
params.synth_args = ''
params.fasta = null
params.bed = null
params.deepchrome_dir = "${projectDir}/../../test-data/deepchrome_toy"
params.histone_genes = null
params.histone_marks = ''
params.histone_expression = null
params.teacher_arch = 'koo-cnn-dist'
params.student_arch = 'koo-cnn-local'
params.activation = 'relu'
// The defaults mirror the Snakemake workflow's config/config.yaml (defaults.distill and the
// sequence and histone studies); tests/python/test_nextflow_modules.py checks that they agree.
params.temperature = 15
params.alpha = 0.5
params.epochs = 60
params.patience = 10
params.batch_size = 100
params.recipe = 'source'
params.histone_epochs = 30
params.histone_patience = 10
params.histone_batch_size = 10
params.methods = 'saliency,ig,ism-fast'
params.shards = 4
params.positives = 'positive'
params.first = 500
params.ig_args = '--baseline shuffle --baselines 10 --steps 20'
params.device = 'cpu'
params.scan_fasta = null
params.scan_models = 'teacher,distilled'
params.scan_stride = 10
params.scan_shards = 2
params.scan_args = ''
params.motif_methods = ''
params.motif_database = "${projectDir}/../../test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme"
params.motif_window = 200
params.compress = ''
params.variant_models = ''
params.variant_vcf = null
params.variant_fasta = null
params.compress_epochs = 5
params.custom_teacher_arch = 'koo-cnn-deep'
params.custom_student_arch = 'koo-cnn-shallow'
params.custom_methods = 'saliency,ism-fast'
params.custom_epochs = 40
params.custom_patience = 10
params.ggm = false
params.ggm_args = '--by-label expressed --method jeek --pool-bins 10 --log1p'

workflow {
    main:
    def seeds = params.seeds.toString().tokenize(',').collect { s -> s.trim() as int }
    def methods = params.methods.toString().tokenize(',').collect { m -> m.trim() }
    def settings = [
        teacher    : [arch: params.teacher_arch, activation: params.activation, device: params.device],
        student    : [arch: params.student_arch, activation: params.activation, device: params.device],
        temperature: params.temperature,
        alpha      : params.alpha,
        methods    : methods,
        shards     : params.shards as int,
        recovery   : params.study == 'sequence',
    ]
    def replicates = channel.fromList(seeds).map { seed -> [id: "seed${seed}", key: "seed${seed}", seed: seed, task: params.task] }
    histone_train = channel.empty()

    if (params.study == 'sequence') {
        GKD_SYNTH(replicates, file(params.motifs), params.task == 'task3' ? file(params.decoys) : [])
        datasets = GKD_SYNTH.out.train.join(GKD_SYNTH.out.valid).join(GKD_SYNTH.out.test)
    }
    else if (params.study == 'custom') {
        GKD_ONEHOT(channel.of([[id: 'custom'], file(params.fasta), params.bed ? file(params.bed) : []]))
        splits = GKD_ONEHOT.out.train.join(GKD_ONEHOT.out.valid).join(GKD_ONEHOT.out.test)
        datasets = replicates.combine(splits).map { meta, _data_meta, tr, va, te -> [meta, tr, va, te] }
        settings.teacher = [arch: params.custom_teacher_arch, activation: params.activation, device: params.device]
        settings.student = [arch: params.custom_student_arch, activation: params.activation, device: params.device]
        settings.methods = params.custom_methods.toString().tokenize(',').collect { m -> m.trim() }
    }
    else if (params.histone_genes) {
        // Tracks: genes + marks (bigWig/BAM) + expression (TSV or RNA-seq bigWig), split three ways.
        def marks = params.histone_marks.toString().tokenize(',').collect { item -> item.tokenize('=') }
        GKD_HISTONE(channel.of([
            [id: 'h', mark_names: marks.collect { pair -> pair[0] }],
            [],
            file(params.histone_genes),
            marks.collect { pair -> file(pair[1]) },
            file(params.histone_expression),
        ]))
        by_split = GKD_HISTONE.out.dataset
            .map { _meta, files -> ['train', 'valid', 'test'].collectEntries { split -> [split, files.findAll { f -> f.name.startsWith("h.${split}.") }] } }
        datasets = replicates.combine(by_split).map { meta, split -> [meta, split.train, split.valid, split.test] }
        histone_train = by_split.map { split -> split.train }
        settings.teacher = [arch: 'attentivechrome', activation: 'relu', device: params.device]
        settings.student = [arch: 'deepchrome', activation: 'relu', device: params.device]
        settings.methods = ['saliency']
    }
    else {
        csvs = channel.fromList(['train', 'valid', 'test']).map { split -> [[id: "h.${split}", split: split], file("${params.deepchrome_dir}/${split}.csv"), [], [], []] }
        GKD_HISTONE(csvs)
        by_split = GKD_HISTONE.out.dataset.map { meta, files -> [meta.split, files] }.toList().map { items -> items.collectEntries() }
        datasets = replicates.combine(by_split).map { meta, split -> [meta, split.train, split.valid, split.test] }
        histone_train = by_split.map { split -> split.train }
        settings.teacher = [arch: 'attentivechrome', activation: 'relu', device: params.device]
        settings.student = [arch: 'deepchrome', activation: 'relu', device: params.device]
        settings.methods = ['saliency']
    }
    DISTILL_STUDY(datasets, settings)

    // Optional Gaussian graphical models of the histone training split (--ggm; conditions and
    // estimator from --ggm_args): gkd-ggm, drawn by gkd-report --networks.
    GKD_GGM(histone_train.filter { _files -> params.ggm }.map { files -> [[id: 'h.train'], files] })

    // Optional genome scan of the trained sequence models: shards scattered, then merged.
    def scan_models = params.scan_models.toString().tokenize(',').collect { m -> m.trim() }
    def scan_shards = (1..(params.scan_shards as int)).collect { i -> "${i}/${params.scan_shards}" }
    scan_jobs = DISTILL_STUDY.out.models
        .filter { meta, _model -> params.scan_fasta && params.study != 'histone' && meta.model in scan_models }
        .combine(channel.fromList(scan_shards))
        .map { meta, model, shard -> [meta + [id: "${meta.key}.${meta.model}"], model, file(params.scan_fasta), shard] }
    GKD_SCAN(scan_jobs)
    GKD_SCANMERGE(
        GKD_SCAN.out.tracks
            .map { meta, files -> [meta.id, meta, files] }
            .groupTuple(size: params.scan_shards as int)
            .map { _id, metas, files -> [metas[0], files.flatten()] }
    )

    // Optional motif discovery (sequence study): the listed methods' maps through TF-MoDISco and
    // Tomtom, then gkd-score motifs per replicate against the motifs gkd-synth embedded.
    def motif_methods = params.motif_methods.toString().tokenize(',').collect { m -> m.trim() }
    GKD_MODISCO(
        DISTILL_STUDY.out.maps
            .filter { meta, _files -> params.study == 'sequence' && meta.method in motif_methods }
            .map { meta, files -> [meta + [length: params.motif_window as int], files] },
        file(params.motif_database),
    )
    SCORE_MOTIFS(
        GKD_MODISCO.out.patterns
            .map { meta, json -> [meta.key, json] }
            .groupTuple()
            .join(datasets.map { meta, _tr, _va, te -> [meta.key, te] })
            .map { key, jsons, te -> [[id: key, key: key], 'motifs', te, jsons] }
    )

    // Optional compression of each replicate's teacher: one gkd-compress job per listed method,
    // then test predictions and one predictive score per replicate over its compressed teachers.
    def compressions = params.compress.toString().tokenize(';').collect { c -> c.trim() }.findAll { c -> c }
    compress_jobs = DISTILL_STUDY.out.models
        .filter { meta, _model -> meta.model == 'teacher' }
        .map { meta, model -> [meta.key, meta, model] }
        .join(datasets.map { meta, tr, va, _te -> [meta.key, tr + va] })
        .combine(channel.fromList(compressions))
        .map { _key, meta, model, data, c ->
            def words = c.tokenize(' ')
            def tune = words[0] == 'quantize' ? '' : " --epochs ${params.compress_epochs}"
            def name = c.replaceAll(/--(ratio|method|rank|bond) /, '').replaceAll(/[^A-Za-z0-9.]+/, '-')
            [meta + [id: "${meta.key}.cmp-${name}", method: words[0], method_args: words.drop(1).join(' ') + tune], model, data]
        }
    GKD_COMPRESS(compress_jobs)
    PREDICT_COMPRESSED(
        GKD_COMPRESS.out.model
            .map { meta, model -> [meta.key, meta, model] }
            .combine(datasets.map { meta, _tr, _va, te -> [meta.key, te] }, by: 0)
            .map { _key, meta, model, te -> [meta, model, te] }
    )
    SCORE_COMPRESSED(
        PREDICT_COMPRESSED.out.predictions
            .map { meta, npz, _tsv -> [meta.key, npz] }
            .groupTuple()
            .join(datasets.map { meta, _tr, _va, te -> [meta.key, te] })
            .map { key, npzs, te -> [[id: "${key}.compressed", key: key], 'predictive', te, npzs] }
    )

    // Optional variant effects: the listed models of each replicate (the first is the rankings'
    // reference) on synthetic variants written into its test split (sequence study: motif-breaking
    // against background, scored with their truth) and on a given VCF, then gkd-score variants.
    def variant_models = params.variant_models.toString().tokenize(',').collect { m -> m.trim() }.findAll { m -> m }
    GKD_SYNTHVARIANTS(
        datasets
            .filter { _meta, _tr, _va, _te -> params.study == 'sequence' && variant_models }
            .map { meta, _tr, _va, te -> [meta + [id: "${meta.key}.synthetic"], te] }
    )
    synthetic_sets = GKD_SYNTHVARIANTS.out.variants.map { meta, vcf, fasta, truth -> [meta.key, 'synthetic', vcf, fasta, truth] }
    def real_fasta = params.variant_fasta ? [file(params.variant_fasta)] + ['.fai', '.gzi'].collect { s -> file("${params.variant_fasta}${s}") }.findAll { f -> f.exists() } : []
    real_sets = replicates
        .filter { _meta -> params.variant_vcf && params.study != 'histone' && variant_models }
        .map { meta -> [meta.key, 'vcf', file(params.variant_vcf), real_fasta, []] }
    variant_jobs = DISTILL_STUDY.out.models
        .filter { meta, _model -> meta.model in variant_models }
        .map { meta, model -> [meta.key, variant_models.indexOf(meta.model), model] }
        .groupTuple(size: variant_models.size())
        // Models in the listed order, so that tables and their bytes do not depend on job order.
        .map { key, order, models -> [key, [order, models].transpose().sort { pair -> pair[0] }.collect { pair -> pair[1] }] }
        .combine(synthetic_sets.mix(real_sets), by: 0)
        .map { key, models, set, vcf, fasta, truth ->
            [[id: "${key}.${set}", key: key, set: set, reference: variant_models[0]], models, vcf, fasta, truth]
        }
    GKD_VARIANT(variant_jobs.map { meta, models, vcf, fasta, _truth -> [meta, models, vcf, fasta] })
    SCORE_VARIANTS(
        GKD_VARIANT.out.tsv
            .join(variant_jobs.map { meta, _models, _vcf, _fasta, truth -> [meta, truth] })
            .map { meta, tsv, truth -> [meta, 'variants', truth, tsv] }
    )

    // Every tool's version, as the modules emit them on the `versions` topic: one YAML file.
    versions = channel.topic('versions')
        .unique()
        .map { process, tool, version -> "${process.tokenize(':').last()}:\n  ${tool}: ${version}" }
        .collectFile(name: 'software_versions.yml', sort: true, newLine: true)

    publish:
    reports = DISTILL_STUDY.out.report
    networks = GKD_GGM.out.json.mix(GKD_GGM.out.npz).mix(GKD_GGM.out.tables).mix(GKD_GGM.out.html).map { _meta, files -> files }.flatten()
    scores = DISTILL_STUDY.out.predictive.mix(DISTILL_STUDY.out.recovery).mix(SCORE_MOTIFS.out.tsv).mix(SCORE_COMPRESSED.out.tsv).mix(SCORE_VARIANTS.out.tsv)
    variants = GKD_VARIANT.out.tsv.mix(GKD_VARIANT.out.vcf).map { _meta, file -> file }
    tracks = GKD_SCANMERGE.out.tracks.map { _meta, files -> files }.flatten()
    versions = versions
}

output {
    reports {
        path 'reports'
    }
    scores {
        path 'scores'
    }
    tracks {
        path 'tracks'
    }
    variants {
        path 'variants'
    }
    networks {
        path 'networks'
    }
    versions {
        path 'pipeline_info'
    }
}
