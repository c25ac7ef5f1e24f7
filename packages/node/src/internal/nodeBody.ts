/**
 * A faster reader for undici's response body (the transport `ExportsClient.layer` uses), found behind the
 * `HttpClientResponse` when it is there; any other transport keeps `response.stream`.
 *
 * Why: @effect/platform-node's body stream pulls with `readable.read()`, which concatenates everything buffered
 * into a new Buffer on each read; behind a writer that waits on the disk, that copying and its garbage were the
 * largest cost of a download in the profiles. Here the body flows (`data` events) into a short queue handed
 * over as one `Chunk` per pull, paused while the queue is full (backpressure), without copying a byte; a pull
 * that has to wait takes everything that arrived in that turn of the event loop.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { Readable } from "node:stream"

/** Buffers queued before the body is paused. */
const HIGH_WATER = 16

/** undici's body behind a response of `@effect/platform-node`'s undici client, when that is the transport. */
export const readableOf = (response: object): Readable | undefined => {
  if (!("source" in response)) return undefined
  const source: unknown = response.source
  if (typeof source !== "object" || source === null || !("body" in source)) return undefined
  const body: unknown = source.body
  return body instanceof Readable ? body : undefined
}

/** A pull over `readable`: a chunk of whatever arrived, `None` at the end, the error as it came. */
export const pull = (
  readable: Readable
): Effect.Effect<Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<unknown>>, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      let queue: Array<Uint8Array> = []
      let ended = false
      let failure: Option.Option<unknown> = Option.none()
      let wake: (() => void) | undefined
      /**
       * The waiting reader is woken after the event loop's I/O phase (`setImmediate`), not inside the first
       * `data` event: the socket's other reads of the same turn join the queue first, so a pull takes every
       * buffer that arrived (up to `HIGH_WATER`) instead of one. Woken at once, each ~64 KiB read cost a whole
       * trip through the stream; batched, draining 100 MB in-process took about half the CPU.
       */
      const notify = () => {
        const waiting = wake
        wake = undefined
        if (waiting !== undefined) setImmediate(waiting)
      }
      const onData = (data: Uint8Array) => {
        queue.push(data)
        if (queue.length >= HIGH_WATER) readable.pause()
        notify()
      }
      const onEnd = () => {
        ended = true
        notify()
      }
      const onError = (error: unknown) => {
        failure = Option.some(error)
        notify()
      }
      readable.on("data", onData)
      readable.on("end", onEnd)
      readable.on("error", onError)
      // a body already destroyed (its connection failed before the first read) emits nothing more
      if (readable.destroyed && !readable.readableEnded) failure = Option.some(new Error("the body was destroyed"))
      const next: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<unknown>> = Effect.suspend(() => {
        if (queue.length > 0) {
          const out = queue
          queue = []
          if (readable.isPaused()) readable.resume()
          return Effect.succeed(Chunk.unsafeFromArray(out))
        }
        if (Option.isSome(failure)) return Effect.fail(failure)
        if (ended) return Effect.fail(Option.none())
        return Effect.async<Chunk.Chunk<Uint8Array>, Option.Option<unknown>>((resume) => {
          wake = () => resume(next)
          return Effect.sync(() => {
            wake = undefined
          })
        })
      })
      const release = () => {
        readable.off("data", onData)
        readable.off("end", onEnd)
        readable.off("error", onError)
        if (!readable.readableEnded) readable.destroy()
      }
      return { next, release }
    }),
    ({ release }) => Effect.sync(release)
  ).pipe(Effect.map(({ next }) => next))
