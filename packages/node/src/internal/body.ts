/**
 * The body of one storage answer: transport failures typed, an idle timeout between reads, the
 * `Content-Length` enforced on the bytes actually received (stopping at the first byte past it), and
 * `Content-Encoding: gzip` decoded within a bound.
 *
 * The stages work on whole chunks (each a batch of buffers from the socket), never per buffer: a 1 GiB body
 * is ~16k buffers, and a per-buffer effect per stage was measured to cost a third of the throughput.
 */
import { ClientError, Gzip } from "@batch-export/core"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { ENDPOINT } from "./storage.js"
import * as NodeBody from "./nodeBody.js"
import * as Transport from "./transport.js"
import * as ZlibInflater from "../ZlibInflater.js"

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

/**
 * The bytes of `response` as received, checked against its `Content-Length` (identity only), with the idle
 * timeout: when the consumer has waited `idle` for the next bytes, `abort` is run (it aborts the request)
 * and the failure that follows is reported as `RequestTimeout`. `check`, when given, sees each chunk as it is
 * read and fails the body with what it returns (the download's bounds), before the chunk is passed on.
 *
 * The idle timeout, the length rule and the typing of failures act on the one read each pull makes, not as
 * stream stages of their own: every stage is one more trip through the stream's machinery per chunk.
 */
export const raw = <E = never>(
  response: HttpClientResponse.HttpClientResponse,
  idle: Duration.Duration,
  abort: Effect.Effect<void>,
  check?: (chunk: Chunk.Chunk<Uint8Array>) => E | undefined
): Stream.Stream<Uint8Array, BodyError | E> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const clock = yield* Effect.clock
      const idleMillis = Duration.toMillis(idle)
      let waitingSince: number | undefined
      let timedOut = false
      const node = NodeBody.readableOf(response)
      const pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<unknown>> = node === undefined
        ? yield* Stream.toPull(response.stream)
        : yield* NodeBody.pull(node)
      const length = Option.map(Transport.contentLength(response), (announced) =>
        lengthRule(
          announced,
          Option.exists(encoding(response), (e) => e !== "identity")
        )
      )
      const read = Effect.suspend(() => {
        waitingSince = clock.unsafeCurrentTimeMillis()
        return pull
      }).pipe(
        Effect.matchEffect({
          onSuccess: (chunk): Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<BodyError | E>> => {
            waitingSince = undefined
            const tooLong = Option.isSome(length) ? length.value.received(chunk) : undefined
            if (tooLong !== undefined) return Effect.fail(Option.some(tooLong))
            const refused = check === undefined ? undefined : check(chunk)
            return refused === undefined ? Effect.succeed(chunk) : Effect.fail(Option.some(refused))
          },
          onFailure: (error) => {
            if (Option.isSome(error)) {
              return Effect.fail(
                Option.some<BodyError | E>(
                  timedOut
                    ? new ClientError.RequestTimeout({ endpoint: ENDPOINT, timeout: idle })
                    : Transport.transportFailure(ENDPOINT, error.value)
                )
              )
            }
            const short = Option.isSome(length) ? length.value.ended() : undefined
            return Effect.fail(short === undefined ? Option.none() : Option.some(short))
          }
        })
      )
      // The idle timeout is watched by one fiber per body rather than raced per read: `Stream.timeoutFail` forks
      // a fiber for every pull, which the download benchmark measured as the largest cost per chunk. Only time
      // spent waiting for a read counts, so a slow consumer (backpressure) never looks like a stalled server.
      const watch: Effect.Effect<void> = Effect.suspend(() => {
        const now = clock.unsafeCurrentTimeMillis()
        if (waitingSince !== undefined && now - waitingSince >= idleMillis) {
          timedOut = true
          return abort
        }
        const wait = waitingSince === undefined ? idleMillis : waitingSince + idleMillis - now
        return Effect.zipRight(clock.sleep(Duration.millis(wait)), watch)
      })
      yield* Effect.forkScoped(watch)
      return Stream.repeatEffectChunkOption(read)
    })
  )

/**
 * The `Content-Length` rule on the bytes received: the chunk that carries the body past `announced` fails
 * whole, and so does an end before it. Through a Content-Encoding the announced length is the encoded one: it
 * is checked while the bytes are still encoded (gzip's magic first), not when a transport (fetch) decoded them
 * before us — except that an answer announcing bytes must not end with none.
 */
const lengthRule = (announced: number, encoded: boolean) => {
  let received = 0
  // known from the first bytes when encoded: are these the bytes the length counts?
  let counts: boolean | undefined = encoded ? undefined : true
  return {
    received: (chunk: Chunk.Chunk<Uint8Array>): ClientError.TransportError | undefined => {
      for (const part of chunk) {
        if (counts === undefined && part.length > 0) counts = part[0] === GZIP_MAGIC_FIRST
        received += part.length
      }
      return counts === true && received > announced
        ? transportError(`the body is longer than its Content-Length of ${announced} bytes`)
        : undefined
    },
    ended: (): ClientError.TransportError | undefined =>
      received === announced || (counts === false && received > 0)
        ? undefined
        : transportError(`the body ended after ${received} of ${announced} bytes`)
  }
}

const GZIP_MAGIC_FIRST = 0x1f

/**
 * Decodes `gzip` when the bytes are gzip (a transport such as fetch may have decoded them already). The
 * output is pulled one chunk at a time, so the download's bounds (always some: see `download.ts`'s
 * `limits`) stop a decompression bomb at its first chunk past them; no second ceiling here.
 */
export const decoded = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  coding: Encoding
): Stream.Stream<Uint8Array, E | ClientError.TransportError> =>
  coding === "identity"
    ? bytes
    : Gzip.gunzipIfNeeded(bytes, {
        maxDecompressedBytes: Number.POSITIVE_INFINITY,
        inflater: ZlibInflater.inflater
      }).pipe(
        Stream.mapError((e) =>
          e instanceof Gzip.GzipError || e instanceof Gzip.DecompressedTooLarge ? transportError(e.message) : e
        )
      )

/** The total length of a chunk of buffers. */
export const byteLength = (chunk: Chunk.Chunk<Uint8Array>): number => {
  let n = 0
  for (const part of chunk) n += part.length
  return n
}
