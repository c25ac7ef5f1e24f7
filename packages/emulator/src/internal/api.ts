/**
 * The API origin: `/{version}/exports/download`, `/exports/view`, `/exports/list` and `/profiles/export`.
 *
 * @internal
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Dataset from "../Dataset.js"
import type { Route } from "../Emulator.js"
import type { EmulatorContext } from "./context.js"
import { validate } from "./createRequest.js"
import { apiError, empty, json, type Out, render, replacement } from "./response.js"
import { sign } from "./signing.js"
import type { ExportEntry } from "./store.js"

const VERSION = /^\d+\.\d+$/
const FILE_ID = /^file_[a-z0-9]+$/
const EXPORT_ID = /^export_[a-z0-9]+$/

const AUTHENTICATION_INVALID = () =>
  apiError(401, "AUTHENTICATION_INVALID", "The Rest API Key is not valid for this project")

const routeNotFound = () => apiError(404, "ROUTE_NOT_FOUND", "This route does not exist")

const missing = (name: string) => apiError(400, "MISSING_PARAMETER", `Missing required query parameter: ${name}`)

interface Call {
  readonly request: HttpServerRequest.HttpServerRequest
  readonly url: URL
  readonly version: string
  readonly now: number
}

const authenticate = (ctx: EmulatorContext, request: HttpServerRequest.HttpServerRequest): Out | undefined => {
  const authorization = /^\s*bearer\s+(\S+)\s*$/i.exec(request.headers["authorization"] ?? "")
  if (authorization === null || authorization[1] !== ctx.restApiKey) return AUTHENTICATION_INVALID()
  const project = request.headers["x-batch-project"]
  if (project === undefined || project.trim() === "") {
    return apiError(400, "MISSING_PARAMETER", "Missing required header: X-Batch-Project")
  }
  if (project.trim() !== ctx.projectKey) return AUTHENTICATION_INVALID()
  return undefined
}

/** The export object of `/exports/view` and `/exports/list`, fields in the order of Batch's example. */
const exportJson = (ctx: EmulatorContext, entry: ExportEntry, version: string): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    id: entry.id,
    request_date: Dataset.formatDate(entry.requestDate),
    scope: entry.scope,
    status: entry.status,
    request: entry.request
  }
  if (entry.status === "SUCCESS") {
    const parts = ctx.store.parts(entry)
    if (entry.startDate !== undefined) out.start_date = Dataset.formatDate(entry.startDate)
    if (entry.completionDate !== undefined) out.completion_date = Dataset.formatDate(entry.completionDate)
    out.files = entry.fileIds.map((id, i) => ({
      id,
      part: i + 1,
      size: parts[i]!.size,
      url: `${ctx.apiUrl}/${version}/exports/download?id=${id}`
    }))
  }
  return out
}

const download = (ctx: EmulatorContext, { now, url }: Call): Out => {
  const id = url.searchParams.get("id")
  if (id === null || id === "") return missing("id")
  if (!FILE_ID.test(id)) {
    return apiError(
      400,
      "MALFORMED_PARAMETER",
      id.startsWith("export_")
        ? `Malformed parameter id: expected a file id (file_…), got an export id; use files[].id from /exports/view`
        : `Malformed parameter id: expected a file id such as file_etxhwckcfc05egew7y97bdjtc75p7g8b`
    )
  }
  const file = ctx.store.files.get(id)
  if (file === undefined) return apiError(404, "NOT_FOUND", `Export file ${id} not found`)
  const entry = ctx.store.exportsById.get(file.exportId)!
  if (entry.status !== "SUCCESS") {
    return apiError(
      409,
      "EXPORT_NOT_READY",
      `Export ${entry.id} is ${entry.status}; files can be downloaded once it is SUCCESS`
    )
  }
  const expires = Math.floor(now / 1000) + ctx.linkTtlSeconds
  if (ctx.location !== undefined) {
    return empty(307, { location: ctx.location({ id, exportId: file.exportId, part: file.part }, expires) })
  }
  const signature = sign(ctx.secret, id, expires)
  return empty(307, { location: `${ctx.storageUrl}/files/${id}?expires=${expires}&signature=${signature}` })
}

const view = (ctx: EmulatorContext, { now, url, version }: Call): Out => {
  const id = url.searchParams.get("id")
  if (id === null || id === "") return missing("id")
  if (!EXPORT_ID.test(id)) {
    return apiError(
      400,
      "MALFORMED_PARAMETER",
      `Malformed parameter id: expected an export id such as export_nvctr8tgdjf7bppacxxt2aeemnjehfmw`
    )
  }
  const entry = ctx.store.exportsById.get(id)
  if (entry === undefined) return apiError(404, "NOT_FOUND", `Export ${id} not found`)
  ctx.store.view(entry, now)
  return json(200, exportJson(ctx, entry, version))
}

const encodeCursor = (entry: ExportEntry): string =>
  Buffer.from(`${entry.id}@${Dataset.formatDate(entry.requestDate)}`, "utf8").toString("base64")

const list = (ctx: EmulatorContext, { url, version }: Call): Out => {
  const limitParam = url.searchParams.get("limit")
  let limit = 10
  if (limitParam !== null) {
    if (!/^\d+$/.test(limitParam) || Number(limitParam) < 1 || Number(limitParam) > 100) {
      return apiError(400, "MALFORMED_PARAMETER", "Malformed parameter limit: expected an integer from 1 to 100")
    }
    limit = Number(limitParam)
  }
  const newestFirst = [...ctx.store.exports].reverse()
  let start = 0
  const from = url.searchParams.get("from")
  if (from !== null) {
    const decoded = Buffer.from(from, "base64").toString("utf8")
    const id = decoded.split("@")[0] ?? ""
    start = newestFirst.findIndex((entry) => entry.id === id)
    if (from === "" || start < 0 || encodeCursor(newestFirst[start]!) !== from) {
      return apiError(400, "MALFORMED_PARAMETER", "Malformed parameter from: use next_from from a previous response")
    }
  }
  const page = newestFirst.slice(start, start + limit)
  const next = newestFirst[start + limit]
  return json(200, {
    exports: page.map((entry) => exportJson(ctx, entry, version)),
    count: page.length,
    has_more: next !== undefined,
    ...(next === undefined ? {} : { next_from: encodeCursor(next) })
  })
}

const create = (ctx: EmulatorContext, { now, request }: Call): Effect.Effect<Out> =>
  Effect.gen(function* () {
    const contentType = request.headers["content-type"] ?? ""
    if (!/^application\/json\b/i.test(contentType.trim())) {
      return apiError(
        400,
        "MALFORMED_PARAMETER",
        "The request body must be JSON, sent with Content-Type: application/json"
      )
    }
    const text = yield* Effect.either(request.text)
    if (Either.isLeft(text)) return apiError(400, "MALFORMED_PARAMETER", "The request body could not be read")
    let body: unknown
    try {
      body = JSON.parse(text.right)
    } catch {
      return apiError(400, "MALFORMED_PARAMETER", "The request body is not valid JSON")
    }
    const valid = validate(body, now)
    if (Either.isLeft(valid)) return apiError(400, "MALFORMED_PARAMETER", valid.left)
    const entry = ctx.store.add({
      exportType: valid.right.exportType,
      request: body,
      requestDate: now,
      status: valid.right.segment === "ERROR" ? "ERROR" : "SUCCESS",
      progressive: true,
      parts: ctx.store.config.partsPerExport,
      projection: valid.right.projection,
      window: valid.right.window
    })
    return json(202, { id: entry.id })
  })

const handle = (
  ctx: EmulatorContext,
  route: Route,
  handler: (ctx: EmulatorContext, call: Call) => Out | Effect.Effect<Out>
) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const { version = "" } = yield* HttpRouter.params
    if (!VERSION.test(version)) return yield* render(routeNotFound())
    const reply = ctx.control.take(route)
    if (reply?._tag === "Status" || reply?._tag === "Redirect") return yield* render(replacement("api", reply))
    const denied = authenticate(ctx, request)
    if (denied !== undefined) return yield* render(denied, reply)
    const now = yield* Clock.currentTimeMillis
    const url = new URL(request.url, "http://emulator.invalid")
    const out = handler(ctx, { request, url, version, now })
    return yield* render(Effect.isEffect(out) ? yield* out : out, reply)
  })

/** @internal */
export const app = (
  ctx: EmulatorContext
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> => {
  const router = HttpRouter.empty.pipe(
    HttpRouter.get("/:version/exports/download", handle(ctx, "download", download)),
    HttpRouter.get("/:version/exports/view", handle(ctx, "view", view)),
    HttpRouter.get("/:version/exports/list", handle(ctx, "list", list)),
    HttpRouter.post("/:version/profiles/export", handle(ctx, "create", create))
  )
  return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    ctx.control.record("api", request)
    return router.pipe(Effect.catchAll(() => render(routeNotFound())))
  })
}
