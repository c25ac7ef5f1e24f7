/**
 * The emulator's own response model (`Out`: status, headers, bytes) and its rendering to an `HttpServerResponse`,
 * including the scripted `DropAfter` / `StallAfter` misbehaviours.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as Http from "node:http"
import type * as Reply from "../Reply.js"

/** @internal */
export interface Out {
  readonly status: number
  /** lower-case names */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
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

const chunks = (body: Uint8Array): Stream.Stream<Uint8Array> =>
  Stream.suspend(() => {
    const out: Array<Uint8Array> = []
    for (let offset = 0; offset < body.length; offset += CHUNK_SIZE) {
      out.push(body.subarray(offset, Math.min(body.length, offset + CHUNK_SIZE)))
    }
    return Stream.fromIterable(out)
  })

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

/**
 * Renders `out`. With a `DropAfter` / `StallAfter` reply, sends the full headers (including the complete
 * `Content-Length`) and only the first `bytes` bytes of the body.
 *
 * @internal
 */
export const render = (
  out: Out,
  misbehave?: Reply.DropAfter | Reply.StallAfter | undefined
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function* () {
    const { "content-type": contentType, ...headers } = out.headers
    const options = { status: out.status, headers, ...(contentType === undefined ? {} : { contentType }) }
    if (misbehave === undefined) {
      if (out.body.length === 0) {
        // an explicit length rather than an empty chunked body (what Node sends for a bare `end()`)
        const bodiless = out.status === 204 || out.status === 304 || out.status < 200
        return HttpServerResponse.empty(
          bodiless ? options : { ...options, headers: { ...headers, "content-length": "0" } }
        )
      }
      if (out.body.length <= CHUNK_SIZE) return HttpServerResponse.uint8Array(out.body, options)
      return HttpServerResponse.stream(chunks(out.body), {
        ...options,
        headers: { ...headers, "content-length": String(out.body.length) }
      })
    }
    const res = NodeHttpServerRequest.toServerResponse(yield* HttpServerRequest.HttpServerRequest)
    const after = misbehave._tag === "DropAfter" ? dropConnection(res) : flushHeaders(res)
    const body = chunks(out.body.subarray(0, Math.max(0, misbehave.bytes))).pipe(
      Stream.concat(Stream.drain(Stream.fromEffect(Effect.zipRight(after, Effect.never))))
    )
    return HttpServerResponse.stream(body, {
      ...options,
      headers: { ...headers, "content-length": String(out.body.length) }
    })
  })
