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
import * as EffectConfig from "effect/Config"
import * as Console from "effect/Console"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
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
  readonly pollInterval: Option.Option<Duration.Duration>
}

/**
 * A `--listen`/`--advertise` value as an address (a usage error when it is not `HOST:PORT`).
 *
 * @internal
 * @since 0.1.0
 * @category parsing
 */
export const addressFlag = (flag: string, value: Option.Option<string>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (text) =>
      Option.match(SyncCluster.parseAddress(text), {
        onNone: () =>
          Effect.fail(new UsageError({ message: `${flag} must be HOST:PORT, not ${JSON.stringify(text)}` })),
        onSome: (address) => Effect.succeed<SyncCluster.Address | undefined>(address)
      })
  })

/** A flag's value, else its environment variable's. */
const orEnv = (flag: Option.Option<string>, name: string) =>
  Option.isSome(flag)
    ? Effect.succeed(flag)
    : Effect.orElseSucceed(EffectConfig.option(EffectConfig.string(name)), Option.none)

/**
 * `--shards`, else `$BATCH_EXPORT_SHARDS` (a usage error when it is not a whole number of shards).
 *
 * @internal
 * @since 0.1.0
 * @category parsing
 */
export const shardsOf = (flag: Option.Option<number>) =>
  Effect.gen(function* () {
    if (Option.isSome(flag)) return flag.value
    const env = yield* orEnv(Option.none(), "BATCH_EXPORT_SHARDS")
    if (Option.isNone(env)) return undefined
    const n = Number(env.value)
    return Number.isInteger(n) && n >= 1 && n <= 100_000
      ? n
      : yield* new UsageError({ message: `BATCH_EXPORT_SHARDS must be a whole number from 1 to 100000` })
  })

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
    const listen = yield* addressFlag("--listen", yield* orEnv(flags.listen, "BATCH_EXPORT_LISTEN"))
    const advertise = yield* addressFlag("--advertise", yield* orEnv(flags.advertise, "BATCH_EXPORT_ADVERTISE"))
    const shards = yield* shardsOf(flags.shards)
    const layer = Sync.layer(loaded, {
      database: where,
      node: {
        role: "runner",
        options: {
          listen,
          advertise,
          shards,
          onReady: (addresses) =>
            Console.error(
              `runner listening on ${SyncCluster.formatAddress(addresses.listen)} ` +
                `(advertised as ${SyncCluster.formatAddress(addresses.advertise)})`
            )
        }
      },
      sync: {
        pollInterval: Option.getOrUndefined(flags.pollInterval),
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
