/**
 * The body of one storage answer: transport failures typed, an idle timeout between reads, the
 * `Content-Length` enforced on the bytes actually received (stopping at the first byte past it), and
 * `Content-Encoding: gzip` decoded within a bound.
 *
 * The stages work on whole chunks (each a batch of buffers from the socket), never per buffer: a 1 GiB body
 * is ~16k buffers, and a per-buffer effect per stage was measured to cost a third of the throughput.
 */
import { ClientError, Records } from "@batch-export/core"
import type { HttpClientResponse } from "@effect/platform"
import { Chunk, type Duration, Effect, Option, Stream } from "effect"
import { ENDPOINT } from "./storage.js"
import * as Transport from "./transport.js"

/** Failures of reading one body; all of them are worth resuming from the last byte received. */
export type BodyError = ClientError.TransportError | ClientError.RequestTimeout

/** The content codings we decode; anything else is refused rather than saved encoded. */
export type Encoding = "identity" | "gzip"

/** The response's `Content-Encoding`, when it is one we decode. */
export const encoding = (response: HttpClientResponse.HttpClientResponse): Option.Option<Encoding> => {
  const value = (response.headers["content-encoding"] ?? "identity").trim().toLowerCase()
  if (value === "identity" || value === "") return Option.some("identity")
  if (value === "gzip" || value === "x-gzip") return Option.some("gzip")
  return Option.none()
}

const transportError = (detail: string) => new ClientError.TransportError({ endpoint: ENDPOINT, detail })

/** The bytes of `response` as received, checked against its `Content-Length` (identity only). */
export const raw = (
  response: HttpClientResponse.HttpClientResponse,
  idle: Duration.Duration
): Stream.Stream<Uint8Array, BodyError> => {
  const bytes = response.stream.pipe(
    Stream.mapError((e) => Transport.transportError(ENDPOINT, e)),
    Stream.timeoutFail(() => new ClientError.RequestTimeout({ endpoint: ENDPOINT, timeout: idle }), idle)
  )
  // Through a Content-Encoding the length is the encoded one; some transports (fetch) decode before we see
  // the bytes, so only the decoded size (checked by the caller against Batch's files[].size) is reliable.
  if (Option.exists(encoding(response), (e) => e !== "identity")) return bytes
  return Option.match(Transport.contentLength(response), {
    onNone: () => bytes,
    onSome: (announced) => lengthChecked(bytes, announced)
  })
}

/** Fails at the first byte past `announced`, or at the end when fewer arrived. */
const lengthChecked = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  announced: number
): Stream.Stream<Uint8Array, E | ClientError.TransportError> =>
  Stream.suspend(() => {
    let received = 0
    return Stream.concat(
      Stream.mapChunksEffect(bytes, (chunk) => {
        for (const part of chunk) received += part.length
        return received > announced
          ? Effect.fail(transportError(`the body is longer than its Content-Length of ${announced} bytes`))
          : Effect.succeed(chunk)
      }),
      Stream.suspend(() =>
        received === announced
          ? Stream.empty
          : Stream.fail(transportError(`the body ended after ${received} of ${announced} bytes`))
      )
    )
  })

/**
 * Decodes `gzip` when the bytes are gzip (a transport such as fetch may have decoded them already), with
 * at most `maxOutput` decoded bytes.
 */
export const decoded = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  coding: Encoding,
  maxOutput: number
): Stream.Stream<Uint8Array, E | ClientError.TransportError> =>
  coding === "identity"
    ? bytes
    : Records.gunzipIfNeeded(bytes).pipe(
        Stream.mapError((e) => (e instanceof Records.RecordDecodeError ? transportError(e.detail) : e)),
        capped(maxOutput)
      )

/** Fails once more than `limit` bytes went through (a decompression bomb). */
const capped =
  (limit: number) =>
  <E>(self: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E | ClientError.TransportError> =>
    Stream.suspend(() => {
      let seen = 0
      return Stream.mapChunksEffect(self, (chunk) => {
        for (const part of chunk) seen += part.length
        return seen > limit
          ? Effect.fail(transportError(`the decoded body exceeds ${limit} bytes`))
          : Effect.succeed(chunk)
      })
    })

/** The total length of a chunk of buffers. */
export const byteLength = (chunk: Chunk.Chunk<Uint8Array>): number => {
  let n = 0
  for (const part of chunk) n += part.length
  return n
}
