/**
 * The emulator's own response model (`Out`: status, headers, bytes) and its rendering to an `HttpServerResponse`,
 * including the scripted `DropAfter` / `StallAfter` / `Storage` alterations.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as Http from "node:http"
import { gzipSync } from "node:zlib"
import type * as Reply from "../Reply.js"

/**
 * A body known by its length and produced on demand, so a multi-GiB file is never held whole.
 *
 * @internal
 */
export interface Lazy {
  readonly length: number
  /** the bytes `[start, end)` */
  readonly slices: (start: number, end: number) => IterableIterator<Uint8Array>
}

/** @internal */
export interface Out {
  readonly status: number
  /** lower-case names */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array | Lazy
}

const slice = (body: Uint8Array | Lazy, start: number, end: number): Uint8Array | Lazy =>
  body instanceof Uint8Array
    ? body.subarray(start, end)
    : { length: Math.max(0, end - start), slices: (from, to) => body.slices(start + from, start + to) }

/** The whole body in one array: only for transformations that need it (gzip), which tests use on small files. */
const materialize = (body: Uint8Array | Lazy): Uint8Array => {
  if (body instanceof Uint8Array) return body
  const out = new Uint8Array(body.length)
  let offset = 0
  for (const piece of body.slices(0, body.length)) {
    out.set(piece, offset)
    offset += piece.length
  }
  return out
}

/** @internal */
export const CHUNK_SIZE = 64 * 1024

const encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)

/** @internal */
export const empty = (status: number, headers: Record<string, string> = {}): Out => ({ status, headers, body: EMPTY })

/** @internal */
export const json = (status: number, value: unknown, headers: Record<string, string> = {}): Out => ({
  status,
  headers: { ...headers, "content-type": "application/json" },
  body: encoder.encode(JSON.stringify(value))
})

/** @internal */
export const apiError = (status: number, code: string, message: string): Out =>
  json(status, { error_code: code, error_message: message })

const escapeXml = (value: string): string =>
  value.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!)

/** @internal */
export const xmlError = (status: number, code: string, message: string, headers: Record<string, string> = {}): Out => ({
  status,
  headers: { ...headers, "content-type": "application/xml" },
  body: encoder.encode(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>`
  )
})

const API_DEFAULTS: Record<number, readonly [string, string]> = {
  400: ["MALFORMED_PARAMETER", "The request is malformed"],
  401: ["AUTHENTICATION_INVALID", "The Rest API Key is not valid for this project"],
  403: ["FORBIDDEN", "Forbidden"],
  404: ["NOT_FOUND", "Not found"],
  409: ["CONFLICT", "Conflict"],
  429: ["TOO_MANY_REQUESTS", "Too Many Requests"],
  500: ["SERVER_ERROR", "Unexpected error"],
  503: ["MAINTENANCE", "Batch's services are under maintenance. Please try again later"]
}

const STORAGE_DEFAULTS: Record<number, readonly [string, string]> = {
  400: ["InvalidRequest", "Bad Request"],
  403: ["AccessDenied", "Access Denied"],
  404: ["NoSuchKey", "The specified key does not exist."],
  416: ["InvalidRange", "The requested range is not satisfiable"],
  500: ["InternalError", "We encountered an internal error. Please try again."],
  503: ["SlowDown", "Please reduce your request rate."]
}

/** The response a scripted `Status` reply stands for. @internal */
export const fromStatusReply = (origin: "api" | "storage", reply: Reply.Status): Out => {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value
  const { body, status } = reply
  if (body === undefined) {
    if (status < 400) return empty(status, headers)
    if (origin === "api") {
      const [code, message] = API_DEFAULTS[status] ?? [`HTTP_${status}`, `HTTP error ${status}`]
      return { ...apiError(status, code, message), headers: { "content-type": "application/json", ...headers } }
    }
    const [code, message] = STORAGE_DEFAULTS[status] ?? ["Error", `HTTP error ${status}`]
    return { ...xmlError(status, code, message), headers: { "content-type": "application/xml", ...headers } }
  }
  if (typeof body === "string") {
    return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body: encoder.encode(body) }
  }
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: encoder.encode(JSON.stringify(body))
  }
}

function* pieces(body: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < body.length; offset += CHUNK_SIZE) {
    yield body.subarray(offset, Math.min(body.length, offset + CHUNK_SIZE))
  }
}

/** One piece per pull, produced when the socket asks for it (`fromIterable` would batch thousands of pieces). */
const chunks = (body: Uint8Array | Lazy): Stream.Stream<Uint8Array> =>
  Stream.suspend(() =>
    Stream.fromIteratorSucceed(body instanceof Uint8Array ? pieces(body) : body.slices(0, body.length), 1)
  )

const flushHeaders = (res: Http.ServerResponse) =>
  Effect.sync(() => {
    // `headersSent` is already true after `writeHead`, although the head has not left yet; flushing twice is harmless
    if (!res.destroyed && !res.writableEnded) res.flushHeaders()
  })

/** Waits for what was written to leave the process, then closes the connection without finishing the body. */
const dropConnection = (res: Http.ServerResponse) =>
  Effect.zipRight(
    flushHeaders(res),
    Effect.async<void>((resume) => {
      setImmediate(() => {
        const socket = res.socket
        if (socket === null || socket.destroyed) return resume(Effect.void)
        socket.once("close", () => resume(Effect.void))
        socket.destroySoon()
      })
    })
  )

/** The response a reply replacing the normal answer (`Status`, `Redirect`) stands for. @internal */
export const replacement = (origin: "api" | "storage", reply: Reply.Status | Reply.Redirect): Out =>
  reply._tag === "Status" ? fromStatusReply(origin, reply) : empty(reply.status, { location: reply.location })

/** The replies `render` applies to the normal answer. @internal */
export type Alteration = Reply.DropAfter | Reply.StallAfter | Reply.Storage

interface Delivery {
  readonly gzip: boolean
  readonly contentLength: number | undefined
  readonly cut: { readonly bytes: number; readonly then: "drop" | "stall" } | undefined
}

const delivery = (reply: Alteration | undefined): Delivery => {
  switch (reply?._tag) {
    case undefined:
      return { gzip: false, contentLength: undefined, cut: undefined }
    case "DropAfter":
      return { gzip: false, contentLength: undefined, cut: { bytes: reply.bytes, then: "drop" } }
    case "StallAfter":
      return { gzip: false, contentLength: undefined, cut: { bytes: reply.bytes, then: "stall" } }
    case "Storage":
      return {
        gzip: reply.gzip === true,
        contentLength: reply.contentLength,
        cut:
          reply.stallAfter !== undefined
            ? { bytes: reply.stallAfter, then: "stall" }
            : reply.dropAfter !== undefined
              ? { bytes: reply.dropAfter, then: "drop" }
              : undefined
      }
  }
}

const bodiless = (status: number) => status === 204 || status === 304 || status < 200

/** nginx's on-the-fly gzip: compressed body, `Vary`, no `Accept-Ranges`, a weak `ETag`. */
const encodeGzip = (out: Out): Out => {
  if (bodiless(out.status)) return out
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(out.headers)) {
    if (name === "accept-ranges") continue
    headers[name] = name === "etag" && !value.startsWith("W/") ? `W/${value}` : value
  }
  return {
    status: out.status,
    headers: { ...headers, "content-encoding": "gzip", vary: "Accept-Encoding" },
    body: new Uint8Array(gzipSync(materialize(out.body)))
  }
}

/**
 * Renders `out`, altered by `reply`: gzip-encoded, announcing another `Content-Length`, or sending the full headers
 * and only the first bytes of the body before closing the connection or stalling.
 *
 * @internal
 */
export const render = (
  out: Out,
  reply?: Alteration | undefined
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function* () {
    const { contentLength, cut, gzip } = delivery(reply)
    const encoded = gzip ? encodeGzip(out) : out
    const { "content-type": contentType, ...headers } = encoded.headers
    const options = { status: encoded.status, headers, ...(contentType === undefined ? {} : { contentType }) }
    const announced = contentLength === undefined ? encoded.body.length : Math.max(0, Math.floor(contentLength))
    if (cut === undefined && announced <= encoded.body.length) {
      // complete as far as the client can tell (a shorter `contentLength` just truncates the body)
      const body = slice(encoded.body, 0, announced)
      if (body.length === 0) {
        // an explicit length rather than an empty chunked body (what Node sends for a bare `end()`)
        return HttpServerResponse.empty(
          bodiless(encoded.status) ? options : { ...options, headers: { ...headers, "content-length": "0" } }
        )
      }
      if (body.length <= CHUNK_SIZE) return HttpServerResponse.uint8Array(materialize(body), options)
      return HttpServerResponse.stream(chunks(body), {
        ...options,
        headers: { ...headers, "content-length": String(body.length) }
      })
    }
    // incomplete: the announced length is never reached
    const res = NodeHttpServerRequest.toServerResponse(yield* HttpServerRequest.HttpServerRequest)
    const after = cut?.then === "stall" ? flushHeaders(res) : dropConnection(res)
    const sent = Math.max(0, Math.min(announced, encoded.body.length, cut?.bytes ?? Infinity))
    const body = chunks(slice(encoded.body, 0, sent)).pipe(
      Stream.concat(Stream.drain(Stream.fromEffect(Effect.zipRight(after, Effect.never))))
    )
    return HttpServerResponse.stream(body, {
      ...options,
      headers: { ...headers, "content-length": String(announced) }
    })
  })
