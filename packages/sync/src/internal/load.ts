/**
 * `Sink.loadPart`: one part's records into its staging table, exactly once (see the `Sink` module header).
 */
import { Records } from "@batch-export/core"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ExportType, LoadError, Loaded, PartKey } from "../Sink.js"
import type { SinkError } from "../SinkError.js"
import * as Db from "./db.js"
import * as Rows from "./rows.js"

const toRow: Record<ExportType, Rows.ToRow> = {
  ATTRIBUTES: Rows.profileRow,
  EVENTS: Rows.eventRow,
  REACHABILITY: Rows.reachabilityRow
}

export const make =
  (sql: SqlClient.SqlClient, batchSize: number) =>
  <E, R>(key: PartKey, records: Stream.Stream<unknown, E, R>): Effect.Effect<Loaded, E | LoadError, R> => {
    const { exportId, part, project, type } = key
    const table = Db.stagingTable[type]
    const mapper = toRow[type]

    /** One multi-row statement per batch; a record the sink cannot store fails the part where it is. */
    const insert = (chunk: Iterable<unknown>, firstLine: number): Effect.Effect<void, SqlError | LoadError> => {
      const rows: Array<Db.Row> = []
      let line = firstLine
      for (const record of chunk) {
        const mapped = mapper(record, project, exportId, part, line)
        if ("error" in mapped) return Effect.fail(new Records.RecordDecodeError({ part, line, detail: mapped.error }))
        rows.push(mapped.row)
        line++
      }
      return rows.length === 0 ? Effect.void : Effect.asVoid(sql`INSERT INTO ${sql(table)} ${sql.insert(rows)}`)
    }

    const load = Effect.gen(function* () {
      if (Option.isSome(yield* Db.publication(sql, project, exportId))) {
        // published already (a replayed activity): the stream is not run, so nothing is downloaded again
        const staged = yield* Effect.flatMap(
          sql`SELECT records FROM batch_parts WHERE project = ${project} AND export_id = ${exportId} AND part = ${part}`,
          Db.firstCount("loadPart")
        )
        return { records: staged, skipped: true }
      }
      // what an earlier, interrupted attempt staged for this part is replaced, never added to
      yield* sql`DELETE FROM ${sql(table)} WHERE project = ${project} AND export_id = ${exportId} AND part = ${part}`
      let lines = 0
      yield* records.pipe(
        Stream.grouped(batchSize),
        Stream.runForEach((chunk) => {
          const first = lines + 1
          lines += chunk.length
          return insert(chunk, first)
        })
      )
      const loadedAt = yield* Db.now
      yield* sql`INSERT INTO batch_parts ${sql.insert({ project, export_id: exportId, part, type, records: lines, loaded_at: loadedAt })}
        ON CONFLICT (project, export_id, part) DO UPDATE
        SET type = excluded.type, records = excluded.records, loaded_at = excluded.loaded_at`
      return { records: lines, skipped: false }
    })

    return Db.typedSqlErrors("loadPart", sql.withTransaction(load)).pipe(
      Effect.withSpan("Sink.loadPart", {
        attributes: { "batch.project": project, "batch.export_id": exportId, "batch.part": part }
      })
    )
  }

/** The records a completed `loadPart` staged for (project, export, part), if one completed. */
export const loaded =
  (sql: SqlClient.SqlClient) =>
  (key: Omit<PartKey, "type">): Effect.Effect<Option.Option<number>, SinkError> =>
    Db.typedSqlErrors(
      "loadedPart",
      Effect.flatMap(
        sql`SELECT records FROM batch_parts
          WHERE project = ${key.project} AND export_id = ${key.exportId} AND part = ${key.part}`,
        Db.decodeRows("loadedPart", Db.CountRow)
      )
    ).pipe(
      Effect.map((rows) => Option.map(Arr.head(rows), (row) => row.records)),
      Effect.withSpan("Sink.loadedPart")
    )
