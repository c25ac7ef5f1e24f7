/**
 * The two databases the sink runs on, as `SqlClient` layers whose failures are typed: SQLite (one file, the
 * embedded default) and Postgres.
 *
 * Each driver is loaded only when its layer is built (`@effect/sql-sqlite-node` and `@effect/sql-pg` are
 * optional peer dependencies: a Postgres user need not compile SQLite's native driver, nor the reverse). A
 * driver that is missing, a file that cannot be opened (the SQLite driver throws, which `@effect/sql` would
 * turn into a defect) and a server that refuses all fail the layer with a `SinkError` whose detail carries no
 * password. Only the `SqlClient` is provided, so that code above speaks one API for both.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { SinkError } from "./SinkError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SqliteOptions {
  /** The database file, created when missing (its directory must exist). */
  readonly filename: string
  /** Open it read-only: every write then fails with a `SinkError`. */
  readonly readonly?: boolean | undefined
}

/**
 * Where a Postgres database is: a URL (`postgres://user:password@host:5432/db`, kept `Redacted` because it
 * may carry the password), or its parts. `host` may be a directory, the Unix socket's.
 *
 * @since 0.1.0
 * @category models
 */
export interface PgOptions {
  readonly url?: Redacted.Redacted | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly database?: string | undefined
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted | undefined
  /** Pool size (the driver's default is 10). */
  readonly maxConnections?: number | undefined
  /** How long to wait for the first connection (default 5 seconds). */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

const connectError = (detail: string) => new SinkError({ operation: "connect", detail })

const missingDriver = (name: string, range: string) => () =>
  connectError(`the database driver ${name} is not installed: add ${name}@${range} to your dependencies`)

/** Keeps `SqlClient` only: the driver's own tag would tie the caller's types to an optional package. */
const onlySqlClient = <E, R>(layer: Layer.Layer<SqlClient.SqlClient, E, R>): Layer.Layer<SqlClient.SqlClient, E, R> =>
  Layer.map(layer, (context) => Context.make(SqlClient.SqlClient, Context.get(context, SqlClient.SqlClient)))

/**
 * A failure or a defect of building a driver's layer (the SQLite driver throws) as a `SinkError`; an
 * interruption stays one.
 */
const typedBuild =
  (secrets: ReadonlyArray<string>) =>
  <R>(layer: Layer.Layer<SqlClient.SqlClient, unknown, R>): Layer.Layer<SqlClient.SqlClient, SinkError, R> =>
    Layer.catchAllCause(layer, (cause) =>
      Cause.isInterruptedOnly(cause)
        ? Layer.failCause(Cause.map(cause, SinkError.fromUnknown("connect", secrets)))
        : Layer.fail(SinkError.fromUnknown("connect", secrets)(Cause.squash(cause)))
    )

/** The password of a connection URL, as it may appear in a message: raw and decoded. */
const urlPassword = (url: string): ReadonlyArray<string> => {
  try {
    const password = new URL(url).password
    return password === "" ? [] : [password, decodeURIComponent(password)]
  } catch {
    return []
  }
}

/**
 * A SQLite database in one file, through `@effect/sql-sqlite-node` (WAL mode: readers in other connections
 * see the last committed state while a load writes).
 *
 * @example
 * ```ts
 * import { Database } from "@batch-export/sync"
 * import * as SqlClient from "@effect/sql/SqlClient"
 * import { Effect } from "effect"
 * import { mkdtempSync, rmSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 *
 * const dir = mkdtempSync(join(tmpdir(), "batch-export-"))
 * const program = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1 AS one`)
 *
 * Effect.runPromise(Effect.provide(program, Database.layerSqlite({ filename: join(dir, "exports.db") })))
 *   .then((rows) => console.log(rows))
 *   .finally(() => rmSync(dir, { recursive: true, force: true }))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<SqlClient.SqlClient, SinkError> =>
  Layer.unwrapEffect(
    Effect.tryPromise({
      try: () => import("@effect/sql-sqlite-node/SqliteClient"),
      catch: missingDriver("@effect/sql-sqlite-node", "^0.53.0")
    }).pipe(
      Effect.map((SqliteClient) =>
        onlySqlClient(
          SqliteClient.layer({ filename: options.filename, readonly: options.readonly ?? false }).pipe(typedBuild([]))
        )
      )
    )
  )

/**
 * A Postgres database through `@effect/sql-pg` (a pool of connections; the first one is opened, and so
 * checked, when the layer is built).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPg = (options: PgOptions): Layer.Layer<SqlClient.SqlClient, SinkError> =>
  Layer.unwrapEffect(
    Effect.tryPromise({
      try: () => import("@effect/sql-pg/PgClient"),
      catch: missingDriver("@effect/sql-pg", "^0.53.0")
    }).pipe(
      Effect.map((PgClient) => {
        const url = options.url === undefined ? undefined : Redacted.value(options.url)
        const secrets = [
          ...(options.password === undefined ? [] : [Redacted.value(options.password)]),
          ...(url === undefined ? [] : [url, ...urlPassword(url)])
        ]
        return onlySqlClient(
          PgClient.layer({
            url: options.url,
            host: options.host,
            port: options.port,
            database: options.database,
            username: options.username,
            password: options.password,
            maxConnections: options.maxConnections,
            connectTimeout: options.connectTimeout,
            applicationName: "batch-export"
          }).pipe(typedBuild(secrets))
        )
      })
    )
  )
