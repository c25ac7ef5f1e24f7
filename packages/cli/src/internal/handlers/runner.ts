/**
 * What `batch-export runner` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred types.
import type { ClientError } from "@batch-export/core"
import type { SinkError, SyncConfig } from "@batch-export/sync"
import { Sync, SyncCluster } from "@batch-export/sync"
import * as Console from "effect/Console"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ClusterFlags from "../clusterFlags.js"
import { UsageError } from "../exit.js"
import { loadConfig } from "./sync.js"

/**
 * The parsed command line of `runner`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly config: string
  readonly database: Option.Option<string>
  readonly listen: Option.Option<string>
  readonly advertise: Option.Option<string>
  readonly shards: Option.Option<number>
  readonly concurrency: number
  readonly pollInterval: Option.Option<Duration.Duration>
}

const label = (payload: { readonly project: string; readonly definition: string; readonly slot: string }) =>
  `${payload.project}/${payload.definition} ${payload.slot}`

/**
 * Joins the cluster and runs what it is given until interrupted: one line when it listens, one when an
 * execution starts running here, one when it ends here.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const runner = (flags: Config) =>
  Effect.gen(function* () {
    const { database, loaded } = yield* loadConfig(flags.config, flags.database)
    const where = database ?? loaded.database
    if (where._tag === "Sqlite") {
      return yield* new UsageError({
        message:
          "a runner needs a Postgres database (--database postgres://… or the configuration's): a SQLite file is " +
          "one machine's, run `batch-export sync` there instead"
      })
    }
    const node = yield* ClusterFlags.nodeOptions(flags)
    const layer = Sync.layer(loaded, {
      database: where,
      node: {
        role: "runner",
        options: {
          ...node,
          onReady: (addresses) =>
            Console.error(
              `runner listening on ${SyncCluster.formatAddress(addresses.listen)} ` +
                `(advertised as ${SyncCluster.formatAddress(addresses.advertise)})`
            )
        }
      },
      sync: {
        pollInterval: Option.getOrUndefined(flags.pollInterval),
        concurrentLoads: flags.concurrency,
        onExecution: (event) =>
          event._tag === "Running"
            ? Console.error(`${label(event.payload)}: running`)
            : Either.match(event.result, {
                onLeft: (error) =>
                  Console.error(
                    `${label(event.payload)}: failure ${error._tag === "StepFailed" ? error.reason : error._tag}`
                  ),
                onRight: (result) => Console.error(`${label(event.payload)}: success (${result.records} records)`)
              })
      }
    })
    return yield* Layer.launch(layer)
  })
