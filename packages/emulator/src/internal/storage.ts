/**
 * The storage origin: `GET /files/<fileId>?expires=…&signature=…`, S3-like. It never looks at credentials other
 * than the signed query. `GET /redirected/<rest>` redirects to `/<rest>`, for scripted redirect chains.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import type { EmulatorContext } from "./context.js"
import * as Range from "./range.js"
import * as Dataset from "../Dataset.js"
import { type Alteration, CHUNK_SIZE, empty, type Lazy, type Out, render, replacement, xmlError } from "./response.js"
import { verify } from "./signing.js"

const etags = new WeakMap<Dataset.Part, string>()

/** The MD5 of the bytes, like S3; a repeated part hashes its block and size (S3's multipart ETags are not MD5s either). */
const etagOf = (part: Dataset.Part): string => {
  let etag = etags.get(part)
  if (etag === undefined) {
    const md5 = createHash("md5").update(part.block).digest("hex")
    etag = part.size === part.block.length ? `"${md5}"` : `"${md5}-${part.size}"`
    etags.set(part, etag)
  }
  return etag
}

const content = (part: Dataset.Part, start: number, end: number): Lazy => ({
  length: end - start,
  slices: (from, to) => Dataset.slices(part, start + from, start + to, CHUNK_SIZE)
})

const serve = (
  ctx: EmulatorContext,
  request: HttpServerRequest.HttpServerRequest,
  url: URL,
  now: number,
  reply: Alteration | undefined
): Out => {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return xmlError(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", {
      allow: "GET, HEAD"
    })
  }
  const match = /^\/files\/([^/]+)$/.exec(url.pathname)
  if (match === null) return xmlError(404, "NoSuchKey", "The specified key does not exist.")
  const fileId = decodeURIComponent(match[1]!)
  if (ctx.storageRejectsAuthorization && request.headers["authorization"] !== undefined) {
    return xmlError(
      400,
      "InvalidArgument",
      "Only one auth mechanism allowed; only the signed query parameters or the Authorization header should be specified"
    )
  }
  const expires = url.searchParams.get("expires")
  const signature = url.searchParams.get("signature")
  if (expires === null || signature === null) {
    return xmlError(403, "AccessDenied", "Query-string authentication requires the expires and signature parameters")
  }
  if (!verify(ctx.secret, fileId, expires, signature)) {
    return xmlError(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided."
    )
  }
  if (Math.floor(now / 1000) > Number(expires)) return xmlError(403, "AccessDenied", "Request has expired")
  const storage = reply?._tag === "Storage" ? reply : undefined
  const part = ctx.store.file(fileId, storage?.changedContent === true)
  if (part === undefined) return xmlError(404, "NoSuchKey", "The specified key does not exist.")
  const etag = etagOf(part)
  const honoursRange = !storage?.noRange && !storage?.gzip
  const headers = {
    "content-type": "application/x-ndjson",
    "accept-ranges": storage?.noRange ? "none" : "bytes",
    etag
  }
  const ifRange = request.headers["if-range"]
  const asked =
    honoursRange && (ifRange === undefined || ifRange === etag || storage?.ignoreIfRange === true)
      ? Range.parse(request.headers["range"], part.size)
      : ({ _tag: "Full" } as const)
  const range = storage?.rangeStart === undefined ? asked : Range.startingAt(asked, storage.rangeStart, part.size)
  switch (range._tag) {
    case "Full":
      return { status: 200, headers, body: content(part, 0, part.size) }
    case "Partial":
      return {
        status: 206,
        headers: { ...headers, "content-range": `bytes ${range.start}-${range.end}/${part.size}` },
        body: content(part, range.start, range.end + 1)
      }
    case "Unsatisfiable":
      return xmlError(416, "InvalidRange", "The requested range is not satisfiable", {
        "content-range": `bytes */${part.size}`,
        "accept-ranges": "bytes"
      })
  }
}

/** `GET /redirected/<rest>?<query>`: a 302 to `<storageUrl>/<rest>?<query>`, for scripted redirect chains. */
const REDIRECTED = /^\/redirected(\/.*)$/

/** @internal */
export const app = (
  ctx: EmulatorContext
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = ctx.control.record("storage", request)
    const redirected = REDIRECTED.exec(url.pathname)
    if (redirected !== null) {
      // infrastructure, not the object: consumes no scripted reply
      return yield* render(empty(302, { location: `${ctx.storageUrl}${redirected[1]}${url.search}` }))
    }
    const reply = ctx.control.take("storage")
    if (reply?._tag === "Status" || reply?._tag === "Redirect") return yield* render(replacement("storage", reply))
    const now = yield* Clock.currentTimeMillis
    return yield* render(serve(ctx, request, url, now, reply), reply)
  })
