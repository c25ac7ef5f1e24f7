/**
 * What the sink's statements share: how values cross into SQL and back the same way on both databases, how
 * driver failures become typed, and the few queries several operations ask.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { ExportType } from "../Sink.js"
import { sanitizeDetail, SinkError } from "../SinkError.js"

// Instants are bound as ISO-8601 text: Postgres casts it into its timestamptz column, SQLite keeps it as is
// (and compares it correctly, all being the same length). Read back, Postgres gives a Date, SQLite the text.
export const Instant = Schema.Union(Schema.DateFromSelf, Schema.Date)
// Postgres returns bigint columns (and COUNT) as strings
export const Count = Schema.Union(Schema.Number, Schema.NumberFromString)
export const CountRow = Schema.Struct({ records: Count })

export const iso = (date: Date): string => date.toISOString()

/** The current time (the Clock's, so tests may drive it) as ISO-8601 text. */
export const now: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (millis) => iso(new Date(millis)))

/** A row, as the sink binds it: text, numbers and NULL only (JSON goes in as text), the same on both databases. */
export type Row = Record<string, string | number | null>

export const stagingTable: Record<ExportType, string> = {
  ATTRIBUTES: "batch_profiles_staging",
  EVENTS: "batch_events_staging",
  REACHABILITY: "batch_reachability_staging"
}

const isSqlError = (u: unknown): u is SqlError => u instanceof SqlError

/**
 * The driver's failures as `SinkError`s naming `operation`. `@effect/sql` turns a failed COMMIT or ROLLBACK
 * (a connection lost at that moment, a constraint checked at commit, a disk full) into a defect: it is the
 * same database error, typed here too.
 */
export const typedSqlErrors = <A, E, R>(
  operation: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, SqlError> | SinkError, R> =>
  effect.pipe(
    Effect.catchSomeDefect((defect) => (isSqlError(defect) ? Option.some(Effect.fail(defect)) : Option.none())),
    Effect.catchIf(isSqlError, (error) => Effect.fail(SinkError.fromUnknown(operation)(error)))
  )

/** Rows that do not have the expected shape are the database's fault (or a foreign schema): typed too. */
export const decodeRows =
  <A, I>(operation: string, schema: Schema.Schema<A, I>) =>
  (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>, SinkError> =>
    Schema.decodeUnknown(Schema.Array(schema))(rows).pipe(
      Effect.mapError(
        (error) => new SinkError({ operation, detail: sanitizeDetail(`unexpected row: ${error.message}`) })
      )
    )

/** The `records` column of the first row (a COUNT, a stored count), 0 when there is none. */
export const firstCount = (operation: string) => (rows: ReadonlyArray<unknown>) =>
  Effect.map(decodeRows(operation, CountRow)(rows), (decoded) =>
    Option.match(Arr.head(decoded), { onNone: () => 0, onSome: (row) => row.records })
  )

/** The count an export's publication recorded, if it was published. */
export const publication = (sql: SqlClient.SqlClient, project: string, exportId: string) =>
  Effect.flatMap(
    sql`SELECT records FROM batch_publications WHERE project = ${project} AND export_id = ${exportId}`,
    decodeRows("publication", CountRow)
  ).pipe(Effect.map((rows) => Option.map(Arr.head(rows), (row) => row.records)))
