// One distillation study on prepared dataset splits: teacher -> soft targets on the training rows
// -> scratch and distilled students -> test predictions -> attribution maps (sharded, then merged)
// -> scores -> report. Every item carries meta.key (one study replicate, e.g. a seed).

include { GKD_TRAIN as TEACHER                 } from '../../modules/local/gkd/train'
include { GKD_TRAIN as STUDENTS                } from '../../modules/local/gkd/train'
include { GKD_PREDICT as SOFT_TARGETS          } from '../../modules/local/gkd/predict'
include { GKD_PREDICT as PREDICT_TEST          } from '../../modules/local/gkd/predict'
include { GKD_ATTRIBUTE as ATTRIBUTE           } from '../../modules/local/gkd/attribute'
include { GKD_ATTRIBUTEMERGE as MERGE          } from '../../modules/local/gkd/attributemerge'
include { GKD_SCORE as SCORE_PREDICTIVE        } from '../../modules/local/gkd/score'
include { GKD_SCORE as SCORE_RECOVERY          } from '../../modules/local/gkd/score'
include { GKD_REPORT as REPORT                 } from '../../modules/local/gkd/report'

workflow DISTILL_STUDY {
    take:
    datasets  // channel: [ meta, train files, valid files, test files ] (NPZ + manifest + rows TSV each)
    settings  // map: teacher, student (arch, activation), temperature, alpha, methods, shards, recovery

    main:
    // The students trained beside the teacher; every per-replicate grouping counts the models.
    def student_models = ['scratch', 'distilled']
    def n_models = 1 + student_models.size()
    by_key = datasets.map { meta, tr, va, te -> [meta.key, meta, tr, va, te] }

    TEACHER(
        datasets.map { meta, tr, va, _te ->
            [meta + [id: "${meta.key}.teacher", model: 'teacher'] + settings.teacher, tr, va, []]
        }
    )

    SOFT_TARGETS(
        TEACHER.out.model
            .map { meta, model -> [meta.key, meta, model] }
            .join(by_key)
            .map { _key, meta, model, _base, tr, _va, _te -> [meta + [id: "${meta.key}.teacher.train"], model, tr] }
    )

    STUDENTS(
        SOFT_TARGETS.out.predictions
            .map { meta, _npz, tsv -> [meta.key, tsv] }
            .join(by_key)
            .flatMap { _key, tsv, meta, tr, va, _te ->
                def student = meta + settings.student + [temperature: settings.temperature, alpha: settings.alpha]
                student_models.collect { name ->
                    [student + [id: "${meta.key}.${name}", model: name], tr, va, name == 'distilled' ? tsv : []]
                }
            }
    )

    models_on_test = TEACHER.out.model
        .mix(STUDENTS.out.model)
        .map { meta, model -> [meta.key, meta, model] }
        .combine(by_key, by: 0)
        .map { _key, meta, model, _base, _tr, _va, te -> [meta, model, te] }
    PREDICT_TEST(models_on_test)

    shards = (1..settings.shards).collect { i -> "${i}/${settings.shards}" }
    ATTRIBUTE(
        models_on_test
            .combine(channel.fromList(settings.methods))
            .combine(channel.fromList(shards))
            .map { meta, model, te, method, shard -> [meta + [id: "${meta.id}.${method}", method: method], model, te, shard] }
    )
    MERGE(
        ATTRIBUTE.out.maps
            .map { meta, files -> [meta.id, meta, files] }
            .groupTuple(size: settings.shards)
            .map { _id, metas, files -> [metas[0], files.flatten()] }
    )

    test_by_key = by_key.map { key, _meta, _tr, _va, te -> [key, te] }
    predictions = PREDICT_TEST.out.predictions
        .map { meta, npz, tsv -> [meta.key, [npz, tsv]] }
        .groupTuple(size: n_models)
        .join(test_by_key)
        .map { key, files, te -> [[id: key, key: key], 'predictive', te, files.flatten()] }
    SCORE_PREDICTIVE(predictions)

    maps_by_key = MERGE.out.maps
        .map { meta, files -> [meta.key, files] }
        .groupTuple(size: n_models * settings.methods.size())
        .map { key, files -> [key, files.flatten()] }
    recovery_in = maps_by_key
        .join(test_by_key)
        .filter { _key, _files, _te -> settings.recovery }
        .map { key, files, te -> [[id: key, key: key], 'recovery', te, files] }
    SCORE_RECOVERY(recovery_in)

    scores = SCORE_PREDICTIVE.out.json
        .mix(SCORE_RECOVERY.out.json)
        .map { meta, json -> [meta.key, json] }
        .groupTuple(size: settings.recovery ? 2 : 1)
    models_by_key = TEACHER.out.model
        .mix(STUDENTS.out.model)
        .map { meta, model -> [meta.key, model] }
        .groupTuple(size: n_models)
    REPORT(
        scores
            .join(models_by_key)
            .join(maps_by_key)
            .join(test_by_key)
            .map { key, json, models, maps, te -> [[id: key, key: key], json, models, maps, settings.recovery ? te : []] }
    )

    emit:
    models      = TEACHER.out.model.mix(STUDENTS.out.model)
    maps        = MERGE.out.maps
    report      = REPORT.out.html
    predictive  = SCORE_PREDICTIVE.out.tsv
    recovery    = SCORE_RECOVERY.out.tsv
}
