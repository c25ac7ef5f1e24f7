/**
 * The sink's schema, as `@effect/sql` Migrator steps kept in code (no files to ship or find at run time), the
 * same steps for SQLite and Postgres. Only column types differ: JSON is `jsonb` on Postgres and text on
 * SQLite (whose JSON functions read text), instants are `timestamptz` / ISO-8601 text, and large counts
 * `bigint` / `INTEGER` (SQLite's is 64-bit already).
 *
 * Every table is prefixed `batch_`: the sink shares the user's database, which may well have an `events`
 * table of its own.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

/** The Migrator's own table: not its default, which another library in the same database may use. */
export const migrationsTable = "batch_export_migrations"

const types = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({
    pg: () => ({ json: sql.literal("jsonb"), time: sql.literal("timestamptz"), big: sql.literal("bigint") }),
    orElse: () => ({ json: sql.literal("TEXT"), time: sql.literal("TEXT"), big: sql.literal("INTEGER") })
  })

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const { big, json, time } = types(sql)

  // A completed loadPart, written in its transaction: publish checks every part is here.
  yield* sql`CREATE TABLE batch_parts (
    project TEXT NOT NULL,
    export_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    type TEXT NOT NULL,
    records ${big} NOT NULL,
    loaded_at ${time} NOT NULL,
    PRIMARY KEY (project, export_id, part)
  )`
  // A published export, written in the publish transaction: a replayed publish finds it and does nothing.
  yield* sql`CREATE TABLE batch_publications (
    project TEXT NOT NULL,
    export_id TEXT NOT NULL,
    definition TEXT NOT NULL,
    type TEXT NOT NULL,
    records ${big} NOT NULL,
    published_at ${time} NOT NULL,
    PRIMARY KEY (project, export_id)
  )`

  yield* sql`CREATE TABLE batch_profiles_staging (
    project TEXT NOT NULL,
    export_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    line INTEGER NOT NULL,
    profile_key TEXT NOT NULL,
    custom_id TEXT,
    installation_ids ${json} NOT NULL,
    attributes ${json},
    extra ${json},
    PRIMARY KEY (project, export_id, part, line)
  )`
  yield* sql`CREATE TABLE batch_profiles (
    project TEXT NOT NULL,
    definition TEXT NOT NULL,
    profile_key TEXT NOT NULL,
    custom_id TEXT,
    installation_ids ${json} NOT NULL,
    attributes ${json},
    extra ${json},
    export_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    line INTEGER NOT NULL,
    PRIMARY KEY (project, definition, profile_key)
  )`
  yield* sql`CREATE INDEX batch_profiles_custom_id ON batch_profiles (project, custom_id)`
  // The export whose profiles are the published snapshot of (project, definition). Written first in a
  // publish, its row lock also serializes two publishes of one snapshot on Postgres.
  yield* sql`CREATE TABLE batch_snapshots (
    project TEXT NOT NULL,
    definition TEXT NOT NULL,
    export_id TEXT NOT NULL,
    published_at ${time} NOT NULL,
    PRIMARY KEY (project, definition)
  )`

  for (const [table, columns] of [
    ["events", sql`name TEXT, event_time TEXT,`],
    ["reachability", sql`channel TEXT, status TEXT, event_time TEXT,`]
  ] as const) {
    yield* sql`CREATE TABLE ${sql(`batch_${table}_staging`)} (
      project TEXT NOT NULL,
      export_id TEXT NOT NULL,
      part INTEGER NOT NULL,
      line INTEGER NOT NULL,
      custom_id TEXT,
      ${columns}
      record ${json} NOT NULL,
      PRIMARY KEY (project, export_id, part, line)
    )`
    yield* sql`CREATE TABLE ${sql(`batch_${table}`)} (
      project TEXT NOT NULL,
      definition TEXT NOT NULL,
      export_id TEXT NOT NULL,
      part INTEGER NOT NULL,
      line INTEGER NOT NULL,
      custom_id TEXT,
      ${columns}
      record ${json} NOT NULL,
      PRIMARY KEY (project, export_id, part, line)
    )`
    yield* sql`CREATE INDEX ${sql(`batch_${table}_custom_id`)} ON ${sql(`batch_${table}`)} (project, custom_id)`
  }

  yield* sql`CREATE TABLE batch_runs (
    run_id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    definition TEXT NOT NULL,
    type TEXT NOT NULL,
    export_id TEXT,
    window_from ${time},
    window_to ${time},
    parts INTEGER NOT NULL,
    records ${big} NOT NULL,
    bytes ${big} NOT NULL,
    started_at ${time} NOT NULL,
    finished_at ${time},
    outcome TEXT NOT NULL,
    error_tag TEXT,
    error_message TEXT
  )`
  yield* sql`CREATE INDEX batch_runs_started ON batch_runs (started_at)`

  yield* sql`CREATE TABLE batch_cursors (
    project TEXT NOT NULL,
    definition TEXT NOT NULL,
    window_end ${time} NOT NULL,
    export_id TEXT NOT NULL,
    updated_at ${time} NOT NULL,
    PRIMARY KEY (project, definition)
  )`
})

// When the sync workflow's create step first started, written before its POST: a replayed create that finds it
// set knows an earlier attempt may have created the export on Batch, and looks for it before posting again.
const createRequested = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const { time } = types(sql)
  yield* sql`ALTER TABLE batch_runs ADD COLUMN create_requested_at ${time}`
})

/** Add a step as `"<n>_<name>": effect`; never edit a step that has shipped. */
export const loader = Migrator.fromRecord({
  "1_initial": initial,
  "2_create_requested": createRequested
})
