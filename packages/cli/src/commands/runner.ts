/**
 * `batch-export runner --config FILE`: a node of a sync cluster on Postgres (`@batch-export/sync`'s
 * `SyncCluster`): it executes the sync executions of the shards it holds until stopped, while `batch-export sync`
 * (on any machine, against the same database) hands them out.
 *
 * @since 0.1.0
 */
// The next imports only let declaration emit name the error types inside the inferred command types.
import type { ClientError } from "@batch-export/core"
import type { SinkError, SyncCluster, SyncConfig } from "@batch-export/sync"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Flags from "../Flags.js"
import { lazily } from "../internal/lazy.js"

const load = () => import("../internal/handlers/runner.js")

const config = Options.text("config").pipe(
  Options.withPseudoName("FILE"),
  Options.withDescription(
    "The sync configuration: its projects (with the names of the variables holding their REST keys) and its " +
      "database, which must be Postgres"
  )
)

const database = Options.text("database").pipe(
  Options.withPseudoName("URL"),
  Options.withDescription("Use this postgres:// database instead of the configuration's"),
  Options.optional
)

/**
 * `batch-export runner --config FILE [--database URL] [--listen HOST:PORT] [--advertise HOST:PORT] [--shards N]
 * [--concurrency N]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "runner",
  {
    config,
    database,
    listen: Flags.listen,
    advertise: Flags.advertise,
    shards: Flags.shards,
    concurrency: Flags.wholeNumber(
      "concurrency",
      1,
      1000,
      "Parts this runner loads at once, across its executions (its share of the bandwidth, CPU and connections)"
    ).pipe(Flags.withDefault(4, "4")),
    pollInterval: Flags.seconds(
      "poll-interval",
      "Time between two looks at an export (seconds, or 30s, 2m), at least 1s; default 5s growing to 1m",
      (checks) => checks.pollInterval
    ).pipe(Options.optional)
  },
  (flags) => lazily(load, (handler) => handler.runner(flags))
).pipe(
  Command.withDescription(
    "Run sync executions for a cluster of machines sharing one Postgres database, until stopped: `sync` on any " +
      "machine hands them out, runners split them, and the executions of a runner that dies are finished by the " +
      "others. Each REST key is read from this machine's environment."
  )
)
