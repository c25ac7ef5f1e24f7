/**
 * The flags of a cluster node (`runner`, `sync` on Postgres): `--listen`, `--advertise`, `--shards`, each else its
 * environment variable, checked by `SyncCluster`'s rules.
 *
 * @internal
 * @since 0.1.0
 */
import { SyncCluster } from "@batch-export/sync"
import * as EffectConfig from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { UsageError } from "./exit.js"

/** A `--listen`/`--advertise` value as an address (a usage error when it is not `HOST:PORT`). */
const addressFlag = (flag: string, value: Option.Option<string>) =>
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

/** `--shards`, else `$BATCH_EXPORT_SHARDS` (a usage error when it is not a whole number of shards). */
const shardsOf = (flag: Option.Option<number>) =>
  Effect.gen(function* () {
    if (Option.isSome(flag)) return flag.value
    const env = yield* orEnv(Option.none(), "BATCH_EXPORT_SHARDS")
    if (Option.isNone(env)) return undefined
    const n = Number(env.value)
    return Number.isInteger(n) && n >= 1 && n <= 100_000
      ? n
      : yield* new UsageError({ message: `BATCH_EXPORT_SHARDS must be a whole number from 1 to 100000` })
  })

/**
 * The parsed node flags.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Flags {
  readonly listen: Option.Option<string>
  readonly advertise: Option.Option<string>
  readonly shards: Option.Option<number>
}

/**
 * The node's addresses and shard count from its flags and environment.
 *
 * @internal
 * @since 0.1.0
 * @category parsing
 */
export const nodeOptions = (flags: Flags) =>
  Effect.gen(function* () {
    const listen = yield* addressFlag("--listen", yield* orEnv(flags.listen, "BATCH_EXPORT_LISTEN"))
    const advertise = yield* addressFlag("--advertise", yield* orEnv(flags.advertise, "BATCH_EXPORT_ADVERTISE"))
    const shards = yield* shardsOf(flags.shards)
    return { listen, advertise, shards } satisfies SyncCluster.RunnerOptions
  })
