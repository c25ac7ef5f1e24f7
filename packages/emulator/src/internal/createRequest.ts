/**
 * Validation of `POST /{version}/profiles/export` bodies, with messages that say what to fix.
 *
 * @internal
 */
import * as Either from "effect/Either"
import type * as Dataset from "../Dataset.js"

/** @internal */
export interface CreateRequest {
  readonly exportType: Dataset.ExportType
  readonly projection?: Dataset.Projection | undefined
  readonly window?: Dataset.Window | undefined
  readonly segment?: string | undefined
}

const DAY = 86_400_000
const LOOKBACK = 90 * DAY
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i
const TYPES: ReadonlyArray<Dataset.ExportType> = ["ATTRIBUTES", "EVENTS", "REACHABILITY"]

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const stringArray = (body: Record<string, unknown>, key: string): Either.Either<Array<string> | undefined, string> => {
  const value = body[key]
  if (value === undefined) return Either.right(undefined)
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string" && item.length > 0)) {
    return Either.left(`${key} must be an array of non-empty strings`)
  }
  if (value.length === 0) return Either.left(`${key} must contain at least one item`)
  return Either.right(value as Array<string>)
}

const date = (body: Record<string, unknown>, key: string): Either.Either<number | undefined, string> => {
  const value = body[key]
  if (value === undefined) return Either.right(undefined)
  if (typeof value !== "string" || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    return Either.left(`${key} must be an RFC 3339 date such as "2024-02-28T16:28:42Z"`)
  }
  return Either.right(Date.parse(value))
}

const segmentOf = (body: Record<string, unknown>): Either.Either<string | undefined, string> => {
  const filter = body.filter
  if (filter === undefined) return Either.right(undefined)
  if (!isRecord(filter)) return Either.left(`filter must be an object such as {"segment":"MY-SEGMENT-CODE"}`)
  const segment = filter.segment
  if (segment === undefined) return Either.right(undefined)
  if (typeof segment !== "string" || segment.length === 0)
    return Either.left("filter.segment must be a non-empty string")
  return Either.right(segment)
}

/** @internal */
export const validate = (body: unknown, now: number): Either.Either<CreateRequest, string> =>
  Either.gen(function* () {
    if (!isRecord(body)) return yield* Either.left("The request body must be a JSON object")
    const exportType = body.export_type
    if (exportType === undefined) return yield* Either.left(`export_type is required (one of ${TYPES.join(", ")})`)
    if (typeof exportType !== "string" || !TYPES.includes(exportType as Dataset.ExportType)) {
      return yield* Either.left(`export_type must be one of ${TYPES.join(", ")}, got ${JSON.stringify(exportType)}`)
    }
    const segment = yield* segmentOf(body)
    if (exportType === "ATTRIBUTES") {
      const attributes = yield* stringArray(body, "attributes")
      const identifiers = yield* stringArray(body, "identifiers")
      if (attributes === undefined && identifiers === undefined) {
        return yield* Either.left("You must specify at least one of attributes, identifiers or both")
      }
      return { exportType, projection: { attributes, identifiers }, segment }
    }
    if (exportType === "EVENTS") yield* stringArray(body, "events")
    const from = yield* date(body, "from")
    const to = yield* date(body, "to")
    if (from !== undefined && to !== undefined && from > to) return yield* Either.left("from must not be after to")
    if (from !== undefined && from < now - LOOKBACK) {
      return yield* Either.left("from is older than the lookback period of 90 days")
    }
    const end = to ?? now
    const window = { from: from ?? end - 30 * DAY, to: end }
    return { exportType: exportType as Dataset.ExportType, window, segment }
  })
