/**
 * Set-up one process at a time, on Postgres: schema migrations (the sink's, the cluster's) run
 * `CREATE TABLE IF NOT EXISTS`, which races between processes starting at once on a fresh database (all but one
 * fail with `42P07`, or `23505` on `pg_type`). `serialized` holds a session advisory lock on a connection of its
 * own for as long as the set-up takes, then unlocks it and returns the connection to the pool, whatever the
 * outcome. SQLite (one writer at a time already) runs the set-up as it is.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { SinkError } from "../SinkError.js"

/** The advisory lock's key (`batc`). */
const SETUP_LOCK = 0x62617463

/** `setup`, on Postgres while holding the set-up lock. */
export const serialized = <A, E, R>(
  setup: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SinkError, R | SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.onDialectOrElse({
      orElse: () => setup,
      pg: () =>
        Effect.acquireUseRelease(
          Effect.gen(function* () {
            const scope = yield* Scope.make()
            return yield* Effect.gen(function* () {
              const connection = yield* Scope.extend(sql.reserve, scope)
              yield* connection.executeRaw(`SELECT pg_advisory_lock(${SETUP_LOCK})`, [])
              return { scope, connection }
            }).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
          }).pipe(Effect.mapError(SinkError.fromUnknown("setup"))),
          () => setup,
          ({ connection, scope }) =>
            connection
              .executeRaw(`SELECT pg_advisory_unlock(${SETUP_LOCK})`, [])
              .pipe(Effect.ignore, Effect.ensuring(Scope.close(scope, Exit.void)))
        )
    })
  )
