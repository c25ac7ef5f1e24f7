/**
 * Runs a sync configuration: for each (project, definition) the due slot, one `ExportSync` execution per
 * slot, all awaited (`runDue`), or fired on each cron occurrence (`layerWatch`); and the layers that wire the
 * engine, the sink and the Batch clients from the configuration (`layer`).
 *
 * The slot of a (project, definition) is the latest occurrence of its cron at or before now (a definition
 * without `schedule` runs daily at 00:00 UTC). The execution id comes from (project, definition, slot), so
 * running twice within one slot runs it once, and a run killed in the middle is resumed and awaited by the
 * next start within the same slot. (A start in a later slot awaits that slot's executions only; the engine
 * picks the older one up from its storage while the process runs, and a later start again.) EVENTS and
 * REACHABILITY export `[cursor, slot)`, the first run `[slot − lookBackDays, slot)`.
 *
 * The engine's storage: for SQLite a file beside the database, `<database>.engine` (the sink and the engine
 * cannot share one SQLite connection, see `ExportSync`); for Postgres the same pool as the sink, and the process
 * a node of a cluster (`SyncCluster`): a runner by default, or a client of the runners ({@link Node}).
 *
 * Batch's rate limit (per project, a reported 1 request per second): each project's API requests are paced
 * cluster-wide by one limiter per project, an entity of the cluster keyed by the project's name
 * (`requestsPerSecond`, default 1; storage downloads are not paced). The other way, pinning a project's
 * executions to one shard, was not taken: the cluster places workflow executions by hashing their execution id
 * (`ClusterWorkflowEngine`), so a project's executions spread over the runners, and that is wanted for their
 * downloads (storage, which Batch does not rate-limit); what Batch limits is the API calls. A pacer that cannot
 * be reached within 10 s lets the request go (with a warning): the client's 429 retries remain.
 *
 * @since 0.1.0
 */
import { ClientError, CreateExport } from "@batch-export/core"
import { BatchConfig, ExportsClient } from "@batch-export/node"
import * as ClusterCron from "@effect/cluster/ClusterCron"
import type * as Sharding from "@effect/cluster/Sharding"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as SqlClient from "@effect/sql/SqlClient"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Cause from "effect/Cause"
import * as Cron from "effect/Cron"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Database from "./Database.js"
import * as ExportSync from "./ExportSync.js"
import * as Sink from "./Sink.js"
import * as Pace from "./internal/pace.js"
import * as SyncCluster from "./SyncCluster.js"
import * as Steps from "./internal/steps.js"
import { sanitizeDetail, SinkError } from "./SinkError.js"
import {
  defaultLookBackDays,
  defaultSchedule,
  type Definition,
  type SyncConfig,
  SyncConfigError
} from "./SyncConfig.js"

const DAY = 24 * 60 * 60 * 1000

/**
 * The latest occurrence of `schedule` at or before `now` (to the second).
 *
 * @since 0.1.0
 * @category scheduling
 */
export const slotOf = (schedule: Cron.Cron, now: Date): Date => {
  const second = new Date(Math.floor(now.getTime() / 1000) * 1000)
  return Cron.match(schedule, second) ? second : Cron.prev(schedule, second)
}

/**
 * The cron of a definition (UTC), {@link SyncConfig.defaultSchedule} when it has none. The configuration was
 * checked when loaded, so parsing cannot fail.
 *
 * @since 0.1.0
 * @category scheduling
 */
export const cronOf = (definition: Definition): Cron.Cron =>
  Cron.unsafeParse(definition.schedule ?? defaultSchedule, "UTC")

/**
 * The create request of a definition for `slot`: EVENTS and REACHABILITY cover `[cursor, slot)`, or
 * `[slot − lookBackDays, slot)` when there is no cursor yet.
 *
 * @since 0.1.0
 * @category scheduling
 */
export const requestOf = (
  definition: Definition,
  slot: Date,
  cursor: Option.Option<Date>
): Either.Either<CreateExport.CreateExportRequest, string> => {
  const filter = definition.segment === undefined ? {} : { filter: { segment: definition.segment } }
  const identifiers = definition.identifiers === undefined ? {} : { identifiers: definition.identifiers }
  if (definition.type === "ATTRIBUTES") {
    const attributes = definition.attributes === undefined ? {} : { attributes: definition.attributes }
    return decodeRequest({ export_type: "ATTRIBUTES", ...attributes, ...identifiers, ...filter })
  }
  const lookBack = new Date(slot.getTime() - (definition.lookBackDays ?? defaultLookBackDays) * DAY)
  const from = Option.getOrElse(cursor, () => lookBack)
  const window = { from: (from < slot ? from : slot).toISOString(), to: slot.toISOString() }
  const events = definition.type === "EVENTS" && definition.events !== undefined ? { events: definition.events } : {}
  return decodeRequest({ export_type: definition.type, ...window, ...events, ...identifiers, ...filter })
}

const decodeRequest = (input: CreateExport.CreateExportRequestInput) =>
  Either.mapLeft(Schema.decodeEither(CreateExport.CreateExportRequest)(input), (error) => error.message)

/**
 * One execution to run: its payload (the request for its slot) and its execution id.
 *
 * @since 0.1.0
 * @category models
 */
export interface Planned {
  readonly executionId: string
  readonly payload: ExportSync.Payload
}

/**
 * How one execution ended: its result, or the failure's tag and sanitized message.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome {
  readonly executionId: string
  readonly project: string
  readonly definition: string
  readonly slot: string
  readonly result: Either.Either<ExportSync.Result, { readonly tag: string; readonly message: string }>
}

/**
 * The (project, definition) pairs of the configuration, limited to `project` when given (an unknown name is a
 * configuration error).
 *
 * @since 0.1.0
 * @category scheduling
 */
export const pairs = (
  config: SyncConfig,
  project?: string
): Either.Either<ReadonlyArray<{ readonly project: string; readonly definition: Definition }>, SyncConfigError> => {
  const projects = project === undefined ? config.projects : config.projects.filter((p) => p.name === project)
  if (projects.length === 0) {
    return Either.left(
      new SyncConfigError({ file: config.file, path: "projects", detail: `no project named ${project}` })
    )
  }
  return Either.right(
    projects.flatMap((p) =>
      p.exports.flatMap((name) => {
        const definition = config.definitions.get(name)
        return definition === undefined ? [] : [{ project: p.name, definition }]
      })
    )
  )
}

/**
 * The execution of (project, definition) due at `now`: the slot's, its window from the sink's cursor.
 *
 * Windowed definitions (EVENTS, REACHABILITY) run one slot after another: while a run of an earlier slot is
 * unfinished (killed, or still running), the due execution is that run, rebuilt from its run row (same slot,
 * same window, so the same execution id: it is joined or resumed, never started twice), and the newer slot
 * waits for the next start. Two windows planned side by side would both start at the same cursor and load the
 * events they share twice; a newer window published first would move the cursor past the older one's events.
 * A run row left unfinished by an execution the engine has completed (its last step could not write the row)
 * does not hold the newer slot back.
 *
 * @since 0.1.0
 * @category scheduling
 */
export const plan = (
  project: string,
  definition: Definition,
  now: Date
): Effect.Effect<Planned, SinkError | ClientError.InvalidArgument, Sink.Sink | WorkflowEngine> =>
  Effect.gen(function* () {
    const sink = yield* Sink.Sink
    const slot = slotOf(cronOf(definition), now)
    const planned = (slot: Date, cursor: Option.Option<Date>) =>
      Effect.gen(function* () {
        const request = yield* Either.match(requestOf(definition, slot, cursor), {
          onLeft: (detail) =>
            Effect.fail(new ClientError.InvalidArgument({ argument: `exports.${definition.name}`, detail })),
          onRight: Effect.succeed
        })
        const payload = { project, definition: definition.name, slot: slot.toISOString(), request }
        return { executionId: yield* ExportSync.ExportSync.executionId(payload), payload }
      })
    if (definition.type === "ATTRIBUTES") return yield* planned(slot, Option.none())
    const unfinished = (yield* sink.runs({ project, limit: 1000 }))
      .filter(
        (run) =>
          run.definition === definition.name &&
          Option.isNone(run.finishedAt) &&
          Option.exists(run.windowTo, (to) => to < slot)
      )
      .reverse()
    const earlier = yield* Effect.findFirst(unfinished, (run) =>
      Effect.map(engineCall(ExportSync.ExportSync.poll(run.runId)), (result) => result?._tag !== "Complete")
    )
    if (Option.isSome(earlier) && Option.isSome(earlier.value.windowTo)) {
      const rebuilt = yield* planned(earlier.value.windowTo.value, earlier.value.windowFrom)
      // the run row's own execution (its id comes from project, definition and slot)
      if (rebuilt.executionId === earlier.value.runId) return rebuilt
    }
    return yield* planned(
      slot,
      Option.map(yield* sink.cursor(project, definition.name), (c) => c.windowEnd)
    )
  })

/**
 * The engine's own calls (`execute`, `poll`) die when its storage is away: `@effect/cluster` ends them in
 * `orDie`. Here such a death is the `SinkError` of that storage (operation `engine`), retried as the steps retry
 * the sink (a server restarting for a few seconds must not end a run).
 */
const engineCall = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SinkError, R> =>
  effect.pipe(
    Effect.catchSomeDefect((defect) =>
      Predicate.isTagged(defect, "PersistenceError") || Predicate.isTagged(defect, "SqlError")
        ? Option.some(Effect.fail(SinkError.fromUnknown("engine")(defect)))
        : Option.none()
    ),
    Effect.retry({
      schedule: Steps.databaseRetries,
      while: (error) => error instanceof SinkError && error.transient
    })
  )

/** How often `execute` looks at an execution it started. */
const POLL_EVERY = "500 millis"

/**
 * Runs one planned execution to its end (or joins it, when it already runs or ran): it is handed to the engine
 * and then looked at until it completes. Interrupting this only stops the looking: the engine's execution is
 * left as stored, and the next start (with the same slot) resumes it. (Awaiting the engine's reply instead
 * leaves an interrupted caller retrying to reach a runner that is shutting down.)
 *
 * @since 0.1.0
 * @category running
 */
export const execute = (planned: Planned): Effect.Effect<Outcome, never, WorkflowEngine> =>
  Effect.gen(function* () {
    yield* engineCall(ExportSync.ExportSync.execute(planned.payload, { discard: true }))
    for (;;) {
      const polled = yield* engineCall(ExportSync.ExportSync.poll(planned.executionId))
      if (polled !== undefined && polled._tag === "Complete") return polled.exit
      yield* Effect.sleep(POLL_EVERY)
    }
  }).pipe(
    // the engine's storage stayed away: the execution is stored as it was, the next start goes on with it
    Effect.catchAll((error) =>
      Effect.succeed<Exit.Exit<ExportSync.Result, ExportSync.ExportSyncError | SinkError>>(Exit.fail(error))
    ),
    Effect.map((exit) => ({
      executionId: planned.executionId,
      project: planned.payload.project,
      definition: planned.payload.definition,
      slot: planned.payload.slot,
      result: Exit.match(exit, {
        onSuccess: Either.right,
        onFailure: (cause) =>
          Either.left(
            Option.match(Cause.failureOption(cause), {
              onSome: (error) => ({
                tag: error._tag === "StepFailed" ? error.reason : error._tag,
                message: sanitizeDetail(error.message)
              }),
              onNone: () => ({ tag: "Defect", message: sanitizeDetail(Cause.pretty(cause).split("\n")[0] ?? "") })
            })
          )
      })
    }))
  )

/**
 * How much one process does at once by default: executions awaited by {@link runDue}, and parts a runner loads
 * (`ExportSync.Options.concurrentLoads`, the CLI's `runner --concurrency`).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultConcurrency = 4

/**
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** Only this project's definitions. */
  readonly project?: string | undefined
  /** Executions run at once (default 4; a client of a cluster hands them all out: `"unbounded"`). */
  readonly concurrency?: number | "unbounded" | undefined
  /** Called with the plan, before any execution starts (e.g. to draw the progress lines). */
  readonly onPlan?: ((planned: ReadonlyArray<Planned>) => Effect.Effect<void>) | undefined
}

/**
 * Every due execution of the configuration, run concurrently (bounded) and awaited: one outcome per
 * execution, in the configuration's order. A failed execution is an outcome, not a failure of this effect.
 *
 * @since 0.1.0
 * @category running
 */
export const runDue = (
  config: SyncConfig,
  options: RunOptions = {}
): Effect.Effect<
  ReadonlyArray<Outcome>,
  SyncConfigError | SinkError | ClientError.InvalidArgument,
  WorkflowEngine | Sink.Sink
> =>
  Effect.gen(function* () {
    const todo = yield* pairs(config, options.project)
    const now = new Date(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
    const planned = yield* Effect.forEach(todo, ({ definition, project }) => plan(project, definition, now))
    if (options.onPlan !== undefined) yield* options.onPlan(planned)
    return yield* Effect.forEach(planned, execute, { concurrency: options.concurrency ?? defaultConcurrency })
  })

/**
 * One `ClusterCron` per (project, definition): at each occurrence of its cron, the execution of that slot is
 * run (and awaited, so that an occurrence is not started twice). `onOutcome` sees each end.
 *
 * @since 0.1.0
 * @category running
 */
export const layerWatch = (
  config: SyncConfig,
  options: {
    readonly project?: string | undefined
    readonly onOutcome?: ((outcome: Outcome) => Effect.Effect<void>) | undefined
    readonly onPlan?: ((planned: Planned) => Effect.Effect<void>) | undefined
  } = {}
): Layer.Layer<never, SyncConfigError, Sharding.Sharding | WorkflowEngine | Sink.Sink> =>
  Layer.unwrapEffect(
    Effect.map(pairs(config, options.project), (todo) =>
      Layer.mergeAll(
        Layer.empty,
        ...todo.map(({ definition, project }) =>
          ClusterCron.make({
            name: JSON.stringify([project, definition.name]),
            cron: cronOf(definition),
            // held by watch nodes only (all groups on one machine): each occurrence fires once in a cluster
            shardGroup: SyncCluster.watchGroup,
            // a missed occurrence is run late, but at most one slot late: the slot is computed from now
            skipIfOlderThan: "1 hour",
            execute: Effect.gen(function* () {
              const now = new Date(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
              const planned = yield* plan(project, definition, now)
              if (options.onPlan !== undefined) yield* options.onPlan(planned)
              const outcome = yield* execute(planned)
              if (options.onOutcome !== undefined) yield* options.onOutcome(outcome)
            }).pipe(Effect.catchAll((error) => Effect.logError(`sync ${project}/${definition.name}: ${error.message}`)))
          })
        )
      )
    )
  )

/**
 * What the executions are doing, read from their run rows: for a client of a cluster, whose steps run on the
 * runners (there is no sink call here to observe). Looks every `every` (default 1 s) and tells `onEvent` each
 * change (`Started`, `Created`, `Finished`), until every execution finished or the effect is interrupted. A look that
 * fails is skipped: this only feeds a display.
 *
 * @since 0.1.0
 * @category running
 */
export const follow = (
  planned: ReadonlyArray<Planned>,
  onEvent: (event: Event) => Effect.Effect<void>,
  every: Duration.DurationInput = "1 second"
): Effect.Effect<void, never, Sink.Sink> =>
  Effect.gen(function* () {
    const sink = yield* Sink.Sink
    const seen = new Map<string, { readonly created: boolean; readonly finished: boolean }>()
    const ids = new Set(planned.map((p) => p.executionId))
    const projects = [...new Set(planned.map((p) => p.payload.project))]
    while (ids.size > 0 && [...ids].some((id) => seen.get(id)?.finished !== true)) {
      const runs = yield* Effect.forEach(projects, (project) => sink.runs({ project, limit: 1000 })).pipe(
        Effect.map((lists) => lists.flat()),
        Effect.orElseSucceed((): ReadonlyArray<Sink.Run> => [])
      )
      for (const run of runs) {
        if (!ids.has(run.runId)) continue
        const before = seen.get(run.runId)
        const created = Option.isSome(run.exportId)
        if (before === undefined) yield* onEvent({ _tag: "Started", runId: run.runId })
        if (created && before?.created !== true && Option.isSome(run.exportId)) {
          yield* onEvent({ _tag: "Created", runId: run.runId, exportId: run.exportId.value })
        }
        const outcome = run.outcome
        if (outcome !== "running" && before?.finished !== true) {
          yield* onEvent({ _tag: "Finished", runId: run.runId, outcome })
        }
        seen.set(run.runId, { created, finished: outcome !== "running" })
      }
      yield* Effect.sleep(every)
    }
  })

/**
 * The `ExportsClient` of each project of the configuration, its REST key from the loaded configuration. Each
 * request of a project to Batch's API (its `api`, or Batch's default base URL) first takes a permit from the
 * project's pacer in the cluster (`requestsPerSecond`, see the module header); its storage downloads do not.
 * The pacer must be registered on the cluster's runners ({@link layer} does).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClients = (
  config: SyncConfig
): Layer.Layer<ExportSync.Clients, ClientError.InvalidArgument, Sharding.Sharding> =>
  Layer.scoped(
    ExportSync.Clients,
    Effect.gen(function* () {
      const take = yield* Pace.make
      const clients = new Map<string, ExportsClient.Service>()
      for (const project of config.projects) {
        const batchConfig = yield* Layer.build(
          BatchConfig.layer({ restApiKey: project.restApiKey, projectKey: project.projectKey, baseUrl: project.api })
        )
        const transport = Context.get(yield* Layer.build(NodeHttpClient.layerUndici), HttpClient.HttpClient)
        const origin = Context.get(batchConfig, BatchConfig.BatchConfig).baseUrl.origin
        const httpClient = Pace.paced(transport, origin, take(project.name, project.requestsPerSecond))
        const context = yield* Layer.build(
          ExportsClient.layerWithoutDependencies.pipe(
            Layer.provide(Layer.succeedContext(Context.add(batchConfig, HttpClient.HttpClient, httpClient)))
          )
        )
        clients.set(project.name, Context.get(context, ExportsClient.ExportsClient))
      }
      return ExportSync.Clients.of({ client: (name) => Option.fromNullable(clients.get(name)) })
    })
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions {
  /** Replaces the configuration's database (the CLI's `--database`). */
  readonly database?: SyncConfig["database"] | undefined
  readonly sync?: ExportSync.Options | undefined
  /** On Postgres, what this process is in the cluster (default a runner). */
  readonly node?: Node | undefined
  /** Wraps the sink (e.g. to report progress from its calls). */
  readonly decorate?: ((sink: Sink.Service) => Sink.Service) | undefined
}

/**
 * How the runner is tuned for one process: stored messages and durable clocks are looked at every second
 * (instead of 10 s); a shard lock left by a killed process expires after 10 s (instead of 35 s), so that the
 * next start resumes it soon; and on a stop (Ctrl-C, SIGTERM) an execution in flight is given 1 s (instead of
 * 15 s) before it is interrupted: its state is stored, the next start goes on from its last finished step.
 *
 * @since 0.1.0
 * @category constants
 */
export const engineOptions: ExportSync.EngineOptions = {
  shardingConfig: {
    // one process holds every group: the `ClusterCron`s of `layerWatch` live in `SyncCluster.watchGroup`
    availableShardGroups: [SyncCluster.workGroup, SyncCluster.watchGroup],
    assignedShardGroups: [SyncCluster.workGroup, SyncCluster.watchGroup],
    entityMessagePollInterval: "1 second",
    shardLockRefreshInterval: "3 seconds",
    shardLockExpiration: "10 seconds",
    entityTerminationTimeout: "1 second"
  }
}

/**
 * The sink's `SqlClient`: the SQLite file or the Postgres pool of the configuration.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDatabase = (database: SyncConfig["database"]): Layer.Layer<SqlClient.SqlClient, SinkError> =>
  database._tag === "Sqlite"
    ? Database.layerSqlite({ filename: database.filename })
    : Database.layerPg({ url: database.url })

/**
 * What this process is in the cluster, on Postgres: a runner (the default; it executes the shards it holds) or a
 * client (it hands executions to the runners and looks at them). SQLite is one machine: the process is always
 * its own single runner.
 *
 * @since 0.1.0
 * @category models
 */
export type Node =
  | { readonly role: "runner"; readonly options?: SyncCluster.RunnerOptions | undefined }
  | {
      readonly role: "client"
      readonly options?: Pick<SyncCluster.RunnerOptions, "shards" | "shardingConfig"> | undefined
    }

/**
 * The database's `SqlClient` for the sink, and the engine's storage: for SQLite a single runner on a file of its
 * own beside the database (`<database>.engine`), for Postgres the same pool, this process a node of the cluster
 * (`node`, default a runner listening on a free port of 127.0.0.1).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStorage = (
  database: SyncConfig["database"],
  node: Node = { role: "runner" }
): Layer.Layer<
  WorkflowEngine | Sharding.Sharding | SqlClient.SqlClient,
  SinkError | SyncCluster.ClusterError | ConfigError.ConfigError
> => {
  if (database._tag === "Sqlite") {
    return Layer.merge(
      ExportSync.layerEngineSqlite({ ...engineOptions, filename: `${database.filename}.engine` }),
      layerDatabase(database)
    )
  }
  const engine = node.role === "client" ? SyncCluster.layerClient(node.options) : SyncCluster.layerRunner(node.options)
  return Layer.provideMerge(engine, layerDatabase(database))
}

/**
 * Everything `runDue` and `layerWatch` need, from a loaded configuration: the engine with the workflow
 * registered (and its `Sharding`), the sink, the clients, and the project pacers registered on this runner.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  config: SyncConfig,
  options: LayerOptions = {}
): Layer.Layer<
  WorkflowEngine | Sharding.Sharding | Sink.Sink | SqlClient.SqlClient,
  SinkError | SyncCluster.ClusterError | ConfigError.ConfigError | ClientError.InvalidArgument
> => {
  const storage = layerStorage(options.database ?? config.database, options.node)
  const sink = Layer.effect(Sink.Sink, Effect.map(Sink.make, options.decorate ?? ((sink) => sink)))
  // the project pacers live on every runner: a project's shard may be on any of them
  const clients = Layer.merge(layerClients(config), Pace.layer)
  return ExportSync.layer(options.sync).pipe(
    Layer.provideMerge(Layer.provideMerge(clients, Layer.provideMerge(sink, storage)))
  )
}

/**
 * What an execution is doing, as its sink calls show it (for a progress display). `runId` is the execution id.
 * A resumed execution starts where it was: its first event may be `Loading`.
 *
 * @since 0.1.0
 * @category models
 */
export type Event =
  | { readonly _tag: "Started"; readonly runId: string }
  | { readonly _tag: "Creating"; readonly runId: string }
  | { readonly _tag: "Created"; readonly runId: string; readonly exportId: string }
  | { readonly _tag: "Loading"; readonly runId: string; readonly part: number }
  | { readonly _tag: "Loaded"; readonly runId: string; readonly part: number; readonly records: number }
  | { readonly _tag: "Publishing"; readonly runId: string }
  | { readonly _tag: "Finished"; readonly runId: string; readonly outcome: "success" | "failure" }

/**
 * The sink, reporting each call that shows an execution's progress to `onEvent` (after the call, or before it
 * for a call that takes long: a part's load, a publish). Calls keyed by export find their run through the
 * run table.
 *
 * @since 0.1.0
 * @category combinators
 */
export const observe =
  (onEvent: (event: Event) => Effect.Effect<void>) =>
  (sink: Sink.Service): Sink.Service => {
    const runs = new Map<string, string>()
    const runOf = (project: string, exportId: string) =>
      Effect.gen(function* () {
        const known = runs.get(exportId)
        if (known !== undefined) return Option.some(known)
        const found = (yield* sink.runs({ project })).find((run) => Option.contains(run.exportId, exportId))
        if (found !== undefined) runs.set(exportId, found.runId)
        return Option.fromNullable(found?.runId)
      }).pipe(Effect.orElseSucceed(() => Option.none<string>()))
    const tell = (project: string, exportId: string, event: (runId: string) => Event) =>
      Effect.flatMap(
        runOf(project, exportId),
        Option.match({ onNone: () => Effect.void, onSome: (runId) => onEvent(event(runId)) })
      )
    return {
      ...sink,
      recordRun: (run) => Effect.tap(sink.recordRun(run), () => onEvent({ _tag: "Started", runId: run.runId })),
      beginCreate: (runId) => Effect.zipRight(onEvent({ _tag: "Creating", runId }), sink.beginCreate(runId)),
      recordExport: (runId, exportId) =>
        Effect.tap(sink.recordExport(runId, exportId), () => {
          runs.set(exportId, runId)
          return onEvent({ _tag: "Created", runId, exportId })
        }),
      loadPart: (key, records) =>
        Effect.zipRight(
          tell(key.project, key.exportId, (runId) => ({ _tag: "Loading", runId, part: key.part })),
          Effect.tap(sink.loadPart(key, records), (loaded) =>
            tell(key.project, key.exportId, (runId) => ({
              _tag: "Loaded",
              runId,
              part: key.part,
              records: loaded.records
            }))
          )
        ),
      loadedPart: (key) =>
        Effect.tap(sink.loadedPart(key), (loaded) =>
          Option.match(loaded, {
            onNone: () => Effect.void,
            onSome: (records) =>
              tell(key.project, key.exportId, (runId) => ({ _tag: "Loaded", runId, part: key.part, records }))
          })
        ),
      publishSnapshot: (key) =>
        Effect.zipRight(
          tell(key.project, key.exportId, (runId) => ({ _tag: "Publishing", runId })),
          sink.publishSnapshot(key)
        ),
      publishWindow: (key) =>
        Effect.zipRight(
          tell(key.project, key.exportId, (runId) => ({ _tag: "Publishing", runId })),
          sink.publishWindow(key)
        ),
      finishRun: (runId, end) =>
        Effect.tap(sink.finishRun(runId, end), () => onEvent({ _tag: "Finished", runId, outcome: end.outcome }))
    }
  }
