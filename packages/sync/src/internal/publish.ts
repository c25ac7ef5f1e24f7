/**
 * `Sink.publishSnapshot`, `Sink.publishWindow` and `Sink.cursor`: staged rows to the tables readers use, in
 * one transaction per export (see the `Sink` module header).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { Cursor, ExportType, Published, PublishError, SnapshotKey, WindowKey } from "../Sink.js"
import { PartsNotLoaded, type SinkError } from "../SinkError.js"
import * as Db from "./db.js"

const PartRow = Schema.Struct({ part: Db.Count, type: Schema.String })
const CursorRow = Schema.Struct({ window_end: Db.Instant, export_id: Schema.String, updated_at: Db.Instant })

/** The columns a windowed table has beyond its key, per type: fixed names, never input. */
const windowColumns = {
  EVENTS: ["name", "event_time"],
  REACHABILITY: ["channel", "status", "event_time"]
} as const

export const make = (sql: SqlClient.SqlClient) => {
  /** Parts 1..parts that have no completed load of `type`. */
  const missingParts = (project: string, exportId: string, type: ExportType, parts: number) =>
    Effect.flatMap(
      sql`SELECT part, type FROM batch_parts WHERE project = ${project} AND export_id = ${exportId}`,
      Db.decodeRows("publish", PartRow)
    ).pipe(
      Effect.map((rows) => {
        const loaded = new Set(rows.filter((row) => row.type === type).map((row) => row.part))
        return parts < 1 ? [] : Arr.range(1, parts).filter((part) => !loaded.has(part))
      })
    )

  /**
   * The frame every publish shares, in one transaction: a replay returns the first result; parts not all
   * loaded fail; otherwise `write` moves the rows, the staging rows go, and the publication is recorded.
   */
  const publish = (
    operation: string,
    key: SnapshotKey,
    type: ExportType,
    write: Effect.Effect<number, SqlError | SinkError>
  ): Effect.Effect<Published, PublishError> =>
    Db.typedSqlErrors(
      operation,
      sql.withTransaction(
        Effect.gen(function* () {
          const { definition, exportId, parts, project } = key
          const earlier = yield* Db.publication(sql, project, exportId)
          if (Option.isSome(earlier)) return { records: earlier.value, replayed: true }
          const missing = yield* missingParts(project, exportId, type, parts)
          if (missing.length > 0) return yield* new PartsNotLoaded({ project, exportId, missing })
          const records = yield* write
          yield* sql`DELETE FROM ${sql(Db.stagingTable[type])} WHERE project = ${project} AND export_id = ${exportId}`
          const publishedAt = yield* Db.now
          yield* sql`INSERT INTO batch_publications ${sql.insert({
            project,
            export_id: exportId,
            definition,
            type,
            records,
            published_at: publishedAt
          })}`
          return { records, replayed: false }
        })
      )
    ).pipe(
      Effect.withSpan(`Sink.${operation}`, {
        attributes: { "batch.project": key.project, "batch.export_id": key.exportId }
      })
    )

  const publishSnapshot = (key: SnapshotKey) =>
    publish(
      "publishSnapshot",
      key,
      "ATTRIBUTES",
      Effect.gen(function* () {
        const { definition, exportId, project } = key
        // first, so that a concurrent publish of the same snapshot waits here until this one commits (row
        // lock), then replaces it whole, instead of both deleting and inserting at once
        yield* sql`INSERT INTO batch_snapshots ${sql.insert({
          project,
          definition,
          export_id: exportId,
          published_at: yield* Db.now
        })}
          ON CONFLICT (project, definition) DO UPDATE
          SET export_id = excluded.export_id, published_at = excluded.published_at`
        yield* sql`DELETE FROM batch_profiles WHERE project = ${project} AND definition = ${definition}`
        // a profile listed twice in one export (same key) is kept once: the last occurrence
        yield* sql`INSERT INTO batch_profiles
          (project, definition, profile_key, custom_id, installation_ids, attributes, extra, export_id, part, line)
          SELECT project, CAST(${definition} AS TEXT), profile_key, custom_id, installation_ids, attributes, extra,
            export_id, part, line
          FROM (
            SELECT s.*, ROW_NUMBER() OVER (PARTITION BY profile_key ORDER BY part DESC, line DESC) AS occurrence
            FROM batch_profiles_staging s
            WHERE s.project = ${project} AND s.export_id = ${exportId}
          ) ranked
          WHERE occurrence = 1`
        return yield* Effect.flatMap(
          sql`SELECT COUNT(*) AS records FROM batch_profiles WHERE project = ${project} AND definition = ${definition}`,
          Db.firstCount("publishSnapshot")
        )
      })
    )

  const publishWindow = (key: WindowKey) =>
    publish(
      "publishWindow",
      key,
      key.type,
      Effect.gen(function* () {
        const { definition, exportId, project, type } = key
        const target = type === "EVENTS" ? "batch_events" : "batch_reachability"
        const columns = sql.literal(
          ["export_id", "part", "line", "custom_id", ...windowColumns[type], "record"].join(", ")
        )
        const appended = sql`SELECT COUNT(*) AS records FROM ${sql(target)}
          WHERE project = ${project} AND export_id = ${exportId}`
        const before = yield* Effect.flatMap(appended, Db.firstCount("publishWindow"))
        yield* sql`INSERT INTO ${sql(target)} (project, definition, ${columns})
          SELECT project, CAST(${definition} AS TEXT), ${columns}
          FROM ${sql(Db.stagingTable[type])}
          WHERE project = ${project} AND export_id = ${exportId}
          ON CONFLICT (project, export_id, part, line) DO NOTHING`
        const after = yield* Effect.flatMap(appended, Db.firstCount("publishWindow"))
        const updatedAt = yield* Db.now
        // the cursor moves with the rows, in this transaction, and never back (a replayed older window)
        yield* sql`INSERT INTO batch_cursors ${sql.insert({
          project,
          definition,
          window_end: Db.iso(key.windowEnd),
          export_id: exportId,
          updated_at: updatedAt
        })}
          ON CONFLICT (project, definition) DO UPDATE
          SET window_end = excluded.window_end, export_id = excluded.export_id, updated_at = excluded.updated_at
          WHERE batch_cursors.window_end < excluded.window_end`
        return after - before
      })
    )

  const cursor = (project: string, definition: string): Effect.Effect<Option.Option<Cursor>, SinkError> =>
    Db.typedSqlErrors(
      "cursor",
      Effect.flatMap(
        sql`SELECT window_end, export_id, updated_at FROM batch_cursors
          WHERE project = ${project} AND definition = ${definition}`,
        Db.decodeRows("cursor", CursorRow)
      )
    ).pipe(
      Effect.map((rows) =>
        Option.map(Arr.head(rows), (row) => ({
          windowEnd: row.window_end,
          exportId: row.export_id,
          updatedAt: row.updated_at
        }))
      ),
      Effect.withSpan("Sink.cursor")
    )

  const discard = (project: string, exportId: string): Effect.Effect<number, SinkError> =>
    Db.typedSqlErrors(
      "discard",
      sql.withTransaction(
        Effect.gen(function* () {
          if (Option.isSome(yield* Db.publication(sql, project, exportId))) return 0
          let removed = 0
          for (const table of Object.values(Db.stagingTable)) {
            const where = sql`WHERE project = ${project} AND export_id = ${exportId}`
            removed += yield* Effect.flatMap(
              sql`SELECT COUNT(*) AS records FROM ${sql(table)} ${where}`,
              Db.firstCount("discard")
            )
            yield* sql`DELETE FROM ${sql(table)} ${where}`
          }
          yield* sql`DELETE FROM batch_parts WHERE project = ${project} AND export_id = ${exportId}`
          return removed
        })
      )
    ).pipe(Effect.withSpan("Sink.discard", { attributes: { "batch.project": project, "batch.export_id": exportId } }))

  return { publishSnapshot, publishWindow, cursor, discard }
}
