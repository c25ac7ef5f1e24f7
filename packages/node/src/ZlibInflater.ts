/**
 * Gzip inflated by Node's zlib, for record decoding and for storage bodies served with `Content-Encoding: gzip`.
 *
 * `@batch-export/core` inflates with the web-standard `DecompressionStream` so that it runs anywhere; on Node,
 * zlib's own stream does the same work faster (the web stream wraps it and hands over 16 KiB per promise;
 * benchmark 2, gzip). The client uses it for every gzip body; `layer` gives it to your own `Records.decode` /
 * `Gzip.gunzip` calls.
 *
 * @since 0.2.0
 */
import { Gzip } from "@batch-export/core"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Zlib from "node:zlib"

/**
 * Inflated pieces of 64 KiB: the benchmark's best (16 KiB took 1.3× the time per record, 256 KiB gained nothing).
 * zlib stops inflating while a piece waits to be read, so a decompression bomb is held one piece at a time.
 */
const PIECE_BYTES = 64 * 1024

const gzipError = (cause: unknown) =>
  new Gzip.GzipError({ detail: cause instanceof Error ? cause.message : String(cause) })

/**
 * Waits until zlib has inflated all the input written so far (`Z_SYNC_FLUSH`). The input ends only after it:
 * zlib inflates the last input still queued at the end together with the end-of-stream check, and when that
 * check fails (a cut stream) it reports the error without the bytes it inflated in the same step, so a
 * truncated file would lose its last records before the error.
 */
const flushed = (gunzip: Zlib.Gunzip) =>
  Effect.async<void>((resume) => {
    // called once the flush is done, or with an error if the stream fails first (then the reader fails too)
    gunzip.flush(Zlib.constants.Z_SYNC_FLUSH, () => resume(Effect.void))
  })

/**
 * zlib's gunzip (several concatenated members included) through the platform's `pipeThroughDuplex`: the input
 * written as it is pulled, waiting for zlib's `drain`, the output read piece by piece, the zlib stream destroyed
 * when the output ends, whichever way. Upstream failures pass through unchanged, also mid-member.
 *
 * @since 0.2.0
 * @category constructors
 */
export const inflater: Gzip.Inflater = {
  inflate: <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | Gzip.GzipError, R> =>
    Stream.suspend(() => {
      const gunzip = Zlib.createGunzip({ chunkSize: PIECE_BYTES })
      // an upstream failure ends zlib's input early, and zlib then reports a cut stream: the upstream cause wins
      let upstream: Option.Option<E> = Option.none()
      const input = Stream.concat(
        Stream.tapError(self, (error) => Effect.sync(() => void (upstream = Option.some(error)))),
        Stream.execute(flushed(gunzip))
      )
      return Stream.catchAll(
        NodeStream.pipeThroughDuplex(input, () => gunzip, gzipError),
        (error): Stream.Stream<never, E | Gzip.GzipError> => Stream.fail(Option.getOrElse(upstream, () => error))
      )
    })
}

/**
 * Makes `Gzip.gunzip`, `Gzip.gunzipIfNeeded` and `Records` inflate with zlib.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<never> = Layer.succeed(Gzip.Inflate, inflater)
