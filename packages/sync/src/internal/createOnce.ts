/**
 * The sync workflow's create step: at most one export on Batch per run, even when the step runs again (the
 * process died after posting, or the answer to the POST was lost and the step retries).
 *
 * Batch's `POST /profiles/export` takes no idempotency key, so the step leaves its own trail in the sink's run
 * row: `beginCreate` marks, before the POST, that a create started; the export id is recorded as soon as Batch
 * answers. A later attempt that finds an id uses it; one that finds only the mark lists the project's exports
 * and adopts one whose echoed `request` equals ours and whose `request_date` is no earlier than the first
 * attempt minus {@link clockSkew}; only when none is found does it post.
 */
import type { CreateExport, Export } from "@batch-export/core"
import type { ExportsClient } from "@batch-export/node"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import type * as Sink from "../Sink.js"
import type { SinkError } from "../SinkError.js"

/**
 * How far before our first attempt an export may be dated and still be ours: Batch's `request_date` has
 * whole seconds and comes from Batch's clock, not ours.
 */
export const clockSkew = Duration.minutes(5)

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i

/**
 * JSON values compared as Batch may echo them: object keys in any order, arrays in order, dates as instants
 * (`…T00:00:00Z` and `…T00:00:00.000Z` are one date).
 */
export const sameJson = (a: unknown, b: unknown): boolean => {
  if (typeof a === "string" && typeof b === "string") {
    return a === b || (RFC3339.test(a) && RFC3339.test(b) && Date.parse(a) === Date.parse(b))
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  }
  if (Predicate.isRecord(a) && Predicate.isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined)
    const kb = Object.keys(b).filter((k) => b[k] !== undefined)
    return ka.length === kb.length && ka.every((k) => sameJson(a[k], b[k]))
  }
  return a === b
}

/** The earliest export of the list that answers `body` and was requested at `since` or later. */
export const findCreated = (
  client: ExportsClient.Service,
  body: CreateExport.CreateExportRequestInput,
  since: Date
): Effect.Effect<Option.Option<Export.Export>, ExportsClient.ApiCallError> => {
  const from = since.getTime() - Duration.toMillis(clockSkew)
  return client.listAll({ pageSize: 100 }).pipe(
    Stream.filter(
      (exp) => exp.requestDate !== undefined && exp.requestDate.epochMillis >= from && sameJson(exp.request, body)
    ),
    // the earliest, in constant memory whatever the list holds
    Stream.runFold(Option.none<Export.Export>(), (earliest, exp) =>
      Option.isSome(earliest) && (earliest.value.requestDate?.epochMillis ?? 0) <= (exp.requestDate?.epochMillis ?? 0)
        ? earliest
        : Option.some(exp)
    )
  )
}

/** Where the export came from: recorded by an earlier attempt, found on Batch, or created now. */
export type Origin = "recorded" | "found" | "created"

/**
 * The export of run `runId`: the recorded one, one an earlier attempt created (found on Batch), or a new one.
 */
export const createOnce = (
  sink: Sink.Service,
  client: ExportsClient.Service,
  runId: string,
  body: CreateExport.CreateExportRequestInput
): Effect.Effect<{ readonly exportId: string; readonly origin: Origin }, ExportsClient.ApiCallError | SinkError> =>
  Effect.gen(function* () {
    const intent = yield* sink.beginCreate(runId)
    if (Option.isSome(intent.exportId)) return { exportId: intent.exportId.value, origin: "recorded" as const }
    if (Option.isSome(intent.requestedAt)) {
      const found = yield* findCreated(client, body, intent.requestedAt.value)
      if (Option.isSome(found)) {
        yield* sink.recordExport(runId, found.value.id)
        yield* Effect.logInfo("adopted the export an earlier attempt created").pipe(
          Effect.annotateLogs("batch.export_id", found.value.id)
        )
        return { exportId: found.value.id, origin: "found" as const }
      }
    }
    const exportId = yield* client.create(body)
    yield* sink.recordExport(runId, exportId)
    return { exportId, origin: "created" as const }
  })
