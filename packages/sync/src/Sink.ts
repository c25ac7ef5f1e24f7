/**
 * Where synced exports land: tables in a SQL database (SQLite or Postgres, one code path over `@effect/sql`'s
 * `SqlClient`), written so that each call can be retried or replayed after a crash without changing the
 * result. Every operation is keyed by what a workflow activity knows (project, export id, part), so the sync
 * workflow can call it from an activity that the engine may run again.
 *
 * How records get in, in two steps:
 * 1. `loadPart` stages one part's records in ONE transaction that first deletes whatever an earlier attempt
 *    staged for that (project, export, part), then inserts the records in multi-row statements, a batch at a
 *    time as the stream delivers them (memory stays bounded whatever the part's size). A replay replaces,
 *    never duplicates; a failure in the middle (a record that does not decode, the database going away)
 *    rolls the whole part back. The part is recorded as loaded in the same transaction.
 * 2. A publish moves an export's staged rows to the tables readers use, in one transaction, once every part is
 *    loaded, and records the publication in that transaction; publishing again is a no-op.
 *    - `publishSnapshot` (ATTRIBUTES: a full snapshot) deletes the published profiles of (project, definition)
 *      and inserts the new ones. We chose delete + insert in one transaction over a generation pointer:
 *      readers query `batch_profiles` as a plain table, and the database's transaction isolation (MVCC on
 *      Postgres, WAL on SQLite) already shows them the old snapshot or the new one, never a mix.
 *    - `publishWindow` (EVENTS / REACHABILITY: a time window) appends the staged rows (keyed by project,
 *      export, part, line, so nothing is appended twice) and moves the cursor of (project, definition) to the
 *      window's end in the same transaction; the cursor never moves back.
 *
 * Tables (all prefixed `batch_`, see the package README for columns): `profiles`, `events`,
 * `reachability`, their `_staging` twins, `parts`, `publications`, `runs` and `cursors`. The schema is
 * created and upgraded by `@effect/sql`'s `Migrator` when the service is built.
 *
 * @since 0.1.0
 */
import { Records } from "@batch-export/core"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Migrations from "./internal/migrations.js"
import * as Rows from "./internal/rows.js"
import { PartsNotLoaded, sanitizeDetail, SinkError } from "./SinkError.js"

/**
 * The export types Batch creates.
 *
 * @since 0.1.0
 * @category models
 */
export type ExportType = "ATTRIBUTES" | "EVENTS" | "REACHABILITY"

/**
 * One part of one export. `project` is the caller's name for the Batch project (the sync configuration's),
 * `part` Batch's 1-based part number.
 *
 * @since 0.1.0
 * @category models
 */
export interface PartKey {
  readonly project: string
  readonly exportId: string
  readonly part: number
  readonly type: ExportType
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Loaded {
  /** Records staged for the part. */
  readonly records: number
  /**
   * True when the export was already published: nothing was staged and the stream was not run (so not
   * downloaded); `records` is what the earlier load staged.
   */
  readonly skipped: boolean
}

/**
 * An ATTRIBUTES export to publish as the snapshot of (project, definition). `definition` is the caller's
 * name for the export definition: two definitions of one project (say, two segments) keep separate
 * snapshots. `parts` is the number of parts Batch announced: each must have been loaded.
 *
 * @since 0.1.0
 * @category models
 */
export interface SnapshotKey {
  readonly project: string
  readonly definition: string
  readonly exportId: string
  readonly parts: number
}

/**
 * An EVENTS or REACHABILITY export covering a window that ends at `windowEnd`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WindowKey extends SnapshotKey {
  readonly type: "EVENTS" | "REACHABILITY"
  readonly windowEnd: Date
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Published {
  /** Rows the publication wrote (for a window: rows appended, which excludes rows already there). */
  readonly records: number
  /** True when this export had been published before: nothing was done, `records` is the first count. */
  readonly replayed: boolean
}

/**
 * Where the next windowed export of (project, definition) starts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Cursor {
  readonly windowEnd: Date
  /** The export whose publication moved the cursor here. */
  readonly exportId: string
  readonly updatedAt: Date
}

/**
 * @since 0.1.0
 * @category models
 */
export type Outcome = "running" | "success" | "failure"

/**
 * The start of a run: one execution of the sync of one export definition. `runId` is the caller's (the
 * workflow execution id), so recording the same start twice keeps one row.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunStart {
  readonly runId: string
  readonly project: string
  readonly definition: string
  readonly type: ExportType
  readonly startedAt: Date
  readonly exportId?: string | undefined
  readonly windowFrom?: Date | undefined
  readonly windowTo?: Date | undefined
}

/**
 * The end of a run. `error.message` is sanitized before it is stored (URLs cut to their origin, control
 * characters removed, 500 characters at most).
 *
 * @since 0.1.0
 * @category models
 */
export interface RunEnd {
  readonly outcome: "success" | "failure"
  readonly finishedAt: Date
  readonly exportId?: string | undefined
  readonly parts: number
  readonly records: number
  readonly bytes: number
  readonly error?: { readonly tag: string; readonly message: string } | undefined
}

/**
 * A row of the run table.
 *
 * @since 0.1.0
 * @category models
 */
export interface Run {
  readonly runId: string
  readonly project: string
  readonly definition: string
  readonly type: string
  readonly exportId: Option.Option<string>
  readonly windowFrom: Option.Option<Date>
  readonly windowTo: Option.Option<Date>
  readonly parts: number
  readonly records: number
  readonly bytes: number
  readonly startedAt: Date
  readonly finishedAt: Option.Option<Date>
  readonly outcome: Outcome
  readonly errorTag: Option.Option<string>
  readonly errorMessage: Option.Option<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RunFilter {
  readonly project?: string | undefined
  /** At most this many runs, the latest first (default 50). */
  readonly limit?: number | undefined
}

/**
 * Everything `loadPart` can fail with, besides the stream's own errors: a record that cannot be stored (it
 * names the part and the record's 1-based line: its position in the part, the line of an NDJSON file) and
 * a database error.
 *
 * @since 0.1.0
 * @category errors
 */
export type LoadError = Records.RecordDecodeError | SinkError

/**
 * @since 0.1.0
 * @category errors
 */
export type PublishError = PartsNotLoaded | SinkError

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Stages one part's records exactly once (see the module header). The stream is consumed in batches of
   * {@link batchSize}; it is never collected. A stream that fails fails the load with its error, and
   * nothing of the part stays staged.
   */
  readonly loadPart: <E, R>(
    part: PartKey,
    records: Stream.Stream<unknown, E, R>
  ) => Effect.Effect<Loaded, E | LoadError, R>
  /** Replaces the snapshot of (project, definition) by the export's profiles, atomically. */
  readonly publishSnapshot: (key: SnapshotKey) => Effect.Effect<Published, PublishError>
  /** Appends the export's rows and moves the cursor to `windowEnd`, in one transaction. */
  readonly publishWindow: (key: WindowKey) => Effect.Effect<Published, PublishError>
  /** The cursor of (project, definition), if a window was ever published. */
  readonly cursor: (project: string, definition: string) => Effect.Effect<Option.Option<Cursor>, SinkError>
  /** Records that a run started; a second call with the same `runId` changes nothing. */
  readonly recordRun: (run: RunStart) => Effect.Effect<void, SinkError>
  /** Records how a run ended (calling it again overwrites with the same values). */
  readonly finishRun: (runId: string, end: RunEnd) => Effect.Effect<void, SinkError>
  /** The latest runs, newest first. */
  readonly runs: (filter?: RunFilter) => Effect.Effect<ReadonlyArray<Run>, SinkError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Sink extends Context.Tag("@batch-export/sync/Sink")<Sink, Service>() {}

/**
 * Rows per insert statement: 500 rows of at most 10 columns stay far below SQLite's 32,766 parameters and
 * Postgres' 65,535, and amortize a statement's round trip.
 *
 * @since 0.1.0
 * @category constants
 */
export const batchSize = 500

const STAGING: Record<ExportType, string> = {
  ATTRIBUTES: "batch_profiles_staging",
  EVENTS: "batch_events_staging",
  REACHABILITY: "batch_reachability_staging"
}

const MAPPERS: Record<
  ExportType,
  (record: unknown, project: string, exportId: string, part: number, line: number) => Rows.Mapped
> = {
  ATTRIBUTES: Rows.profileRow,
  EVENTS: Rows.eventRow,
  REACHABILITY: Rows.reachabilityRow
}

// Instants are bound as ISO-8601 text: Postgres casts it into its timestamptz column, SQLite keeps it as is
// (and compares it correctly, all being the same length). Read back, Postgres gives a Date, SQLite the text.
const Instant = Schema.Union(Schema.DateFromSelf, Schema.Date)
// Postgres returns bigint columns as strings
const Count = Schema.Union(Schema.Number, Schema.NumberFromString)

const RunRow = Schema.Struct({
  run_id: Schema.String,
  project: Schema.String,
  definition: Schema.String,
  type: Schema.String,
  export_id: Schema.OptionFromNullOr(Schema.String),
  window_from: Schema.OptionFromNullOr(Instant),
  window_to: Schema.OptionFromNullOr(Instant),
  parts: Count,
  records: Count,
  bytes: Count,
  started_at: Instant,
  finished_at: Schema.OptionFromNullOr(Instant),
  outcome: Schema.Literal("running", "success", "failure"),
  error_tag: Schema.OptionFromNullOr(Schema.String),
  error_message: Schema.OptionFromNullOr(Schema.String)
})

const CursorRow = Schema.Struct({ window_end: Instant, export_id: Schema.String, updated_at: Instant })
const CountRow = Schema.Struct({ records: Count })
const PartRow = Schema.Struct({ part: Count, type: Schema.String })

const iso = (date: Date) => date.toISOString()

const isSqlError = (u: unknown): u is SqlError => u instanceof SqlError

/**
 * `@effect/sql` turns a failed COMMIT or ROLLBACK (a connection lost at that moment, a disk full on commit)
 * into a defect; the sink reports it as the typed `SinkError` it is.
 */
const typedSqlErrors = <A, E, R>(operation: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.catchSomeDefect((defect) => (isSqlError(defect) ? Option.some(Effect.fail(defect)) : Option.none())),
    Effect.catchIf(isSqlError, (error) => Effect.fail(SinkError.fromUnknown(operation)(error)))
  )

/** Rows that do not have the expected shape are the database's fault (or a foreign schema): typed too. */
const decodeRows =
  <A, I>(operation: string, schema: Schema.Schema<A, I>) =>
  (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>, SinkError> =>
    Schema.decodeUnknown(Schema.Array(schema))(rows).pipe(
      Effect.mapError(
        (error) => new SinkError({ operation, detail: sanitizeDetail(`unexpected row: ${error.message}`) })
      )
    )

/**
 * Runs the sink's migrations (idempotent: steps already applied are skipped). `make` runs them too.
 *
 * @since 0.1.0
 * @category constructors
 */
export const migrate: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  SinkError,
  SqlClient.SqlClient
> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    pg: () => Effect.void,
    sqlite: () => Effect.void,
    orElse: () => Effect.fail(new SinkError({ operation: "migrate", detail: "only SQLite and Postgres are supported" }))
  })
  return yield* Migrator.make({})({ loader: Migrations.loader, table: Migrations.migrationsTable }).pipe(
    Effect.mapError(SinkError.fromUnknown("migrate")),
    // a failed step is a defect in the Migrator (orDie): still a typed error here
    Effect.catchAllDefect((defect) => Effect.fail(SinkError.fromUnknown("migrate")(defect))),
    Effect.withSpan("Sink.migrate")
  )
})

/**
 * The sink over the `SqlClient` in context, after running its migrations.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, SinkError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* migrate

  const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis).toISOString())

  const publication = (project: string, exportId: string) =>
    Effect.flatMap(
      sql`SELECT records FROM batch_publications WHERE project = ${project} AND export_id = ${exportId}`,
      decodeRows("publication", CountRow)
    ).pipe(Effect.map((rows) => Option.map(Arr.head(rows), (row) => row.records)))

  /** Parts 1..parts that have no completed load of `type`. */
  const missingParts = (project: string, exportId: string, type: ExportType, parts: number) =>
    Effect.flatMap(
      sql`SELECT part, type FROM batch_parts WHERE project = ${project} AND export_id = ${exportId}`,
      decodeRows("publish", PartRow)
    ).pipe(
      Effect.map((rows) => {
        const loaded = new Set(rows.filter((row) => row.type === type).map((row) => row.part))
        return parts < 1 ? [] : Arr.range(1, parts).filter((part) => !loaded.has(part))
      })
    )

  const insertBatch = (table: string, rows: ReadonlyArray<Record<string, string | number | null>>) =>
    rows.length === 0 ? Effect.void : Effect.asVoid(sql`INSERT INTO ${sql(table)} ${sql.insert(rows)}`)

  const loadPart = <E, R>(
    key: PartKey,
    records: Stream.Stream<unknown, E, R>
  ): Effect.Effect<Loaded, E | LoadError, R> => {
    const { exportId, part, project, type } = key
    const table = STAGING[type]
    const toRow = MAPPERS[type]
    const load = Effect.gen(function* () {
      const earlier = yield* publication(project, exportId)
      if (Option.isSome(earlier)) {
        const staged = yield* Effect.flatMap(
          sql`SELECT records FROM batch_parts WHERE project = ${project} AND export_id = ${exportId} AND part = ${part}`,
          decodeRows("loadPart", CountRow)
        )
        return {
          records: Option.match(Arr.head(staged), { onNone: () => 0, onSome: (row) => row.records }),
          skipped: true
        }
      }
      // what an earlier, interrupted attempt staged for this part is replaced, never added to
      yield* sql`DELETE FROM ${sql(table)} WHERE project = ${project} AND export_id = ${exportId} AND part = ${part}`
      let line = 0
      yield* records.pipe(
        Stream.grouped(batchSize),
        Stream.runForEach((chunk): Effect.Effect<void, SqlError | Records.RecordDecodeError> => {
          const rows: Array<Record<string, string | number | null>> = []
          for (const record of chunk) {
            line++
            const mapped = toRow(record, project, exportId, part, line)
            if ("error" in mapped) {
              return Effect.fail(new Records.RecordDecodeError({ part, line, detail: mapped.error }))
            }
            rows.push(mapped.row)
          }
          return insertBatch(table, rows)
        })
      )
      const loadedAt = yield* now
      yield* sql`INSERT INTO batch_parts ${sql.insert({ project, export_id: exportId, part, type, records: line, loaded_at: loadedAt })}
        ON CONFLICT (project, export_id, part) DO UPDATE
        SET type = excluded.type, records = excluded.records, loaded_at = excluded.loaded_at`
      return { records: line, skipped: false }
    })
    return typedSqlErrors("loadPart", sql.withTransaction(load)).pipe(
      Effect.withSpan("Sink.loadPart", {
        attributes: { "batch.project": project, "batch.export_id": exportId, "batch.part": part }
      })
    )
  }

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
    typedSqlErrors(
      operation,
      sql.withTransaction(
        Effect.gen(function* () {
          const { definition, exportId, parts, project } = key
          const earlier = yield* publication(project, exportId)
          if (Option.isSome(earlier)) return { records: earlier.value, replayed: true }
          const missing = yield* missingParts(project, exportId, type, parts)
          if (missing.length > 0) return yield* new PartsNotLoaded({ project, exportId, missing })
          const records = yield* write
          yield* sql`DELETE FROM ${sql(STAGING[type])} WHERE project = ${project} AND export_id = ${exportId}`
          const publishedAt = yield* now
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

  const countRows = (table: string, project: string, exportId: string) =>
    Effect.flatMap(
      sql`SELECT COUNT(*) AS records FROM ${sql(table)} WHERE project = ${project} AND export_id = ${exportId}`,
      decodeRows("publish", CountRow)
    ).pipe(Effect.map((rows) => Option.match(Arr.head(rows), { onNone: () => 0, onSome: (row) => row.records })))

  const publishSnapshot = (key: SnapshotKey) =>
    publish(
      "publishSnapshot",
      key,
      "ATTRIBUTES",
      Effect.gen(function* () {
        const { definition, exportId, project } = key
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
          decodeRows("publishSnapshot", CountRow)
        ).pipe(Effect.map((rows) => Option.match(Arr.head(rows), { onNone: () => 0, onSome: (row) => row.records })))
      })
    )

  const WINDOW_COLUMNS = {
    EVENTS: ["name", "event_time"],
    REACHABILITY: ["channel", "status", "event_time"]
  } as const

  const publishWindow = (key: WindowKey) =>
    publish(
      "publishWindow",
      key,
      key.type,
      Effect.gen(function* () {
        const { definition, exportId, project, type } = key
        const target = type === "EVENTS" ? "batch_events" : "batch_reachability"
        // fixed names, not input: safe as a literal
        const columns = sql.literal(
          ["export_id", "part", "line", "custom_id", ...WINDOW_COLUMNS[type], "record"].join(", ")
        )
        const before = yield* countRows(target, project, exportId)
        yield* sql`INSERT INTO ${sql(target)} (project, definition, ${columns})
          SELECT project, CAST(${definition} AS TEXT), ${columns}
          FROM ${sql(STAGING[type])}
          WHERE project = ${project} AND export_id = ${exportId}
          ON CONFLICT (project, export_id, part, line) DO NOTHING`
        const after = yield* countRows(target, project, exportId)
        const updatedAt = yield* now
        // the cursor moves with the rows, in this transaction, and never back (a replayed older window)
        yield* sql`INSERT INTO batch_cursors ${sql.insert({
          project,
          definition,
          window_end: iso(key.windowEnd),
          export_id: exportId,
          updated_at: updatedAt
        })}
          ON CONFLICT (project, definition) DO UPDATE
          SET window_end = excluded.window_end, export_id = excluded.export_id, updated_at = excluded.updated_at
          WHERE batch_cursors.window_end < excluded.window_end`
        return after - before
      })
    )

  const cursor = (project: string, definition: string) =>
    typedSqlErrors(
      "cursor",
      Effect.flatMap(
        sql`SELECT window_end, export_id, updated_at FROM batch_cursors
          WHERE project = ${project} AND definition = ${definition}`,
        decodeRows("cursor", CursorRow)
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

  const recordRun = (run: RunStart) =>
    typedSqlErrors(
      "recordRun",
      sql`INSERT INTO batch_runs ${sql.insert({
        run_id: run.runId,
        project: run.project,
        definition: run.definition,
        type: run.type,
        export_id: run.exportId ?? null,
        window_from: run.windowFrom === undefined ? null : iso(run.windowFrom),
        window_to: run.windowTo === undefined ? null : iso(run.windowTo),
        parts: 0,
        records: 0,
        bytes: 0,
        started_at: iso(run.startedAt),
        finished_at: null,
        outcome: "running",
        error_tag: null,
        error_message: null
      })} ON CONFLICT (run_id) DO NOTHING`
    ).pipe(Effect.asVoid, Effect.withSpan("Sink.recordRun"))

  const finishRun = (runId: string, end: RunEnd) =>
    typedSqlErrors(
      "finishRun",
      sql`UPDATE batch_runs SET ${sql.update({
        outcome: end.outcome,
        finished_at: iso(end.finishedAt),
        parts: end.parts,
        records: end.records,
        bytes: end.bytes,
        error_tag: end.error?.tag ?? null,
        error_message: end.error === undefined ? null : sanitizeDetail(end.error.message)
      })}${end.exportId === undefined ? sql`` : sql`, export_id = ${end.exportId}`} WHERE run_id = ${runId}`
    ).pipe(Effect.asVoid, Effect.withSpan("Sink.finishRun"))

  const runs = (filter?: RunFilter) =>
    typedSqlErrors(
      "runs",
      Effect.flatMap(
        sql`SELECT * FROM batch_runs
          ${filter?.project === undefined ? sql`` : sql`WHERE project = ${filter.project}`}
          ORDER BY started_at DESC, run_id DESC
          LIMIT ${Math.max(0, Math.floor(filter?.limit ?? 50))}`,
        decodeRows("runs", RunRow)
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

  return Sink.of({ loadPart, publishSnapshot, publishWindow, cursor, recordRun, finishRun, runs })
})

/**
 * The sink over the `SqlClient` its caller provides (`Database.layerSqlite`, `Database.layerPg`, or any
 * SQLite / Postgres client of `@effect/sql`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Sink, SinkError, SqlClient.SqlClient> = Layer.effect(Sink, make)
