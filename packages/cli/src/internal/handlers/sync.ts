/**
 * What `batch-export sync` and `sync status` do once their command line parsed (loaded only then, see
 * `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred types.
import type { ClientError } from "@batch-export/core"
import type { SinkError } from "@batch-export/sync"
import { Sink, Sync, SyncCluster, SyncConfig } from "@batch-export/sync"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Progress from "../../Progress.js"
import * as ClusterFlags from "../clusterFlags.js"
import { SyncFailed } from "../exit.js"
import { printJson } from "../output.js"
import * as Render from "../render/sync.js"

/**
 * The parsed command line of `sync`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly config: string
  readonly project: Option.Option<string>
  readonly database: Option.Option<string>
  readonly pollInterval: Option.Option<Duration.Duration>
  readonly watch: boolean
  readonly listen: Option.Option<string>
  readonly advertise: Option.Option<string>
  readonly shards: Option.Option<number>
  readonly quiet: boolean
  readonly json: boolean
}

/** A terminal block is redrawn at most this often. */
const REDRAW_EVERY_MILLIS = 100

/**
 * The progress of the executions: one line each. On a terminal the block of lines is redrawn in place; elsewhere
 * a plain line when an execution starts, creates its export, loads a part, publishes or ends.
 */
const display = (style: Progress.Style, width: () => number) =>
  Effect.sync(() => {
    const lines = new Map<string, Render.Progress>()
    let drawn = 0
    let drawnAt = 0
    const redraw = Effect.sync(() => {
      const up = drawn > 0 ? `\x1b[${drawn}A` : ""
      const text = [...lines.values()].map((progress) => `\r\x1b[2K${Render.progressLine(progress, width() - 1)}\n`)
      drawn = lines.size
      process.stderr.write(up + text.join(""))
    })
    const plan = (planned: ReadonlyArray<Sync.Planned>): Effect.Effect<void> =>
      Effect.suspend(() => {
        for (const { executionId, payload } of planned) {
          lines.set(executionId, { label: Render.labelOf(payload), step: "waiting", parts: 0, rows: 0 })
        }
        return style === "redraw" ? redraw : Effect.void
      })
    const onEvent = (event: Sync.Event): Effect.Effect<void> =>
      Effect.gen(function* () {
        const progress = lines.get(event.runId)
        if (progress === undefined || style === "off") return
        const next = Render.advance(progress, event)
        lines.set(event.runId, next)
        if (style === "lines") {
          if (event._tag !== "Loading") yield* Console.error(Render.progressLine(next))
          return
        }
        const now = yield* Clock.currentTimeMillis
        if (now - drawnAt >= REDRAW_EVERY_MILLIS || event._tag === "Finished") {
          drawnAt = now
          yield* redraw
        }
      })
    const close = style === "redraw" ? Effect.suspend(() => (lines.size > 0 ? redraw : Effect.void)) : Effect.void
    return { plan, onEvent, close }
  })

/**
 * The configuration file, and the `--database` override resolved from the current directory.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const loadConfig = (config: string, database: Option.Option<string>) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const loaded = yield* SyncConfig.load(config)
    // a --database path is the caller's, relative to where the command runs
    const override = Option.map(database, (value) => SyncConfig.databaseOf(value, (relative) => path.resolve(relative)))
    return { loaded, database: Option.getOrUndefined(override) }
  })

const failedOf = (outcomes: ReadonlyArray<Sync.Outcome>) => {
  const failures = outcomes.flatMap((outcome) => (Either.isLeft(outcome.result) ? [outcome.result.left] : []))
  return failures.length === 0
    ? Effect.void
    : Effect.fail(
        new SyncFailed({
          failed: failures.length,
          total: outcomes.length,
          unauthorized: failures.every((failure) => failure.tag === "Unauthorized")
        })
      )
}

/**
 * What this process is in the cluster, on Postgres: with `--watch` a runner that also holds the crons; otherwise
 * a client of the runners when some are up, or a runner itself for as long as it runs (nobody else would run
 * its executions). On SQLite, always its own single runner.
 */
const nodeOf = (database: SyncConfig.SyncConfig["database"], flags: Config) =>
  Effect.gen(function* () {
    if (database._tag === "Sqlite") return { role: "runner" } satisfies Sync.Node
    const options = yield* ClusterFlags.nodeOptions(flags)
    if (flags.watch) return { role: "runner", options: { ...options, watch: true } } satisfies Sync.Node
    const runners = yield* SyncCluster.liveRunners.pipe(Effect.provide(Sync.layerDatabase(database)))
    return runners.length > 0
      ? ({ role: "client", options: { shards: options.shards } } satisfies Sync.Node)
      : ({ role: "runner", options } satisfies Sync.Node)
  })

/**
 * Loads the configuration (nothing starts when it is bad), runs every due execution, prints one line (or JSON
 * document) per execution, and fails with `SyncFailed` when one failed. With `--watch`, keeps running: each
 * definition's cron fires its slot, and each end is printed as it comes.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const sync = (flags: Config) =>
  Effect.gen(function* () {
    const { database, loaded } = yield* loadConfig(flags.config, flags.database)
    const project = Option.getOrUndefined(flags.project)
    // an unknown --project is a configuration error: checked before anything opens the database
    yield* Sync.pairs(loaded, project)
    const style = flags.json || flags.quiet ? "off" : flags.watch ? "lines" : yield* Progress.ProgressStyle
    const progress = yield* display(style, yield* Progress.TerminalWidth)
    const node = yield* nodeOf(database ?? loaded.database, flags)
    const client = node.role === "client"
    const layer = Sync.layer(loaded, {
      database,
      node,
      // a runner (a watch node, or a one-shot run with no runner up) loads as many parts at once as `runner` does
      sync: { pollInterval: Option.getOrUndefined(flags.pollInterval), concurrentLoads: Sync.defaultConcurrency },
      // a client runs no step: its progress is read from the run rows instead (`follow`, below)
      decorate: client ? undefined : Sync.observe(progress.onEvent)
    })
    // on a client the progress lines follow the run rows, until every execution ended (or the scope closes)
    const planning = Effect.gen(function* () {
      const sink = yield* Sink.Sink
      const scope = yield* Effect.scope
      return (planned: ReadonlyArray<Sync.Planned>) =>
        Effect.zipRight(
          progress.plan(planned),
          client
            ? Sync.follow(planned, progress.onEvent).pipe(
                Effect.provideService(Sink.Sink, sink),
                Effect.forkIn(scope),
                Effect.asVoid
              )
            : Effect.void
        )
    })
    const print = (outcomes: ReadonlyArray<Sync.Outcome>) =>
      flags.json
        ? Effect.forEach(outcomes, (outcome) => printJson(Render.outcomeJson(outcome)), { discard: true })
        : Console.log(Render.outcomesTable(outcomes).join("\n"))
    if (flags.watch) {
      // one line per end, without the header: the lines of a long watch stay greppable
      const printOne = (outcome: Sync.Outcome) =>
        flags.json ? printJson(Render.outcomeJson(outcome)) : Console.log(Render.outcomesTable([outcome])[1] ?? "")
      const watching = Sync.layerWatch(loaded, {
        project,
        onPlan: (planned) => progress.plan([planned]),
        onOutcome: printOne
      })
      // what is due now first (a run stopped earlier resumes here), then each cron occurrence until a signal
      return yield* Effect.gen(function* () {
        const due = yield* Sync.runDue(loaded, { project, onPlan: yield* planning })
        yield* Effect.forEach(due, printOne, { discard: true })
        return yield* Layer.launch(watching)
      }).pipe(Effect.scoped, Effect.provide(layer))
    }
    // a client hands every execution out at once: the runners bound their own work (4 at a time is one process's)
    const concurrency = client ? "unbounded" : undefined
    const running = Effect.flatMap(planning, (onPlan) => Sync.runDue(loaded, { project, onPlan, concurrency }))
    // a client's executions wait for runners: when every runner is gone for long, say so instead of waiting on
    const outcomes = yield* (client ? Effect.raceFirst(running, SyncCluster.requireRunners()) : running).pipe(
      Effect.ensuring(progress.close),
      Effect.scoped,
      Effect.provide(layer)
    )
    yield* print(outcomes)
    yield* failedOf(outcomes)
  })

/**
 * The parsed command line of `sync status`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface StatusConfig {
  readonly config: string
  readonly database: Option.Option<string>
  readonly limit: number
  readonly json: boolean
}

/**
 * Prints the latest runs (in flight ones show `running`) as a table, or one JSON document a line.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const status = (flags: StatusConfig) =>
  Effect.gen(function* () {
    const { database, loaded } = yield* loadConfig(flags.config, flags.database)
    const where = database ?? loaded.database
    // no SQLite file yet: nothing ran, and looking must not create one
    const exists = where._tag === "Postgres" || (yield* (yield* FileSystem.FileSystem).exists(where.filename))
    const runs = exists
      ? yield* Effect.flatMap(Sink.Sink, (sink) => sink.runs({ limit: flags.limit })).pipe(
          Effect.provide(Sink.layer.pipe(Layer.provide(Sync.layerDatabase(where))))
        )
      : []
    if (flags.json) return yield* Effect.forEach(runs, (run) => printJson(Render.runJson(run)), { discard: true })
    yield* runs.length === 0 ? Console.error("no runs yet") : Console.log(Render.runsTable(runs).join("\n"))
  })
