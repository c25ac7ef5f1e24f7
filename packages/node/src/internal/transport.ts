/**
 * What every exchange with a server shares, whatever `HttpClient` the user injected: redirects handled by
 * us, bodies read within bounds, transport failures described without secrets.
 */
import { ClientError, Redaction } from "@batch-export/core"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Stream from "effect/Stream"
import * as NodeBody from "./nodeBody.js"

/** A transport-level failure, described without URLs' paths or queries. */
export const transportError = (
  endpoint: string,
  error: HttpClientError.HttpClientError
): ClientError.TransportError => {
  const cause = error.cause
  const inner =
    cause instanceof Error
      ? [cause.message, cause.cause instanceof Error ? cause.cause.message : undefined].filter(Boolean).join(": ")
      : undefined
  const what = error._tag === "RequestError" ? error.reason : `reading the ${error.reason.toLowerCase()} failed`
  return new ClientError.TransportError({
    endpoint,
    detail: Redaction.scrub(inner === undefined || inner === "" ? what : `${what} (${inner})`)
  })
}

/**
 * `send`, with one debug line once it ends: what was asked (`GET /exports/view`; a storage request names its
 * origin, never the signed path or query), the status or why there is none, and how long it took, e.g.
 * `GET /exports/view: HTTP 200 in 12ms`. The time is the clock's, to the headers (not the body).
 */
export const logged = <R>(
  endpoint: string,
  shown: string,
  send: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError, R>
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError, R> =>
  Effect.flatMap(Clock.currentTimeMillis, (start) =>
    Effect.onExit(send, (exit) =>
      Effect.flatMap(Clock.currentTimeMillis, (end) => {
        const took = end - start
        return Effect.logDebug(
          Exit.match(exit, {
            onSuccess: (response) => `${shown}: HTTP ${response.status} in ${took}ms`,
            onFailure: (cause) =>
              Option.match(Cause.failureOption(cause), {
                onSome: (error) => `${shown}: no answer after ${took}ms: ${transportError(endpoint, error).detail}`,
                onNone: () => `${shown}: no answer after ${took}ms: stopped (timed out or interrupted)`
              })
          })
        )
      })
    )
  )

/** A failure while reading a body, from the platform (`HttpClientError`) or from undici's stream directly. */
export const transportFailure = (endpoint: string, error: unknown): ClientError.TransportError =>
  HttpClientError.isHttpClientError(error)
    ? transportError(endpoint, error)
    : new ClientError.TransportError({
        endpoint,
        detail: Redaction.scrub(`reading the body failed (${error instanceof Error ? error.message : String(error)})`)
      })

/**
 * Asks a fetch-based transport not to follow redirects (undici's own client never does): the client reads
 * every `Location` itself, so the credential and downgrade rules hold on any transport.
 */
export const manualRedirects = <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> =>
  HttpClient.transformResponse(client, (effect) =>
    Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
      Effect.provideService(effect, FetchHttpClient.RequestInit, {
        ...Option.getOrElse(init, () => ({})),
        redirect: "manual"
      })
    )
  )

/** The body's bytes, at most `limit` of them; `None` when there are more. */
const readBounded = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<Option.Option<Buffer>, HttpClientError.ResponseError> =>
  Effect.suspend(() => {
    const parts: Array<Uint8Array> = []
    let seen = 0
    return response.stream.pipe(
      Stream.runForEachWhile((part) =>
        Effect.sync(() => {
          seen += part.length
          if (seen > limit) return false
          parts.push(part)
          return true
        })
      ),
      Effect.map(() => (seen > limit ? Option.none() : Option.some(Buffer.concat(parts))))
    )
  })

/** Reads at most `limit` bytes of a body as UTF-8 text; the rest is discarded with the connection. */
export const readBoundedText = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<string> =>
  Effect.suspend(() => {
    const parts: Array<Uint8Array> = []
    let seen = 0
    return response.stream.pipe(
      Stream.runForEachWhile((part) =>
        Effect.sync(() => {
          parts.push(part.subarray(0, limit - seen))
          seen += Math.min(part.length, limit - seen)
          return seen < limit
        })
      ),
      Effect.map(() => Buffer.concat(parts).toString("utf8")),
      Effect.orElseSucceed(() => "")
    )
  })

/**
 * Reads a JSON body of at most `limit` bytes (a larger `Content-Length` is refused before reading), then
 * parses it; too large, not JSON, or cut short are typed errors.
 */
export const readBoundedJson = (
  endpoint: string,
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<unknown, ClientError.ResponseDecodeError | ClientError.TransportError> => {
  const tooLarge = new ClientError.ResponseDecodeError({
    endpoint,
    detail: `the body is larger than the ${limit}-byte limit (limits.jsonBody)`
  })
  if (Option.exists(contentLength(response), (length) => length > limit)) return Effect.fail(tooLarge)
  return readBounded(response, limit).pipe(
    Effect.mapError((e) => transportError(endpoint, e)),
    Effect.flatMap(
      Option.match({
        onNone: () => Effect.fail(tooLarge),
        onSome: (bytes) =>
          Effect.try({
            try: (): unknown => JSON.parse(bytes.toString("utf8")),
            catch: () => new ClientError.ResponseDecodeError({ endpoint, detail: "the body is not JSON" })
          })
      })
    )
  )
}

/**
 * A schema issue as one message, at most `limit` characters (a server's answer can make it huge); a
 * pathological (deeply nested) issue never escapes as a defect. The issue quotes the value it refused, a
 * server's text: it is scrubbed (`Redaction.scrub`: a file's signed `url`, `secrets` the server echoes)
 * before it is cut, so that a cut cannot leave the start of a secret behind.
 */
export const formatIssue = (
  issue: ParseResult.ParseIssue,
  limit = Infinity,
  secrets: ReadonlyArray<string> = []
): string => {
  try {
    const text = Redaction.scrub(ParseResult.TreeFormatter.formatIssueSync(issue), secrets)
    return text.length > limit ? `${text.slice(0, limit)}…` : text
  } catch {
    return "the value does not match the expected shape"
  }
}

/** The numeric value of a `Content-Length` header, when it is one. */
export const contentLength = (response: HttpClientResponse.HttpClientResponse): Option.Option<number> => {
  const value = response.headers["content-length"]
  return value !== undefined && /^\d+$/.test(value.trim()) ? Option.some(Number(value)) : Option.none()
}

/** The statuses whose `Location` is a redirect to follow (or, from `/exports/download`, the signed link). */
export const isRedirect = (status: number): boolean =>
  status === 301 || status === 302 || status === 303 || status === 307 || status === 308

/**
 * Lets undici's body end by itself when it has already arrived whole (a `Content-Length` of at most `limit`
 * bytes, all of them buffered) and nobody has read it, before the exchange's scope closes. Closing the scope
 * aborts the request, and undici destroys a body not read to its end with an error whose stack is then
 * formatted: about 100 µs per call in benchmark 5's profiles, more than the rest of a 307's handling. A body
 * still arriving, a larger one, one already being read or another transport's is left to that abort: nothing
 * here waits for the server or reads past `limit`.
 */
export const settle = (response: HttpClientResponse.HttpClientResponse, limit: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    // looked at when it runs, after whatever read the body before
    const readable = NodeBody.readableOf(response)
    if (readable === undefined || readable.destroyed || readable.readableDidRead) return Effect.void
    const length = contentLength(response)
    if (Option.isNone(length) || length.value > limit || readable.readableLength !== length.value) {
      return Effect.void
    }
    return Effect.async<void>((resume) => {
      const closed = () => resume(Effect.void)
      readable.once("close", closed)
      readable.resume()
      return Effect.sync(() => {
        readable.off("close", closed)
      })
    })
  })
