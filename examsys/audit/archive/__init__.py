"""Batch archives (批次档案): everything the rules expect to be kept of one closed batch, as one
signed zip file built from the process record and verifiable offline.

Layout of the zip:

    volumes/01-备案材料.pdf                 the filing pack (reports.delivery)
    volumes/02-签到表[-partNN].pdf           candidates with photo, masked ID, ticket, room, seat, sign-in
    volumes/03-试卷交接与回收记录[-partNN].pdf  when each attempt started and was collected
    volumes/04-考场记录与异常情况.pdf         incidents; then one 04-…-NN-<room>.pdf per room record
    volumes/05-督导记录.pdf                 the supervisor and the supervision-related events
    volumes/06-试卷-<X>卷.pdf, 06-答案-<X>卷.pdf   each form and its answer key (reports.papers)
    volumes/07-评价结果汇总表.pdf             the score list (reports.results)
    volumes/08-复核记录与成绩复查.pdf          复核, corrections, candidates' score review applications
    volumes/09-满意度调查汇总.pdf             the survey
    volumes/10-过程记录校验.pdf              the verification, every chain's size and head, the Merkle root
    volumes/11-考生答卷[-partNN].pdf          every candidate's answers and scores, many per document
    data/events.jsonl, data/answer_history.csv        the record itself (see `datafiles`)
    data/candidates.csv, results.csv, incidents.csv, score_reviews.csv, survey.csv, batch.json
    pubkey.txt                               the organisation's verifier key (convenience only)
    manifest.json                            every file's SHA-256 and size, the batch, the organisation,
                                             retention (`retain_until`), chain heads, Merkle root
    manifest.sig                             manifest.json signed by the organisation (see `notes`)

Modules: `volumes` (what each volume holds, read from the database), `build` (writing the zip,
the service `build_archive`), `jobs` (the archive as a job of examsys.jobs: the batch page asks
for it, the worker builds it), `datafiles` and `notes` (the formats the
build writes and the check reads), `verify` (the offline check), `cli` (`examsys archive`)."""
