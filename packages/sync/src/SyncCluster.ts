/**
 * Sync across machines: the sync's workflow engine as an `@effect/cluster` cluster on Postgres. Runners share
 * the engine's state (messages, replies, durable clocks, shard locks) in the database and split the
 * executions by shard; when a runner dies, its heartbeat expires, the others take its shards and resume its
 * executions from their last finished step (the steps are those of `ExportSync`, so a part is loaded once).
 * Placement, leases and failover are the cluster's; nothing here coordinates.
 *
 * Three kinds of node, all over the same database:
 * - a runner ({@link layerRunner}, the CLI's `batch-export runner`): listens for its peers on `listen`, is
 *   reached at `advertise`, and executes the shards of group {@link workGroup} it holds;
 * - a client ({@link layerClient}, the CLI's `sync` when runners are up): holds no shard, hands executions to
 *   the runners through the database and looks at their results;
 * - a watch node (`sync --watch`): a runner that also holds the shards of group {@link watchGroup}, where the
 *   `ClusterCron`s live, so that each cron occurrence fires once across every watch node.
 *
 * Every node must use the same number of shards per group (a shard is `hash(execution id) mod shards`):
 * {@link layerRunner} and {@link layerClient} record it in the database on first start (`batch_cluster`) and
 * fail with a {@link ClusterError} when started with another.
 *
 * The cluster's own configuration reader (`ShardingConfig.layerFromEnv`) is given every setting, so that
 * variables such as `HOST` or `PORT` set for something else do not move a runner.
 *
 * @since 0.1.0
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import { RunnerAddress } from "@effect/cluster/RunnerAddress"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import type * as SocketServer from "@effect/platform/SocketServer"
import * as SqlClient from "@effect/sql/SqlClient"
import { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import * as Cause from "effect/Cause"
import type * as ConfigError from "effect/ConfigError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Net from "node:net"
import * as Os from "node:os"
import * as SetupLock from "./internal/setupLock.js"
import { sanitizeDetail, SinkError } from "./SinkError.js"

/**
 * The shard group of the sync's executions, durable clocks and project pacers.
 *
 * @since 0.1.0
 * @category constants
 */
export const workGroup = "default"

/**
 * The shard group of the `ClusterCron`s: only watch nodes hold it.
 *
 * @since 0.1.0
 * @category constants
 */
export const watchGroup = "watch"

/**
 * Shards per group when the database has none recorded yet: the cluster's default.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultShards = 300

/**
 * A host and a port.
 *
 * @since 0.1.0
 * @category models
 */
export interface Address {
  readonly host: string
  readonly port: number
}

/**
 * `host:port` (an IPv6 host in brackets: `[::1]:34431`) as an {@link Address}; `None` when it is not one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseAddress = (text: string): Option.Option<Address> => {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim())
  if (match === null) return Option.none()
  const port = Number(match[3])
  return port > 65535 ? Option.none() : Option.some({ host: match[1] ?? match[2] ?? "", port })
}

/**
 * An address as `host:port`.
 *
 * @since 0.1.0
 * @category models
 */
export const formatAddress = (address: Address): string =>
  address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`

/**
 * The cluster could not be joined: the listen address is taken or invalid (`reason: "listen"`), or this node's
 * shard count differs from the one the cluster's database recorded (`reason: "shards"`); or a client found no
 * runner up for too long (`reason: "runners"`, {@link requireRunners}).
 *
 * @since 0.1.0
 * @category errors
 */
export class ClusterError extends Schema.TaggedError<ClusterError>()("ClusterError", {
  reason: Schema.Literal("listen", "shards", "runners"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.reason === "listen" ? `cannot listen: ${this.detail}` : this.detail
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RunnerOptions {
  /** Where to listen for the other nodes. Default `127.0.0.1:0`: a free port, picked at start. */
  readonly listen?: Address | undefined
  /**
   * Where the other nodes reach this one. Default: the listen address with the port picked (the host name
   * when listening on every interface).
   */
  readonly advertise?: Address | undefined
  /** Shards per group; default what the database recorded, else {@link defaultShards}. */
  readonly shards?: number | undefined
  /** Also hold the shards of {@link watchGroup} (a watch node). */
  readonly watch?: boolean | undefined
  /** Told where the runner listens and is reached, once it does (with the port picked). */
  readonly onReady?:
    ((addresses: { readonly listen: Address; readonly advertise: Address }) => Effect.Effect<void>) | undefined
  /** Any other setting of the cluster (tests tune the failover with it). */
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/**
 * How runners are tuned: stored messages and durable clocks are looked at every second (instead of 10 s); a
 * runner's shard locks and heartbeat are refreshed every 3 s and expire after 10 s (instead of 35 s), so that the
 * shards of a runner that died move within about 10 s; a stopping runner gives an execution in flight 5 s before
 * interrupting it (its state is stored, the runner taking the shard goes on from its last finished step); peers
 * are pinged every 10 s.
 *
 * @since 0.1.0
 * @category constants
 */
export const tuning: Partial<ShardingConfig.ShardingConfig["Type"]> = {
  entityMessagePollInterval: "1 second",
  shardLockRefreshInterval: "3 seconds",
  shardLockExpiration: "10 seconds",
  entityTerminationTimeout: "5 seconds",
  runnerHealthCheckInterval: "10 seconds"
}

const freePort = (host: string) =>
  Effect.async<number, ClusterError>((resume) => {
    const server = Net.createServer()
    server.once("error", (error) =>
      resume(Effect.fail(new ClusterError({ reason: "listen", detail: sanitizeDetail(`${host}: ${error.message}`) })))
    )
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resume(Effect.succeed(port)))
    })
  })

const everyInterface = (host: string) => host === "0.0.0.0" || host === "::" || host === ""

/** The addresses a runner listens on and advertises, the port picked when `listen` says 0. */
const addressesOf = (options: RunnerOptions) =>
  Effect.gen(function* () {
    const wanted = options.listen ?? { host: "127.0.0.1", port: 0 }
    const port = wanted.port === 0 ? yield* freePort(wanted.host) : wanted.port
    const listen = { host: wanted.host, port }
    const advertise = options.advertise ?? { host: everyInterface(listen.host) ? Os.hostname() : listen.host, port }
    return { listen, advertise }
  })

/**
 * The shard count of the cluster: recorded by the first node, checked by the others.
 */
const agreeOnShards = (wanted: number | undefined) =>
  Effect.gen(function* () {
    if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= 1 && wanted <= 100_000)) {
      return yield* new ClusterError({
        reason: "shards",
        detail: `shards must be a whole number from 1 to 100000, not ${wanted}`
      })
    }
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS batch_cluster (name TEXT PRIMARY KEY, value TEXT NOT NULL)`
    yield* sql`INSERT INTO batch_cluster (name, value) VALUES ('shards', ${String(wanted ?? defaultShards)})
      ON CONFLICT (name) DO NOTHING`
    const rows = yield* sql<{ value: string }>`SELECT value FROM batch_cluster WHERE name = 'shards'`
    const recorded = Number(rows[0]?.value ?? defaultShards)
    if (wanted !== undefined && wanted !== recorded) {
      return yield* new ClusterError({
        reason: "shards",
        detail:
          `this cluster has ${recorded} shards per group (recorded in its database), not ${wanted}: ` +
          `start every node with the same --shards`
      })
    }
    return recorded
  }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(SinkError.fromUnknown("cluster")(error))))

const configOf = (shards: number, options: RunnerOptions): ShardingConfig.ShardingConfig["Type"] => ({
  ...ShardingConfig.defaults,
  ...tuning,
  ...options.shardingConfig,
  shardsPerGroup: shards,
  availableShardGroups: [workGroup, watchGroup],
  assignedShardGroups: options.watch === true ? [workGroup, watchGroup] : [workGroup]
})

type Provided = WorkflowEngine | Sharding.Sharding

/** Keeps the engine and `Sharding`; the cluster's storage and peers stay inside. */
const engineOnly = <E, R>(layer: Layer.Layer<WorkflowEngine | Sharding.Sharding, E, R>) =>
  Layer.map(layer, (context) =>
    Context.make(WorkflowEngine, Context.get(context, WorkflowEngine)).pipe(
      Context.add(Sharding.Sharding, Context.get(context, Sharding.Sharding))
    )
  )

/**
 * The cluster's storage layers die when the database cannot be reached or set up (a `SinkError` here), and its
 * socket server fails when it cannot listen (a `ClusterError`).
 */
const typedSetup = (
  layer: Layer.Layer<Provided, SocketServer.SocketServerError | ConfigError.ConfigError, SqlClient.SqlClient>
): Layer.Layer<Provided, SetupError, SqlClient.SqlClient> =>
  layer.pipe(
    Layer.mapError((error): SetupError =>
      error._tag === "SocketServerError"
        ? new ClusterError({ reason: "listen", detail: sanitizeDetail(String(error.cause)) })
        : error
    ),
    Layer.catchAllCause((cause) =>
      Option.match(Cause.dieOption(cause), {
        onNone: (): Layer.Layer<Provided, SetupError> => Layer.failCause(cause),
        onSome: (defect): Layer.Layer<Provided, SetupError> => Layer.fail(SinkError.fromUnknown("engine")(defect))
      })
    )
  )

type SetupError = SinkError | ClusterError | ConfigError.ConfigError

/**
 * A runner: listens for its peers, registers in the cluster's database, and executes the shards it is given
 * (of group {@link workGroup}, and {@link watchGroup} for a watch node). Provides the workflow engine (register
 * the sync's workflow with `ExportSync.layer`) and `Sharding` (for `ClusterCron`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRunner = (
  options: RunnerOptions = {}
): Layer.Layer<Provided, SinkError | ClusterError | ConfigError.ConfigError, SqlClient.SqlClient> =>
  joined(
    Effect.gen(function* () {
      const shards = yield* agreeOnShards(options.shards)
      const { advertise, listen } = yield* addressesOf(options)
      const shardingConfig = {
        ...configOf(shards, options),
        runnerAddress: Option.some(RunnerAddress.make(advertise)),
        runnerListenAddress: Option.some(RunnerAddress.make(listen))
      }
      const ready = options.onReady === undefined ? Effect.void : options.onReady({ advertise, listen })
      return typedSetup(
        engineOnly(
          Layer.provideMerge(ClusterWorkflowEngine.layer, NodeClusterSocket.layer({ storage: "sql", shardingConfig }))
        )
      ).pipe(Layer.tap(() => ready))
    })
  )

/**
 * A client of the cluster: holds no shard; `ExportSync.execute` and `poll` go through the database to whichever
 * runner holds the execution's shard.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options: Pick<RunnerOptions, "shards" | "shardingConfig"> = {}
): Layer.Layer<Provided, SinkError | ClusterError | ConfigError.ConfigError, SqlClient.SqlClient> =>
  joined(
    Effect.map(agreeOnShards(options.shards), (shards) =>
      typedSetup(
        engineOnly(
          Layer.provideMerge(
            ClusterWorkflowEngine.layer,
            NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: configOf(shards, options) })
          )
        )
      )
    )
  )

/**
 * Builds a node's layer under the set-up lock (`internal/setupLock.ts`): nodes started at once on a fresh
 * database would otherwise race through the cluster's migrations and all but one fail.
 */
const joined = <E>(
  setup: Effect.Effect<Layer.Layer<Provided, E, SqlClient.SqlClient>, E, SqlClient.SqlClient>
): Layer.Layer<Provided, E | SinkError, SqlClient.SqlClient> =>
  Layer.scopedContext(SetupLock.serialized(Effect.flatMap(setup, Layer.build)))

/** Whether something accepts a TCP connection at the address within a second (a killed runner's port is closed). */
const answers = (address: Address) =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect({ host: address.host, port: address.port })
    const done = (up: boolean) => {
      socket.destroy()
      resume(Effect.succeed(up))
    }
    socket.setTimeout(1000, () => done(false))
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
    return Effect.sync(() => socket.destroy())
  })

/**
 * The runners that are up, as `host:port`: registered in the cluster's database with a recent heartbeat, not
 * marked unhealthy, and accepting a connection at their address (a runner killed a moment ago still has a
 * fresh heartbeat for up to `shardLockExpiration`).
 *
 * @since 0.1.0
 * @category running
 */
export const liveRunners: Effect.Effect<ReadonlyArray<string>, SinkError, SqlClient.SqlClient> = Effect.gen(
  function* () {
    const storage = yield* RunnerStorage.RunnerStorage
    const runners = yield* storage.getRunners
    const up = yield* Effect.filter(
      runners.flatMap(([runner, healthy]) => (healthy ? [runner.address] : [])),
      answers,
      { concurrency: "unbounded" }
    )
    return up.map(formatAddress)
  }
).pipe(
  Effect.provide(SqlRunnerStorage.layer.pipe(Layer.provide(ShardingConfig.layer(configOf(defaultShards, {}))))),
  Effect.catchAll((error) => Effect.fail(SinkError.fromUnknown("cluster")(error)))
)

/**
 * For a client: fails with a `ClusterError` (`reason: "runners"`) once no runner has been up for `grace`
 * (default 30 s), looking every `every` (default 2 s); never succeeds. A client's executions wait in the
 * database for a runner: raced with them, this ends a wait that nothing would end (every runner stopped or was
 * killed, and none came back).
 *
 * @since 0.1.0
 * @category running
 */
export const requireRunners = (
  options: {
    readonly grace?: Duration.DurationInput | undefined
    readonly every?: Duration.DurationInput | undefined
  } = {}
): Effect.Effect<never, ClusterError | SinkError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const grace = Duration.toMillis(options.grace ?? "30 seconds")
    let since: number | undefined
    for (;;) {
      const now = yield* Clock.currentTimeMillis
      const up = yield* liveRunners
      since = up.length > 0 ? undefined : (since ?? now)
      if (since !== undefined && now - since >= grace) {
        return yield* new ClusterError({
          reason: "runners",
          detail:
            `no runner of the cluster has been up for ${Math.round(grace / 1000)} s: the executions wait in the ` +
            `database for the next runner (start \`batch-export runner\`, or run sync again with none up to run them here)`
        })
      }
      yield* Effect.sleep(options.every ?? "2 seconds")
    }
  })
