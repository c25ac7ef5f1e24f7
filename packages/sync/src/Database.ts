/**
 * The two databases the sink runs on, as `SqlClient` layers whose failures are typed: SQLite (one file, the
 * embedded default) and Postgres.
 *
 * Each driver is loaded only when its layer is built (`@effect/sql-sqlite-node` and `@effect/sql-pg` are
 * optional peer dependencies: a Postgres user need not compile SQLite's native driver, nor the reverse). A
 * driver that is missing, a file that cannot be opened (the SQLite driver throws, which `@effect/sql` would
 * turn into a defect) and a server that refuses all fail the layer with a `SinkError` whose detail carries no
 * password. Only the `SqlClient` is provided, so that code above speaks one API for both, and on Postgres
 * {@link PgCopy}, which `Sink.loadPart` uses for its bulk loads when it is there.
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
import type * as Stream from "effect/Stream"
import * as PgCopyInternal from "./internal/pgCopy.js"
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

/**
 * A statement for {@link PgCopyService}: SQL text with `$1`, `$2`… placeholders and their values.
 *
 * @since 0.1.0
 * @category models
 */
export interface PgStatement {
  readonly text: string
  readonly params: ReadonlyArray<string | number | null>
}

/**
 * Postgres' `COPY … FROM STDIN` in a transaction of its own: `before`, the COPY of `data` (text format
 * chunks), `after` (built once every row is in), then COMMIT; on any failure or interruption the connection is closed and the server rolls
 * everything back. `operation` names the `SinkError`s.
 *
 * @since 0.1.0
 * @category models
 */
export interface PgCopyService {
  readonly copyIn: <E, R>(
    operation: string,
    options: {
      readonly before: ReadonlyArray<PgStatement>
      readonly copy: string
      readonly data: Stream.Stream<string, E, R>
      readonly after: () => ReadonlyArray<PgStatement>
    }
  ) => Effect.Effect<void, E | SinkError, R>
}

/**
 * Bulk loads into Postgres through COPY, on connections of their own (`@effect/sql` has no COPY). Provided
 * by {@link layerPg}; without it, the sink loads with multi-row INSERTs.
 *
 * @since 0.1.0
 * @category tags
 */
export class PgCopy extends Context.Tag("@batch-export/sync/Database/PgCopy")<PgCopy, PgCopyService>() {}

const connectError = (detail: string) => new SinkError({ operation: "connect", detail })

const missingDriver = (database: string, packages: ReadonlyArray<string>) => () =>
  connectError(`the ${database} driver is not installed: add ${packages.join(" and ")} to your dependencies`)

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
      catch: missingDriver("SQLite", ["@effect/sql-sqlite-node@^0.53.0", "better-sqlite3 (its native driver)"])
    }).pipe(
      Effect.map((SqliteClient) =>
        onlySqlClient(
          SqliteClient.layer({ filename: options.filename, readonly: options.readonly ?? false }).pipe(typedBuild([]))
        )
      )
    )
  )

type CopyStreamsModule = typeof import("pg-copy-streams")

/**
 * `pg-copy-streams` (CommonJS) as imported: Node gives its exports as named exports and as `default`; a bundle
 * (the CLI's esbuild chunks) may give them as `default` only.
 */
const commonJs = (module: CopyStreamsModule | { readonly default: CopyStreamsModule }): CopyStreamsModule =>
  "default" in module ? module.default : module

/**
 * A Postgres database through `@effect/sql-pg` (a pool of connections; the first one is opened, and so
 * checked, when the layer is built), and {@link PgCopy} over a second pool of `pg` connections for bulk loads
 * (as large as the first; it opens connections only when a load runs).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPg = (options: PgOptions): Layer.Layer<SqlClient.SqlClient | PgCopy, SinkError> =>
  Layer.unwrapEffect(
    Effect.tryPromise({
      try: () => Promise.all([import("@effect/sql-pg/PgClient"), import("pg"), import("pg-copy-streams")]),
      catch: missingDriver("Postgres", ["@effect/sql-pg@^0.53.0", "pg@^8.23.1"])
    }).pipe(
      Effect.map(([PgClient, Pg, CopyStreams]) => {
        const url = options.url === undefined ? undefined : Redacted.value(options.url)
        const password = options.password === undefined ? undefined : Redacted.value(options.password)
        const secrets = [
          ...(password === undefined ? [] : [password]),
          ...(url === undefined ? [] : [url, ...urlPassword(url)])
        ]
        const sqlClient = onlySqlClient(
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
        const copy = Layer.scoped(
          PgCopy,
          Effect.map(
            Effect.acquireRelease(
              Effect.sync(() => {
                const pool = new Pg.default.Pool({
                  ...(url === undefined ? {} : { connectionString: url }),
                  ...(options.host === undefined ? {} : { host: options.host }),
                  ...(options.port === undefined ? {} : { port: options.port }),
                  ...(options.database === undefined ? {} : { database: options.database }),
                  ...(options.username === undefined ? {} : { user: options.username }),
                  ...(password === undefined ? {} : { password }),
                  max: options.maxConnections ?? 10,
                  connectionTimeoutMillis: Duration.toMillis(options.connectTimeout ?? "5 seconds"),
                  application_name: "batch-export"
                })
                // an idle connection the server closes is an `error` event of the pool: without a listener, a crash
                pool.on("error", () => {})
                return pool
              }),
              (pool) => Effect.promise(() => pool.end().catch(() => undefined))
            ),
            (pool) => PgCopyInternal.make({ pool, copyFrom: (text) => commonJs(CopyStreams).from(text) }, secrets)
          )
        )
        return Layer.merge(sqlClient, copy)
      })
    )
  )
