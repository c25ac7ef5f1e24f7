/**
 * Where synced exports land: tables in a SQL database (SQLite or Postgres, one code path over `@effect/sql`'s
 * `SqlClient`), written so that each call can be retried or replayed after a crash without changing the
 * result. Every operation is keyed by what a workflow activity knows (project, export id, part), so the sync
 * workflow can call it from an activity that the engine may run again.
 *
 * How records get in, in two steps:
 * 1. `loadPart` stages one part's records in ONE transaction that first deletes whatever an earlier attempt
 *    staged for that (project, export, part), then inserts the records a batch at a time as the stream
 *    delivers them (memory stays bounded whatever the part's size): multi-row INSERTs on SQLite, a COPY FROM
 *    STDIN on Postgres when the database layer provides `Database.PgCopy` (`Database.layerPg` does). A replay replaces,
 *    never duplicates; a failure in the middle (a record that does not decode, the database going away)
 *    rolls the whole part back. The part is recorded as loaded in the same transaction.
 * 2. A publish moves an export's staged rows to the tables readers use, in one transaction, once every part is
 *    loaded, and records the publication in that transaction; publishing again is a no-op.
 *    - `publishSnapshot` (ATTRIBUTES: a full snapshot) deletes the published profiles of (project, definition)
 *      and inserts the new ones. We chose delete + insert in one transaction over a generation pointer:
 *      readers query `batch_profiles` as a plain table, and the database's transaction isolation (MVCC on
 *      Postgres, WAL on SQLite) already shows them the old snapshot or the new one, never a mix.
 *      `batch_snapshots` names the export each snapshot comes from; it is written first, so that two publishes
 *      of one snapshot at once run one after the other (its row lock, on Postgres) instead of interleaving.
 *    - `publishWindow` (EVENTS / REACHABILITY: a time window) appends the staged rows (keyed by project,
 *      export, part, line, so nothing is appended twice) and moves the cursor of (project, definition) to the
 *      window's end in the same transaction; the cursor never moves back.
 *
 * Tables (all prefixed `batch_`, see the package README for columns): `profiles`, `events`,
 * `reachability`, their `_staging` twins, `parts`, `publications`, `snapshots`, `runs` and `cursors`. The schema is
 * created and upgraded by `@effect/sql`'s `Migrator` when the service is built.
 *
 * @since 0.1.0
 */
import type { Records } from "@batch-export/core"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import * as Database from "./Database.js"
import * as Load from "./internal/load.js"
import * as Migrations from "./internal/migrations.js"
import * as SetupLock from "./internal/setupLock.js"
import * as Publish from "./internal/publish.js"
import * as Runs from "./internal/runs.js"
import { type PartsNotLoaded, SinkError } from "./SinkError.js"

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
 * What `beginCreate` found on the run row before marking it: when an earlier attempt of the run's create step
 * started (none on the first attempt) and the export id recorded for the run, if any.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateIntent {
  readonly requestedAt: Option.Option<Date>
  readonly exportId: Option.Option<string>
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
  /**
   * The records a completed `loadPart` of (project, export, part) staged, if one completed: a caller that
   * finds it need not download the part again (a workflow step the process died in after the load committed).
   */
  readonly loadedPart: (part: Omit<PartKey, "type">) => Effect.Effect<Option.Option<number>, SinkError>
  /** Replaces the snapshot of (project, definition) by the export's profiles, atomically. */
  readonly publishSnapshot: (key: SnapshotKey) => Effect.Effect<Published, PublishError>
  /** Appends the export's rows and moves the cursor to `windowEnd`, in one transaction. */
  readonly publishWindow: (key: WindowKey) => Effect.Effect<Published, PublishError>
  /**
   * Forgets what was staged for an export that will not be published (its run failed or was superseded):
   * its staged rows and its loaded parts, in one transaction. An export already published is left as it is.
   * Returns the number of staged rows removed.
   */
  readonly discard: (project: string, exportId: string) => Effect.Effect<number, SinkError>
  /** The cursor of (project, definition), if a window was ever published. */
  readonly cursor: (project: string, definition: string) => Effect.Effect<Option.Option<Cursor>, SinkError>
  /** Records that a run started; a second call with the same `runId` changes nothing. */
  readonly recordRun: (run: RunStart) => Effect.Effect<void, SinkError>
  /** Records how a run ended (calling it again overwrites with the same values). */
  readonly finishRun: (runId: string, end: RunEnd) => Effect.Effect<void, SinkError>
  /**
   * Marks, in one transaction, that the run's create step is starting, before it posts to Batch, and returns
   * what the run row held before: an earlier attempt's start (then that attempt may have created the export)
   * and the export id already recorded. The first start is kept. Fails when the run was not recorded.
   */
  readonly beginCreate: (runId: string) => Effect.Effect<CreateIntent, SinkError>
  /** Records the export a run created, as soon as Batch answered (before the run ends). */
  readonly recordExport: (runId: string, exportId: string) => Effect.Effect<void, SinkError>
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
    // processes starting at once on a fresh Postgres would race through CREATE TABLE IF NOT EXISTS
    SetupLock.serialized,
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
  // COPY when the database layer offers it (Database.layerPg), and only on Postgres
  const copy = Option.filter(yield* Effect.serviceOption(Database.PgCopy), () =>
    sql.onDialectOrElse({ pg: () => true, orElse: () => false })
  )

  return Sink.of({
    loadPart: Load.make(sql, batchSize, copy),
    loadedPart: Load.loaded(sql),
    ...Publish.make(sql),
    ...Runs.make(sql)
  })
})

/**
 * The sink over the `SqlClient` its caller provides (`Database.layerSqlite`, `Database.layerPg`, or any
 * SQLite / Postgres client of `@effect/sql`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Sink, SinkError, SqlClient.SqlClient> = Layer.effect(Sink, make)
