/**
 * `Sink.recordRun`, `Sink.finishRun` and `Sink.runs`: the run table, written idempotently by run id.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Arr from "effect/Array"
import * as Option from "effect/Option"
import type { CreateIntent, Run, RunEnd, RunFilter, RunStart } from "../Sink.js"
import { sanitizeDetail, SinkError } from "../SinkError.js"
import * as Db from "./db.js"

const RunRow = Schema.Struct({
  run_id: Schema.String,
  project: Schema.String,
  definition: Schema.String,
  type: Schema.String,
  export_id: Schema.OptionFromNullOr(Schema.String),
  window_from: Schema.OptionFromNullOr(Db.Instant),
  window_to: Schema.OptionFromNullOr(Db.Instant),
  parts: Db.Count,
  records: Db.Count,
  bytes: Db.Count,
  started_at: Db.Instant,
  finished_at: Schema.OptionFromNullOr(Db.Instant),
  outcome: Schema.Literal("running", "success", "failure"),
  error_tag: Schema.OptionFromNullOr(Schema.String),
  error_message: Schema.OptionFromNullOr(Schema.String)
})

const IntentRow = Schema.Struct({
  create_requested_at: Schema.OptionFromNullOr(Db.Instant),
  export_id: Schema.OptionFromNullOr(Schema.String)
})

export const make = (sql: SqlClient.SqlClient) => {
  const beginCreate = (runId: string): Effect.Effect<CreateIntent, SinkError> =>
    Db.typedSqlErrors(
      "beginCreate",
      sql.withTransaction(
        Effect.gen(function* () {
          const rows = yield* Effect.flatMap(
            sql`SELECT create_requested_at, export_id FROM batch_runs WHERE run_id = ${runId}`,
            Db.decodeRows("beginCreate", IntentRow)
          )
          const row = yield* Option.match(Arr.head(rows), {
            // without its run row, a second attempt could not know about the first: refuse rather than post
            onNone: () =>
              Effect.fail(new SinkError({ operation: "beginCreate", detail: `no run ${sanitizeDetail(runId)}` })),
            onSome: Effect.succeed
          })
          if (Option.isNone(row.create_requested_at)) {
            yield* sql`UPDATE batch_runs SET create_requested_at = ${yield* Db.now} WHERE run_id = ${runId}`
          }
          return { requestedAt: row.create_requested_at, exportId: row.export_id }
        })
      )
    ).pipe(Effect.withSpan("Sink.beginCreate"))

  const recordExport = (runId: string, exportId: string): Effect.Effect<void, SinkError> =>
    Db.typedSqlErrors("recordExport", sql`UPDATE batch_runs SET export_id = ${exportId} WHERE run_id = ${runId}`).pipe(
      Effect.asVoid,
      Effect.withSpan("Sink.recordExport")
    )

  const recordRun = (run: RunStart): Effect.Effect<void, SinkError> =>
    Db.typedSqlErrors(
      "recordRun",
      sql`INSERT INTO batch_runs ${sql.insert({
        run_id: run.runId,
        project: run.project,
        definition: run.definition,
        type: run.type,
        export_id: run.exportId ?? null,
        window_from: run.windowFrom === undefined ? null : Db.iso(run.windowFrom),
        window_to: run.windowTo === undefined ? null : Db.iso(run.windowTo),
        parts: 0,
        records: 0,
        bytes: 0,
        started_at: Db.iso(run.startedAt),
        finished_at: null,
        outcome: "running",
        error_tag: null,
        error_message: null
      })} ON CONFLICT (run_id) DO NOTHING`
    ).pipe(Effect.asVoid, Effect.withSpan("Sink.recordRun"))

  const finishRun = (runId: string, end: RunEnd): Effect.Effect<void, SinkError> =>
    Db.typedSqlErrors(
      "finishRun",
      sql`UPDATE batch_runs SET ${sql.update({
        outcome: end.outcome,
        finished_at: Db.iso(end.finishedAt),
        parts: end.parts,
        records: end.records,
        bytes: end.bytes,
        error_tag: end.error?.tag ?? null,
        // error messages reach this table from anywhere: never a URL's credentials or a terminal escape
        error_message: end.error === undefined ? null : sanitizeDetail(end.error.message)
      })}${end.exportId === undefined ? sql`` : sql`, export_id = ${end.exportId}`} WHERE run_id = ${runId}`
    ).pipe(Effect.asVoid, Effect.withSpan("Sink.finishRun"))

  const runs = (filter?: RunFilter): Effect.Effect<ReadonlyArray<Run>, SinkError> =>
    Db.typedSqlErrors(
      "runs",
      Effect.flatMap(
        sql`SELECT * FROM batch_runs
          ${filter?.project === undefined ? sql`` : sql`WHERE project = ${filter.project}`}
          ORDER BY started_at DESC, run_id DESC
          LIMIT ${Math.max(0, Math.floor(filter?.limit ?? 50))}`,
        Db.decodeRows("runs", RunRow)
      )
    ).pipe(
      Effect.map((rows) =>
        rows.map((row): Run => ({
          runId: row.run_id,
          project: row.project,
          definition: row.definition,
          type: row.type,
          exportId: row.export_id,
          windowFrom: row.window_from,
          windowTo: row.window_to,
          parts: row.parts,
          records: row.records,
          bytes: row.bytes,
          startedAt: row.started_at,
          finishedAt: row.finished_at,
          outcome: row.outcome,
          errorTag: row.error_tag,
          errorMessage: row.error_message
        }))
      ),
      Effect.withSpan("Sink.runs")
    )

  return { recordRun, finishRun, runs, beginCreate, recordExport }
}
