/**
 * `Sink.loadPart`: one part's records into its staging table, exactly once (see the `Sink` module header).
 */
import { Records } from "@batch-export/core"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ExportType, LoadError, Loaded, PartKey } from "../Sink.js"
import type { PgCopyService } from "../Database.js"
import type { SinkError } from "../SinkError.js"
import * as Db from "./db.js"
import * as PgCopyInternal from "./pgCopy.js"
import * as Rows from "./rows.js"

const toRow: Record<ExportType, Rows.ToRow> = {
  ATTRIBUTES: Rows.profileRow,
  EVENTS: Rows.eventRow,
  REACHABILITY: Rows.reachabilityRow
}

export const make =
  (sql: SqlClient.SqlClient, batchSize: number, copy: Option.Option<PgCopyService>) =>
  <E, R>(key: PartKey, records: Stream.Stream<unknown, E, R>): Effect.Effect<Loaded, E | LoadError, R> => {
    const { exportId, part, project, type } = key
    const table = Db.stagingTable[type]
    const mapper = toRow[type]

    /** A batch as rows; a record the sink cannot store fails the part where it is. */
    const toRows = (chunk: Iterable<unknown>, firstLine: number): Either.Either<Array<Db.Row>, LoadError> => {
      const rows: Array<Db.Row> = []
      let line = firstLine
      for (const record of chunk) {
        const mapped = mapper(record, project, exportId, part, line)
        if ("error" in mapped) return Either.left(new Records.RecordDecodeError({ part, line, detail: mapped.error }))
        rows.push(mapped.row)
        line++
      }
      return Either.right(rows)
    }

    /** The part's records as batches of rows, counted in `lines.count`. */
    const batches = (lines: { count: number }) =>
      records.pipe(
        Stream.grouped(batchSize),
        Stream.mapEffect((chunk) => {
          const first = lines.count + 1
          lines.count += chunk.length
          return toRows(chunk, first)
        })
      )

    const skipped = Effect.flatMap(
      sql`SELECT records FROM batch_parts WHERE project = ${project} AND export_id = ${exportId} AND part = ${part}`,
      Db.firstCount("loadPart")
    ).pipe(Effect.map((staged) => ({ records: staged, skipped: true })))

    /** Multi-row INSERTs in one `SqlClient` transaction: SQLite, and Postgres without {@link PgCopyService}. */
    const insertAll = Effect.gen(function* () {
      if (Option.isSome(yield* Db.publication(sql, project, exportId))) {
        // published already (a replayed activity): the stream is not run, so nothing is downloaded again
        return yield* skipped
      }
      // what an earlier, interrupted attempt staged for this part is replaced, never added to
      yield* sql`DELETE FROM ${sql(table)} WHERE project = ${project} AND export_id = ${exportId} AND part = ${part}`
      const lines = { count: 0 }
      yield* Stream.runForEach(batches(lines), (rows) =>
        rows.length === 0 ? Effect.void : sql`INSERT INTO ${sql(table)} ${sql.insert(rows)}`
      )
      const loadedAt = yield* Db.now
      yield* sql`INSERT INTO batch_parts ${sql.insert({ project, export_id: exportId, part, type, records: lines.count, loaded_at: loadedAt })}
        ON CONFLICT (project, export_id, part) DO UPDATE
        SET type = excluded.type, records = excluded.records, loaded_at = excluded.loaded_at`
      return { records: lines.count, skipped: false }
    })

    /** The same steps, the rows through COPY, in the transaction of {@link PgCopyService}. */
    const copyAll = (service: PgCopyService) =>
      Effect.gen(function* () {
        if (Option.isSome(yield* Db.typedSqlErrors("loadPart", Db.publication(sql, project, exportId)))) {
          return yield* Db.typedSqlErrors("loadPart", skipped)
        }
        const columns = Rows.stagingColumns[type]
        const lines = { count: 0 }
        const loadedAt = yield* Db.now
        yield* service.copyIn("loadPart", {
          before: [
            {
              text: `DELETE FROM ${table} WHERE project = $1 AND export_id = $2 AND part = $3`,
              params: [project, exportId, part]
            }
          ],
          copy: `COPY ${table} (${columns.join(", ")}) FROM STDIN`,
          data: Stream.map(batches(lines), (rows) => PgCopyInternal.copyText(columns, rows)),
          after: () => [
            {
              text: `INSERT INTO batch_parts (project, export_id, part, type, records, loaded_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (project, export_id, part) DO UPDATE
                SET type = excluded.type, records = excluded.records, loaded_at = excluded.loaded_at`,
              params: [project, exportId, part, type, lines.count, loadedAt]
            }
          ]
        })
        return { records: lines.count, skipped: false }
      })

    const load = Option.match(copy, {
      onNone: () => Db.typedSqlErrors("loadPart", sql.withTransaction(insertAll)),
      onSome: copyAll
    })
    return load.pipe(
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
