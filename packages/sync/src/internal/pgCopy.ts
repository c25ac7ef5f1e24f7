/**
 * Postgres' `COPY … FROM STDIN` for `Sink.loadPart`, on connections of a `pg` pool of its own.
 *
 * Why not `@effect/sql`: its connections take SQL text only, and COPY needs the driver's copy sub-protocol. The
 * benchmark (BENCHMARKS.md, "sync") measured multi-row INSERTs at about half the rows per second of `psql \copy`
 * (the server parses and plans a 4,500-parameter statement per batch, and the client waits for it), and COPY
 * at the same CPU cost per row as `psql \copy` on both sides, with the client's work overlapping the server's.
 * So loads, and only loads, take this path; every other statement goes through `SqlClient`.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import type * as Pg from "pg"
import type { PgCopyService, PgStatement } from "../Database.js"
import { SinkError } from "../SinkError.js"

/** `pg`'s pool and `pg-copy-streams`' `from`, loaded with the Postgres driver (see `Database.layerPg`). */
export interface Driver {
  readonly pool: Pg.Pool
  readonly copyFrom: (text: string) => CopyStream
}

/** What `pg-copy-streams`' `from` returns: a `Writable` that pg runs as a query. */
export interface CopyStream extends NodeJS.WritableStream, Pg.Submittable {
  readonly destroyed: boolean
  destroy(error?: Error): this
}

/**
 * The first error a connection or its COPY stream reported. Both are event emitters that throw an `error`
 * event nobody listens to (a crash), so one listener stays on each for the whole load and records it here.
 */
class Failure {
  error: { readonly cause: unknown } | undefined = undefined
  readonly listener = (cause: unknown) => {
    this.error ??= { cause }
  }
  /** fails with the recorded error, if any */
  readonly check = Effect.suspend(() => (this.error === undefined ? Effect.void : Effect.fail(this.error.cause)))
}

const query = (client: Pg.PoolClient, statement: PgStatement) =>
  Effect.async<void, unknown>((resume) => {
    client.query(statement.text, [...statement.params], (error: Error | undefined) =>
      resume(error === undefined || error === null ? Effect.void : Effect.fail(error))
    )
  })

/** Writes one chunk, resuming when the stream can take more (its `drain`) or failing with its error. */
const write = (stream: CopyStream, failure: Failure, chunk: string) =>
  Effect.zipRight(
    failure.check,
    Effect.async<void, unknown>((resume) => {
      if (stream.write(chunk)) return resume(Effect.void)
      const onError = (error: unknown) => {
        stream.off("drain", onDrain)
        resume(Effect.fail(error))
      }
      const onDrain = () => {
        stream.off("error", onError)
        resume(Effect.void)
      }
      stream.once("drain", onDrain)
      stream.once("error", onError)
      return Effect.sync(() => {
        stream.off("drain", onDrain)
        stream.off("error", onError)
      })
    })
  )

/** Ends the COPY: resumes once the server has taken every row (its CommandComplete). */
const end = (stream: CopyStream, failure: Failure) =>
  Effect.zipRight(
    failure.check,
    Effect.async<void, unknown>((resume) => {
      const onError = (error: unknown) => {
        stream.off("finish", onFinish)
        resume(Effect.fail(error))
      }
      const onFinish = () => {
        stream.off("error", onError)
        resume(Effect.void)
      }
      stream.once("error", onError)
      stream.once("finish", onFinish)
      stream.end()
    })
  )

/**
 * The service over a driver. A connection is taken for one `copyIn` and given back after COMMIT; on a failure
 * or an interruption it is destroyed instead (the server then rolls the transaction back, whatever state the
 * COPY was in), so nothing of a failed load stays.
 */
export const make = (driver: Driver, secrets: ReadonlyArray<string>): PgCopyService => ({
  copyIn: (operation, options) => {
    const typed = SinkError.fromUnknown(operation, secrets)
    const driverError = <A, R2>(effect: Effect.Effect<A, unknown, R2>) => Effect.mapError(effect, typed)
    const failure = new Failure()
    return Effect.acquireUseRelease(
      driverError(Effect.tryPromise(() => driver.pool.connect())).pipe(
        Effect.tap((client) => Effect.sync(() => client.on("error", failure.listener)))
      ),
      (client) =>
        Effect.gen(function* () {
          yield* driverError(query(client, { text: "BEGIN", params: [] }))
          for (const statement of options.before) yield* driverError(query(client, statement))
          const stream = driver.copyFrom(options.copy)
          stream.on("error", failure.listener)
          client.query(stream)
          yield* Stream.runForEach(options.data, (chunk) => driverError(write(stream, failure, chunk))).pipe(
            // rows that will not come (a failed stream, an interruption): the COPY is abandoned
            Effect.onExit((exit) =>
              Exit.isFailure(exit) && !stream.destroyed ? Effect.sync(() => stream.destroy()) : Effect.void
            )
          )
          yield* driverError(end(stream, failure))
          for (const statement of options.after()) yield* driverError(query(client, statement))
          yield* driverError(query(client, { text: "COMMIT", params: [] }))
        }),
      (client, exit) =>
        Effect.sync(() => {
          // a connection whose transaction did not commit is closed, not reused (and keeps the listener: it
          // may still report its end)
          if (Exit.isSuccess(exit)) {
            client.off("error", failure.listener)
            client.release()
          } else {
            client.release(true)
          }
        })
    )
  }
})

// COPY's text format: a tab between columns, a newline after each row, \N for NULL, and a backslash before
// the backslashes, tabs and newlines of a value
const special = /[\\\t\n\r]/
const specialAll = /[\\\t\n\r]/g
const escapes: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" }

const field = (value: string | number | null | undefined): string =>
  value === null || value === undefined
    ? "\\N"
    : typeof value === "number"
      ? String(value)
      : special.test(value)
        ? value.replace(specialAll, (c) => escapes[c] ?? c)
        : value

/** Rows as COPY text, `columns` in order. */
export const copyText = (
  columns: ReadonlyArray<string>,
  rows: ReadonlyArray<Readonly<Record<string, string | number | null>>>
): string => {
  let text = ""
  for (const row of rows) {
    for (let i = 0; i < columns.length; i++) {
      text += (i === 0 ? "" : "\t") + field(row[columns[i]!])
    }
    text += "\n"
  }
  return text
}
