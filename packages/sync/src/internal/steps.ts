/**
 * The body of the `ExportSync` workflow and its activities (see the `ExportSync` module header for what each
 * step guarantees). Everything with a side effect is inside an activity; the body between them only decides,
 * from activity results, so that a replay after a restart takes the same path.
 */
import { CreateExport, ExportError } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as ExportSync from "../ExportSync.js"
import { Clients, StepFailed } from "../ExportSync.js"
import * as Sink from "../Sink.js"
import { SinkError } from "../SinkError.js"
import { createOnce } from "./createOnce.js"

export interface Settings {
  /** Bounds the parts this process loads at once, across its executions (none: unbounded). */
  readonly loads: Effect.Semaphore | undefined
  readonly pollInterval: Duration.Duration | undefined
  readonly timeout: Duration.Duration
  readonly inMemoryThreshold: Duration.Duration | undefined
}

const Created = Schema.Struct({ exportId: Schema.String, at: Schema.Number })

const File = Schema.Struct({ id: Schema.String, part: Schema.Number, size: Schema.Number })
type File = typeof File.Type

const Polled = Schema.Struct({ status: Schema.String, files: Schema.Array(File), at: Schema.Number })

/** Failures worth another attempt of the create step: what the client does not retry on a POST. */
const retryableCreate = (error: { readonly _tag: string }) =>
  error._tag === "ServiceUnavailable" ||
  error._tag === "TooManyRequests" ||
  error._tag === "TransportError" ||
  error._tag === "RequestTimeout"

const createRetries = Schedule.exponential("1 second", 2).pipe(Schedule.intersect(Schedule.recurs(4)))

/**
 * A database that is away (down, restarting, refusing connections) or busy: each step that writes to the sink
 * tries again, 1 s doubling, 6 times (about a minute in all), before it fails with the `SinkError`. Each attempt
 * is a whole transaction, so a retry never finds half of an earlier one.
 */
export const databaseRetries = Schedule.exponential("1 second", 2).pipe(Schedule.intersect(Schedule.recurs(6)))

const isTransient = (error: { readonly _tag: string }): boolean => error instanceof SinkError && error.transient

const retryDatabase = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.retry(effect, { schedule: databaseRetries, while: isTransient })

/** The wait after the `n`-th look (1-based): the fixed interval, or the client's default schedule's `n`-th delay. */
const pollDelay = (settings: Settings, n: number): Effect.Effect<Duration.Duration> =>
  settings.pollInterval !== undefined
    ? Effect.succeed(settings.pollInterval)
    : Effect.map(
        Schedule.run(
          Schedule.delays(ExportsClient.defaultPollSchedule),
          0,
          Array.from({ length: n }, () => undefined)
        ),
        (delays) => Option.getOrElse(Chunk.last(delays), () => Duration.minutes(1))
      )

export const run = (payload: ExportSync.Payload, runId: string, settings: Settings) => {
  const { definition, project, request } = payload
  const type = request.export_type
  const window = request.export_type === "ATTRIBUTES" ? undefined : { from: request.from, to: request.to }

  const client = (step: string) =>
    Effect.flatMap(Clients, (clients) =>
      Option.match(clients.client(project), {
        onNone: () =>
          Effect.fail(
            new StepFailed({ step, reason: "UnknownProject", detail: `no Batch client for project ${project}` })
          ),
        onSome: Effect.succeed
      })
    )

  const step = <A, I, R>(name: string, success: Schema.Schema<A, I, never>, execute: Effect.Effect<A, StepFailed, R>) =>
    Activity.make({ name, success, error: StepFailed, execute })

  const start = step(
    "start",
    Schema.Void,
    Effect.gen(function* () {
      const sink = yield* Sink.Sink
      const now = yield* Clock.currentTimeMillis
      yield* sink
        .recordRun({
          runId,
          project,
          definition,
          type,
          startedAt: new Date(now),
          windowFrom: window?.from === undefined ? undefined : new Date(window.from.epochMillis),
          windowTo: window?.to === undefined ? undefined : new Date(window.to.epochMillis)
        })
        .pipe(retryDatabase, Effect.mapError(StepFailed.of("start")))
    })
  )

  const create = step(
    "create",
    Created,
    Effect.gen(function* () {
      const sink = yield* Sink.Sink
      const batch = yield* client("create")
      const body = Schema.encodeSync(CreateExport.CreateExportRequest)(request)
      const created = yield* createOnce(sink, batch, runId, body).pipe(
        Effect.retry({ schedule: createRetries, while: retryableCreate }),
        retryDatabase,
        Effect.mapError(StepFailed.of("create"))
      )
      return { exportId: created.exportId, at: yield* Clock.currentTimeMillis }
    })
  )

  const poll = (n: number, exportId: string) =>
    step(
      `poll-${n}`,
      Polled,
      Effect.gen(function* () {
        const batch = yield* client(`poll-${n}`)
        const exp = yield* batch.view(exportId).pipe(Effect.mapError(StepFailed.of(`poll-${n}`)))
        const files = exp.parts.map((file) => ({ id: file.id, part: file.part, size: file.size }))
        return { status: exp.status, files, at: yield* Clock.currentTimeMillis }
      })
    )

  /** Polls until SUCCESS, sleeping durably between looks. */
  const awaitSuccess = (created: typeof Created.Type) =>
    Effect.gen(function* () {
      const deadline = created.at + Duration.toMillis(settings.timeout)
      for (let n = 1; ; n++) {
        const seen = yield* poll(n, created.exportId)
        if (seen.status === "SUCCESS") return seen.files
        if (seen.status === "ERROR") return yield* new ExportError.ExportFailed({ exportId: created.exportId })
        if (seen.at >= deadline) {
          const timeout = new ExportError.ExportTimeout({
            exportId: created.exportId,
            timeout: settings.timeout,
            lastStatus: seen.status
          })
          return yield* StepFailed.of(`poll-${n}`)(timeout)
        }
        yield* DurableClock.sleep({
          name: `poll-${n}`,
          duration: yield* pollDelay(settings, n),
          inMemoryThreshold: settings.inMemoryThreshold
        })
      }
    })

  const loadPart = (exportId: string, file: File) =>
    step(
      `load-part-${file.part}`,
      Schema.Number,
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        const batch = yield* client(`load-part-${file.part}`)
        return yield* Effect.gen(function* () {
          // the process died after the load committed, before the engine stored this step's result: not again
          const done = yield* sink.loadedPart({ project, exportId, part: file.part })
          if (Option.isSome(done)) return done.value
          const loaded = yield* sink.loadPart(
            { project, exportId, part: file.part, type },
            batch.fileRecords(file.id, { schema: Schema.Unknown })
          )
          return loaded.records
        }).pipe(
          // each attempt holds a permit, a backoff between attempts none
          (attempt) => (settings.loads === undefined ? attempt : settings.loads.withPermits(1)(attempt)),
          retryDatabase,
          Effect.mapError(StepFailed.of(`load-part-${file.part}`))
        )
      })
    )

  const publish = (exportId: string, parts: number) =>
    step(
      "publish",
      Schema.Number,
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        const key = { project, definition, exportId, parts }
        const published =
          type === "ATTRIBUTES" || window?.to === undefined
            ? yield* sink.publishSnapshot(key)
            : yield* sink.publishWindow({ ...key, type, windowEnd: new Date(window.to.epochMillis) })
        return published.records
      }).pipe(retryDatabase, Effect.mapError(StepFailed.of("publish")))
    )

  const finish = (end: Omit<Sink.RunEnd, "finishedAt">) =>
    step(
      "finish",
      Schema.Void,
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        if (end.outcome === "failure" && end.exportId !== undefined) yield* sink.discard(project, end.exportId)
        yield* sink.finishRun(runId, { ...end, finishedAt: new Date(yield* Clock.currentTimeMillis) })
      }).pipe(retryDatabase, Effect.mapError(StepFailed.of("finish")))
    )

  let exportId: string | undefined
  let files: ReadonlyArray<File> = []
  let records = 0
  const bytes = () => files.reduce((sum, file) => sum + file.size, 0)

  const body = Effect.gen(function* () {
    if (type !== "ATTRIBUTES" && window?.to === undefined) {
      return yield* new StepFailed({
        step: "start",
        reason: "InvalidArgument",
        detail: `an ${type} sync needs the request's "to": it becomes the cursor`
      })
    }
    yield* start
    const created = yield* create
    exportId = created.exportId
    files = [...(yield* awaitSuccess(created))].sort((a, b) => a.part - b.part)
    for (const file of files) records += yield* loadPart(created.exportId, file)
    const published = yield* publish(created.exportId, files.length)
    const result = { exportId: created.exportId, parts: files.length, bytes: bytes(), records, published }
    yield* finish({ outcome: "success", exportId: created.exportId, parts: files.length, records, bytes: bytes() })
    return result
  })

  return body.pipe(
    Effect.tapError((error) =>
      finish({
        outcome: "failure",
        exportId,
        parts: files.length,
        records,
        bytes: bytes(),
        error: { tag: error._tag === "StepFailed" ? error.reason : error._tag, message: error.message }
      }).pipe(Effect.ignore)
    )
  )
}
