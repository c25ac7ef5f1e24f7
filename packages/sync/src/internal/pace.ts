/**
 * The pace of each project's Batch API requests, cluster-wide: a project's requests start at most
 * `requestsPerSecond` per second (spaced, no burst beyond one), however many runners send them.
 *
 * Why a cluster-wide limiter and not a project's executions pinned to one shard: the cluster places a workflow
 * execution by hashing its execution id (`ClusterWorkflowEngine`), so one project's executions spread over the
 * runners. That spread is wanted for what they mostly do, downloading parts from storage (which Batch does not
 * rate-limit); what Batch limits, per project, is the API calls. So each API request of a project takes a permit
 * from one place in the cluster: the entity `batch-export/ProjectPace` whose id is the project's name (one
 * instance per project, on the runner holding its shard). Storage requests take none.
 *
 * `take` reserves the project's next start and answers how long the caller waits for it: a duration rather than
 * an instant, so that runners' clocks need not agree. The reservations live in memory on the runner holding the
 * shard (kept by the entity's layer, so an entity reaped when idle keeps them). The message is not persisted: a
 * permit is worth nothing after a restart. When that runner dies, the shard moves and the pace starts fresh on
 * the next runner (one request may then go early; Batch's 429s remain retried by `ExportsClient`).
 *
 * What a caller sees meanwhile (`Sharding.sendOutgoing`): a non-persisted message to a shard no runner holds,
 * or to a runner that does not answer, is sent again every `sendRetryInterval` until the shard's next runner
 * takes it; on a runner where the entity is not registered it waits for the registration. None of this ends by
 * itself, so a caller waits at most {@link bound} for an answer, then sends its request unpaced with one warning:
 * pacing is a courtesy to Batch, the client's 429 retries remain. The permit's wait counts against the client's
 * request timeout (30 s), so the pacer reserves no start further than {@link bound} ahead: a caller beyond that
 * (more requests queued for the project than its pace lets through in that time) goes unpaced too, and warns.
 */
import * as Entity from "@effect/cluster/Entity"
import type * as Sharding from "@effect/cluster/Sharding"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Rpc from "@effect/rpc/Rpc"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** The longest a request waits for its permit, the pacer's answer and the reserved start each. */
export const bound = Duration.seconds(10)

/** The pacer of one project (entity id: the project's name). */
export const ProjectPace = Entity.make("batch-export/ProjectPace", [
  Rpc.make("take", {
    payload: {
      /** the least time between two starts of the project's requests */
      spacingMillis: Schema.Number,
      /** the furthest start the caller accepts */
      withinMillis: Schema.Number
    },
    /** how long the caller waits before sending; none: no start within `withinMillis`, nothing reserved */
    success: Schema.Option(Schema.Number)
  })
])

/**
 * Registers the pacer on this runner: each runner of the cluster must (a project's shard may be anywhere). The
 * reservations of the projects whose shards this runner holds are kept here.
 */
export const layer: Layer.Layer<never, never, Sharding.Sharding> = Layer.unwrapEffect(
  Effect.sync(() => {
    // project → the earliest start of its next request, on this runner's clock
    const next = new Map<string, number>()
    return ProjectPace.toLayer(
      Effect.map(Entity.CurrentAddress, (address) =>
        ProjectPace.of({
          take: ({ payload }) =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              const start = Math.max(now, next.get(address.entityId) ?? now)
              if (start - now > payload.withinMillis) return Option.none()
              next.set(address.entityId, start + payload.spacingMillis)
              return Option.some(start - now)
            })
        })
      )
    )
  })
)

/**
 * A project's permit: waits until its next request may start, or at most {@link bound} for the pacer's answer
 * (then it warns once and lets the request go).
 */
export type Take = (project: string, requestsPerSecond: number) => Effect.Effect<void>

/** {@link Take} through the cluster's `Sharding`. */
export const make: Effect.Effect<Take, never, Sharding.Sharding> = Effect.map(
  ProjectPace.client,
  (client) => (project, requestsPerSecond) => {
    const unpaced = (why: string) =>
      Effect.logWarning(`${project}: ${why}; the Batch API request is sent unpaced (a 429 is retried)`)
    return client(project)
      .take({ spacingMillis: 1000 / requestsPerSecond, withinMillis: Duration.toMillis(bound) })
      .pipe(
        // disconnected: interrupting a message the cluster cannot deliver waits for its delivery too
        Effect.disconnect,
        Effect.timeout(bound),
        Effect.matchCauseEffect({
          onFailure: () => unpaced(`no answer from the project's pacer within ${Duration.format(bound)}`),
          onSuccess: Option.match({
            onNone: () => unpaced(`more requests queued than its pace lets through in ${Duration.format(bound)}`),
            onSome: (wait) => (wait > 0 ? Effect.sleep(Duration.millis(wait)) : Effect.void)
          })
        })
      )
  }
)

/**
 * `httpClient`, taking `take`'s permit before each request to the API's `origin` (`https://api.batch.com`);
 * requests elsewhere (the signed storage links) go at once.
 */
export const paced = (httpClient: HttpClient.HttpClient, origin: string, take: Effect.Effect<void>) =>
  // at execution, where the request is final: a `mapRequest` of the client's user (the API's base URL) is applied
  // after any `mapRequest` or `tapRequest` of ours
  HttpClient.transform(httpClient, (execute, request) =>
    originOf(request.url) === origin ? Effect.zipRight(take, execute) : execute
  )

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}
