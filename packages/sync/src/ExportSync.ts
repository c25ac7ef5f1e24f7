/**
 * The durable sync of one export definition: create the export on Batch, wait for it, load each part into
 * the sink, publish, and write a run row, as an `@effect/workflow` workflow whose state lives in the
 * workflow engine's storage. A process that dies at any point and starts again with the same payload goes on
 * from the step it was in; nothing here keeps state of its own.
 *
 * One execution per (project, definition, slot): the execution id is derived from those three, so triggering
 * the same slot twice runs it once, and the second caller gets the first one's result.
 *
 * The steps, each an `Activity` (its result is stored by the engine, and a step that finished is never run
 * again; a step the process died in runs again):
 * 1. `start`: the run row (`Sink.recordRun`, keyed by the execution id, so a replay keeps one row).
 * 2. `create`: `POST /profiles/export`, at most once per execution. Before posting it marks the run row
 *    (`Sink.beginCreate`), and it records the export id as soon as Batch answers. An attempt that finds the
 *    id recorded uses it; one that finds only the mark (an earlier attempt posted, and its answer was lost or
 *    the process died before the id was written) lists the project's exports and adopts one whose echoed
 *    `request` equals ours, requested no earlier than 5 minutes before the first attempt; only if there is
 *    none does it post again. A 503, a 429 past the client's retries, or a dropped connection retries the step
 *    (up to 4 times, 1 s doubling), through the same check.
 *    Where it can still create two: Batch lists the export late (after our look), or echoes the request
 *    differently from what we sent beyond key order and date spelling. Where it can adopt another's export:
 *    someone created the very same request in those minutes (then its data is what ours would have been).
 * 3. `poll-<n>`: `GET /exports/view`, then a `DurableClock.sleep` named `poll-<n>` (the interval of
 *    `ExportsClient.defaultPollSchedule`, or `pollInterval`), until `SUCCESS`; `ERROR` ends the execution
 *    with `ExportFailed`; past `timeout` (2 hours by default) from the creation, with a `StepFailed` whose
 *    reason is `ExportTimeout`. A wait longer than `inMemoryThreshold` (60 s by default, so none of the
 *    default pace's) is the engine's durable clock: stored, the execution suspended, woken by the engine at
 *    its time even after a restart; a shorter one sleeps in the process and a restart sleeps it again.
 * 4. `load-part-<n>`: the part's records, streamed from storage (link renewal, resume and bounds come from
 *    `ExportsClient`) into `Sink.loadPart`, which stages them in one transaction that replaces what an
 *    interrupted attempt staged: each part is loaded exactly once. A part is never downloaded again once
 *    its load committed: a finished step is not rerun, and a step rerun because the process died between
 *    the commit and the engine storing the step's end finds the part loaded (`Sink.loadedPart`).
 * 5. `publish`: `Sink.publishSnapshot` (ATTRIBUTES) or `Sink.publishWindow` (EVENTS, REACHABILITY: the
 *    request's `to` becomes the cursor, in the transaction that appends the rows).
 * 6. `finish`: the run row's outcome, counts, and on failure the error's tag and sanitized message (the
 *    staged rows of a failed run are discarded). On failure this step is best effort: the execution fails
 *    with its own error even when the run row cannot be written.
 *
 * Faults:
 * - A database that is away (down, restarting, refusing connections; SQLite busy: `SinkError.transient`):
 *   each step that writes to the sink retries, 1 s doubling, 6 times (about a minute). An attempt is one whole
 *   transaction, so nothing is half written and a snapshot is published whole or not at all; past the retries
 *   the run fails with `StepFailed` (reason `SinkError`). The engine's own storage (the same Postgres, or its
 *   SQLite file) is `@effect/cluster`'s: it reads again at its next poll (logging a warning per failed read) and
 *   retries a reply it cannot store only 4 times in 0.8 s, so the step retries are what carries a run over an
 *   outage (without them, a step that failed during a 3 s outage left its execution hanging).
 * - A full disk: not retried. The part's transaction rolls back, the run fails with `StepFailed` (reason
 *   `SinkError`, its detail with the database's code: `SQLITE_FULL`, Postgres' `53100`), the export's staged
 *   parts are discarded and the previous snapshot stays published.
 * - A record that does not decode: the part fails (`StepFailed`, step `load-part-<n>`, reason
 *   `RecordDecodeError`, its detail naming part and line), is not retried, nothing of the export is published,
 *   the previous snapshot stays.
 * - Storage the engine cannot set up (a read-only file, a user without CREATE): {@link layerEngine} fails with a
 *   `SinkError` (operation `engine`) where `SingleRunner` would die.
 * - SIGKILL at any point: the next start with the same payload finishes the run, as each step above says.
 *
 * Wiring: on SQLite, the engine's storage and the sink must be two `SqlClient`s. `@effect/sql-sqlite-node` has
 * one connection behind a semaphore, and `loadPart` holds it for a whole part's download: an engine sharing it
 * would stall (no shard lock refresh, no message reads) for as long as a part takes. {@link layerEngineSqlite}
 * opens its own file; give the sink another (`Database.layerSqlite`). On Postgres, a pool, they may share one
 * `Database.layerPg` ({@link layerEngine}), as the Postgres kill tests do.
 *
 * @since 0.1.0
 */
import { BatchConfig, ExportsClient } from "@batch-export/node"
import { ClientError, CreateExport, ExportError } from "@batch-export/core"
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as Sharding from "@effect/cluster/Sharding"
import type * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SingleRunner from "@effect/cluster/SingleRunner"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Workflow from "@effect/workflow/Workflow"
import { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import type * as ConfigError from "effect/ConfigError"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Database from "./Database.js"
import * as Steps from "./internal/steps.js"
import type * as Sink from "./Sink.js"
import { sanitizeDetail, SinkError } from "./SinkError.js"

/**
 * What one execution syncs. `project` and `definition` are the caller's names (the sync configuration's),
 * `slot` names the run (say, the scheduled time `2026-12-07T02:00Z`): with them, it makes the execution id.
 * `request` is the create request as Batch receives it; for EVENTS and REACHABILITY its `to` is required
 * (it becomes the cursor): without it the execution fails at once with `StepFailed` (reason
 * `InvalidArgument`), before anything is written. No secret travels here: the REST key stays in the client's configuration
 * ({@link Clients}).
 *
 * @since 0.1.0
 * @category models
 */
export const Payload = Schema.Struct({
  project: Schema.NonEmptyString,
  definition: Schema.NonEmptyString,
  slot: Schema.NonEmptyString,
  request: CreateExport.CreateExportRequest
})

/**
 * @since 0.1.0
 * @category models
 */
export type Payload = typeof Payload.Type

/**
 * What a successful execution did: the export it used, its parts and announced bytes, the records loaded and
 * the rows published (for a window: rows appended).
 *
 * @since 0.1.0
 * @category models
 */
export const Result = Schema.Struct({
  exportId: Schema.String,
  parts: Schema.Number,
  bytes: Schema.Number,
  records: Schema.Number,
  published: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type Result = typeof Result.Type

/**
 * A step of the sync failed: `step` names it (`start`, `create`, `poll-3`, `load-part-2`, `publish`…),
 * `reason` is the failure's tag (`ServiceUnavailable`, `SinkError`, `RecordDecodeError`, `ExportTimeout`…)
 * and `detail` its message, sanitized (URLs cut to their origin, at most 500 characters): this error is
 * stored in the engine's storage and in the run row.
 *
 * @since 0.1.0
 * @category errors
 */
export class StepFailed extends Schema.TaggedError<StepFailed>()("StepFailed", {
  step: Schema.String,
  reason: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `sync step ${this.step} failed (${this.reason}): ${this.detail}`
  }

  /**
   * The `StepFailed` of `step` for a tagged error.
   *
   * @since 0.1.0
   */
  static of(step: string): (error: { readonly _tag: string; readonly message: string }) => StepFailed {
    return (error) => new StepFailed({ step, reason: error._tag, detail: sanitizeDetail(error.message) })
  }
}

/**
 * How an execution ends when it fails: Batch's `ERROR` (`ExportFailed`), or a step that failed.
 *
 * @since 0.1.0
 * @category errors
 */
export const ExportSyncError = Schema.Union(ExportError.ExportFailed, StepFailed)

/**
 * @since 0.1.0
 * @category errors
 */
export type ExportSyncError = typeof ExportSyncError.Type

/**
 * The workflow. Run it with `ExportSync.execute(payload)` over a `WorkflowEngine` where {@link layer} is
 * registered.
 *
 * @since 0.1.0
 * @category workflows
 */
export const ExportSync = Workflow.make({
  name: "batch-export/ExportSync",
  payload: Payload.fields,
  success: Result,
  error: ExportSyncError,
  // JSON keeps the three apart whatever characters the names hold
  idempotencyKey: ({ definition, project, slot }) => JSON.stringify([project, definition, slot])
})

/**
 * The Batch client of each project the workflow may sync, by the payload's project name. Each client holds
 * its project's keys; an unknown name fails the execution with `StepFailed` (reason `UnknownProject`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientsService {
  readonly client: (project: string) => Option.Option<ExportsClient.Service>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Clients extends Context.Tag("@batch-export/sync/ExportSync/Clients")<Clients, ClientsService>() {}

/**
 * Every project name to the one `ExportsClient` in context (one Batch project).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient: Layer.Layer<Clients, never, ExportsClient.ExportsClient> = Layer.effect(
  Clients,
  Effect.map(ExportsClient.ExportsClient, (client) => Clients.of({ client: () => Option.some(client) }))
)

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * A fixed wait between two looks at the export, at least 1 second (Batch rate-limits its API). Default:
   * `ExportsClient.defaultPollSchedule` (5 s, growing by 1.5× up to 1 minute).
   */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** How long after its creation the export may take to succeed. Default: 2 hours. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Waits up to this long sleep inside the process, as an activity (a restart sleeps that wait again from
   * its start); longer ones are the engine's durable clocks: stored with their wake-up time, the execution
   * suspended (holding no fiber) and resumed by the engine, also after a restart. Default: `DurableClock`'s
   * 60 seconds; `0` makes every wait durable.
   */
  readonly inMemoryThreshold?: Duration.DurationInput | undefined
  /**
   * How many parts this process loads at once, across all its executions (default: no bound). A cluster runner
   * sets it: the cluster runs every execution whose shard it holds at once, and a machine's bandwidth, CPU and
   * database connections are what is shared; more runners then load more parts at once.
   */
  readonly concurrentLoads?: number | undefined
  /**
   * Told each time this process starts running an execution (its first start, or a resume after a restart, a
   * durable wait or a runner's death) and when it ends here with a result (not when it is suspended or
   * interrupted): a cluster runner reports what it runs with it.
   */
  readonly onExecution?: ((event: Execution) => Effect.Effect<void>) | undefined
}

/**
 * What {@link Options.onExecution} is told.
 *
 * @since 0.1.0
 * @category models
 */
export type Execution =
  | { readonly _tag: "Running"; readonly executionId: string; readonly payload: Payload }
  | {
      readonly _tag: "Ended"
      readonly executionId: string
      readonly payload: Payload
      readonly result: Either.Either<Result, ExportSyncError>
    }

/**
 * Registers the workflow with the engine in context. Its steps use the {@link Clients} and the `Sink`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<never, ClientError.InvalidArgument, WorkflowEngine | Sink.Sink | Clients> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const pollInterval =
        options?.pollInterval === undefined
          ? undefined
          : yield* argument("pollInterval", BatchConfig.checks.pollInterval(options.pollInterval))
      const timeout = yield* argument(
        "timeout",
        BatchConfig.checks.duration({ positive: true })(options?.timeout ?? "2 hours")
      )
      const inMemoryThreshold =
        options?.inMemoryThreshold === undefined
          ? undefined
          : yield* argument(
              "inMemoryThreshold",
              BatchConfig.checks.duration({ positive: false })(options.inMemoryThreshold)
            )
      const concurrentLoads = options?.concurrentLoads
      if (concurrentLoads !== undefined && !(Number.isInteger(concurrentLoads) && concurrentLoads >= 1)) {
        return yield* new ClientError.InvalidArgument({
          argument: "concurrentLoads",
          detail: `a whole number of parts, at least 1, not ${concurrentLoads}`
        })
      }
      const loads = concurrentLoads === undefined ? undefined : yield* Effect.makeSemaphore(concurrentLoads)
      const tell = options?.onExecution ?? (() => Effect.void)
      return ExportSync.toLayer((payload, executionId) =>
        Effect.zipRight(
          tell({ _tag: "Running", executionId, payload }),
          Steps.run(payload, executionId, { pollInterval, timeout, inMemoryThreshold, loads }).pipe(
            Effect.tapBoth({
              onFailure: (error) => tell({ _tag: "Ended", executionId, payload, result: Either.left(error) }),
              onSuccess: (result) => tell({ _tag: "Ended", executionId, payload, result: Either.right(result) })
            })
          )
        )
      )
    })
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface EngineOptions {
  /**
   * Tunes the runner, e.g. `entityMessagePollInterval`: how often stored messages and clocks are looked at
   * (10 s by default).
   */
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/**
 * The durable engine on one machine, without a server: `ClusterWorkflowEngine` over `SingleRunner`, whose
 * messages, replies, clocks and shard locks live in the `SqlClient` given. On Postgres the sink may share it;
 * on SQLite it must be a file of its own (see the module header): use {@link layerEngineSqlite}. `Sharding` is
 * provided too, for `ClusterCron` and other entities on the same runner.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEngine = (
  options?: EngineOptions
): Layer.Layer<WorkflowEngine | Sharding.Sharding, SinkError | ConfigError.ConfigError, SqlClient.SqlClient> =>
  Layer.provideMerge(
    ClusterWorkflowEngine.layer,
    SingleRunner.layer({ runnerStorage: "sql", shardingConfig: options?.shardingConfig })
  ).pipe(
    // the runner's other services (its storage, its peers) stay inside
    Layer.map((context) =>
      Context.make(WorkflowEngine, Context.get(context, WorkflowEngine)).pipe(
        Context.add(Sharding.Sharding, Context.get(context, Sharding.Sharding))
      )
    ),
    // SingleRunner dies when its storage cannot be set up (a read-only file, a user without CREATE): typed here
    Layer.catchAllCause((cause) =>
      Option.match(Cause.dieOption(cause), {
        onNone: (): Layer.Layer<WorkflowEngine | Sharding.Sharding, SinkError | ConfigError.ConfigError> =>
          Layer.failCause(cause),
        onSome: (defect): Layer.Layer<WorkflowEngine | Sharding.Sharding, SinkError | ConfigError.ConfigError> =>
          Layer.fail(SinkError.fromUnknown("engine")(defect))
      })
    )
  )

/**
 * {@link layerEngine} on its own SQLite file (`filename`; keep it apart from the sink's, see the module
 * header).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEngineSqlite = (
  options: EngineOptions & { readonly filename: string }
): Layer.Layer<WorkflowEngine | Sharding.Sharding, SinkError | ConfigError.ConfigError> =>
  layerEngine(options).pipe(Layer.provide(Database.layerSqlite({ filename: options.filename })))

/**
 * {@link layerEngine} on a Postgres database of its own pool (`Database.layerPg`'s options). To share one pool
 * with the sink, provide {@link layerEngine} and the sink with the same `Database.layerPg` instead.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEnginePg = (
  options: EngineOptions & Database.PgOptions
): Layer.Layer<WorkflowEngine | Sharding.Sharding, SinkError | ConfigError.ConfigError> =>
  layerEngine(options).pipe(Layer.provide(Database.layerPg(options)))

const argument = <A>(name: string, checked: Either.Either<A, string>) =>
  Either.match(checked, {
    onLeft: (detail) => Effect.fail(new ClientError.InvalidArgument({ argument: name, detail })),
    onRight: Effect.succeed
  })
