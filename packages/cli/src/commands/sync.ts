/**
 * `batch-export sync --config FILE`: keeps a database (SQLite or Postgres) up to date with Batch exports, as
 * the configuration file says (`@batch-export/sync`): runs every due export once and exits, or with `--watch`
 * keeps running and fires on each cron. `batch-export sync status` shows the last runs.
 *
 * @since 0.1.0
 */
// The next imports only let declaration emit name the error types inside the inferred command types.
import type { ClientError } from "@batch-export/core"
import type { SinkError, SyncCluster, SyncConfig } from "@batch-export/sync"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Flags from "../Flags.js"
import { UsageError } from "../internal/exit.js"
import { lazily } from "../internal/lazy.js"

const load = () => import("../internal/handlers/sync.js")

const config = Options.text("config").pipe(
  Options.withPseudoName("FILE"),
  Options.withDescription("The sync configuration (JSON: database, projects, export definitions; see the sync README)")
)

const database = Options.text("database").pipe(
  Options.withPseudoName("URL|PATH"),
  Options.withDescription("Use this database instead of the configuration's: a postgres:// URL or a SQLite file"),
  Options.optional
)

const project = Options.text("project").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("Only this project of the configuration"),
  Options.optional
)

const watch = Options.boolean("watch").pipe(
  Options.withDescription("Keep running: each export definition runs at each occurrence of its schedule (cron)")
)

const pollInterval = Flags.seconds(
  "poll-interval",
  "Time between two looks at an export (seconds, or 30s, 2m), at least 1s; default 5s growing to 1m",
  (checks) => checks.pollInterval
).pipe(Options.optional)

const limit = Flags.wholeNumber("limit", 1, 1000, "How many runs to show, the latest first").pipe(
  Flags.withDefault(20, "20")
)

/**
 * `batch-export sync status --config FILE [--database URL|PATH] [--limit N] [--json]`
 *
 * @since 0.1.0
 * @category commands
 */
export const statusCommand = Command.make("status", { config, database, limit, json: Flags.json }, (flags) =>
  lazily(load, (handler) => handler.status(flags))
).pipe(
  Command.withDescription(
    "Show the last sync runs (project, export, outcome, start, parts, rows); `running` is in flight, or was " +
      "stopped and resumes at the next sync."
  )
)

/**
 * `batch-export sync --config FILE [--project NAME] [--database URL|PATH] [--poll-interval DURATION] [--watch]
 * [--listen HOST:PORT] [--advertise HOST:PORT] [--shards N] [--quiet] [--json]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "sync",
  // optional here, so that `sync status --config FILE` parses (a parent's required flag would be asked for first)
  {
    config: Options.optional(config),
    project,
    database,
    pollInterval,
    watch,
    listen: Flags.listen,
    advertise: Flags.advertise,
    shards: Flags.shards,
    quiet: Flags.quiet,
    json: Flags.json
  },
  ({ config, ...flags }) =>
    Effect.gen(function* () {
      if (Option.isNone(config)) return yield* new UsageError({ message: "sync needs --config FILE (see --help)" })
      return yield* lazily(load, (handler) => handler.sync({ config: config.value, ...flags }))
    })
).pipe(
  Command.withDescription(
    "Land Batch exports in a database (SQLite or Postgres) as the configuration says: run every due export " +
      "once and exit, or keep running with --watch. A run stopped in the middle resumes at the next start. On " +
      "Postgres with `batch-export runner`s up, the runners run the exports and sync follows them."
  ),
  Command.withSubcommands([statusCommand])
)
