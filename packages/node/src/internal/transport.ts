import { ClientError, Redaction } from "@batch-export/core"
import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import { Chunk, Effect, Option, Stream } from "effect"

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

/** Reads at most `limit` bytes of a body as UTF-8 text; the rest is discarded with the connection. */
export const readBoundedText = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<string> =>
  response.stream.pipe(
    Stream.mapAccum(0, (seen, chunk) => [
      seen + chunk.length,
      seen < limit ? chunk.subarray(0, limit - seen) : undefined
    ]),
    Stream.takeWhile((chunk) => chunk !== undefined),
    Stream.runCollect,
    Effect.map((chunks) => {
      const parts = Chunk.toReadonlyArray(chunks) as ReadonlyArray<Uint8Array>
      return Buffer.concat(parts).toString("utf8")
    }),
    Effect.orElseSucceed(() => "")
  )

/** The numeric value of a `Content-Length` header, when it is one. */
export const contentLength = (response: HttpClientResponse.HttpClientResponse): Option.Option<number> => {
  const value = response.headers["content-length"]
  return value !== undefined && /^\d+$/.test(value.trim()) ? Option.some(Number(value)) : Option.none()
}
