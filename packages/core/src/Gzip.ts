/**
 * Byte-level gzip: a stream transform with a bound on what it may produce, shared by record decoding and by
 * storage downloads served with `Content-Encoding: gzip`.
 *
 * The inflating itself is an `Inflater` taken from context (`Inflate`): the web-standard `DecompressionStream`
 * by default, so it runs wherever Effect does; `@batch-export/node` uses zlib's, which is faster. Its output is
 * pulled, so a highly compressed body (a "gzip bomb") is inflated one small piece at a time and stopped at the
 * bound, never held in memory.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { dual } from "effect/Function"

/**
 * The gzip data is corrupt or truncated.
 *
 * @since 0.1.0
 * @category errors
 */
export class GzipError extends Schema.TaggedError<GzipError>()("GzipError", {
  detail: Schema.String
}) {
  override get message(): string {
    return `gzip: ${this.detail}`
  }
}

/**
 * The decompressed data grew past `maxDecompressedBytes`.
 *
 * @since 0.1.0
 * @category errors
 */
export class DecompressedTooLarge extends Schema.TaggedError<DecompressedTooLarge>()("DecompressedTooLarge", {
  maxDecompressedBytes: Schema.Number
}) {
  override get message(): string {
    return `gzip: the decompressed data exceeds maxDecompressedBytes (${this.maxDecompressedBytes} bytes)`
  }
}

/**
 * The default bound on decompressed bytes: 16 GiB, far above any export part, far below a full disk.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxDecompressedBytes = 16 * 1024 ** 3

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Fail with `DecompressedTooLarge` past this many decompressed bytes (default {@link defaultMaxDecompressedBytes}). */
  readonly maxDecompressedBytes?: number | undefined
  /**
   * The inflater for this stream, instead of the `Inflate` in context. Cheaper than providing one to a whole
   * stream, which wraps every step of it.
   */
  readonly inflater?: Inflater | undefined
}

const isStream = (u: unknown): u is Stream.Stream<unknown, unknown, unknown> =>
  Predicate.hasProperty(u, Stream.StreamTypeId)

/**
 * What inflates gzip bytes: a transform from a gzip stream (several concatenated members included) to the bytes
 * it holds. Corrupt or truncated data fails with `GzipError`; upstream failures pass through unchanged. Its
 * output must be pulled, one piece at a time, never inflated ahead of demand: the bound on decompressed bytes is
 * counted on that output, so an inflater that runs ahead would defeat it.
 *
 * @since 0.2.0
 * @category models
 */
export interface Inflater {
  readonly inflate: <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | GzipError, R>
}

/**
 * The inflater `gunzip` uses: the web-standard `DecompressionStream` by default, so that this package runs
 * wherever Effect does. A platform with a faster one provides its own (`@batch-export/node` provides zlib's).
 *
 * @since 0.2.0
 * @category services
 */
export class Inflate extends Context.Reference<Inflate>()("@batch-export/core/Gzip/Inflate", {
  defaultValue: (): Inflater => web
}) {}

/**
 * Decompresses a gzip byte stream (several concatenated members included) with `options.inflater`, or else the
 * `Inflate` in context. Upstream failures pass through unchanged.
 *
 * @since 0.1.0
 * @category decoding
 */
export const gunzip: {
  (
    options?: Options
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | GzipError | DecompressedTooLarge, R>
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: Options
  ): Stream.Stream<Uint8Array, E | GzipError | DecompressedTooLarge, R>
} = dual(
  (args) => isStream(args[0]),
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: Options
  ): Stream.Stream<Uint8Array, E | GzipError | DecompressedTooLarge, R> =>
    options?.inflater === undefined
      ? Stream.unwrap(Effect.map(Inflate, (inflater) => bounded(inflater.inflate(self), options)))
      : bounded(options.inflater.inflate(self), options)
)

/**
 * Fails at the first piece that would carry the output past `maxDecompressedBytes`, without emitting it: no
 * more than the bound plus one piece is ever held, whatever the inflater.
 */
const bounded = <E, R>(
  inflated: Stream.Stream<Uint8Array, E, R>,
  options: Options | undefined
): Stream.Stream<Uint8Array, E | DecompressedTooLarge, R> =>
  Stream.suspend(() => {
    const limit = options?.maxDecompressedBytes ?? defaultMaxDecompressedBytes
    let total = 0
    return Stream.mapChunksEffect(inflated, (chunk) => {
      for (const piece of chunk) total += piece.length
      return total > limit
        ? Effect.fail(new DecompressedTooLarge({ maxDecompressedBytes: limit }))
        : Effect.succeed(chunk)
    })
  })

/** The web-standard inflater: `DecompressionStream`, read in batches (see `Batches`). */
const web: Inflater = {
  inflate: <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | GzipError, R> =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        let upstream: Option.Option<E> = Option.none()
        const input = yield* Stream.toReadableStreamEffect(
          self.pipe(Stream.tapError((e) => Effect.sync(() => void (upstream = Option.some(e)))))
        )
        const reader = yield* Effect.acquireRelease(
          Effect.sync(() =>
            input
              .pipeThrough(
                // lib.dom types DecompressionStream with BufferSource; it does read and write Uint8Array
                new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>
              )
              .getReader()
          ),
          (reader) => Effect.promise(() => reader.cancel().catch(() => undefined))
        )
        const batches = new Batches(reader)
        return Stream.repeatEffectChunkOption(
          Effect.tryPromise({
            try: () => batches.next(),
            catch: (cause): E | GzipError =>
              Option.getOrElse(
                upstream,
                (): E | GzipError => new GzipError({ detail: cause instanceof Error ? cause.message : String(cause) })
              )
          }).pipe(
            Effect.mapError(Option.some),
            Effect.flatMap((batch) => (batch === undefined ? Effect.fail(Option.none()) : Effect.succeed(batch)))
          )
        )
      })
    )
}

const BATCH_BYTES = 256 * 1024

/**
 * Reads the inflated output in batches of about 256 KiB instead of one 16 KiB piece per pull: the pieces come
 * from zlib one event-loop turn apart, and the benchmark showed the crossing from each promise into the stream
 * costing more than the inflating itself. A failure after some pieces is held back until they are emitted.
 */
class Batches {
  private failure: { readonly cause: unknown } | undefined
  private done = false
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  async next(): Promise<Chunk.Chunk<Uint8Array> | undefined> {
    if (this.failure !== undefined) throw this.failure.cause
    if (this.done) return undefined
    const out: Array<Uint8Array> = []
    let bytes = 0
    while (bytes < BATCH_BYTES) {
      let read: ReadableStreamReadResult<Uint8Array>
      try {
        read = await this.reader.read()
      } catch (cause) {
        if (out.length === 0) throw cause
        this.failure = { cause }
        break
      }
      if (read.done) {
        this.done = true
        break
      }
      out.push(read.value)
      bytes += read.value.length
    }
    return out.length === 0 ? undefined : Chunk.unsafeFromArray(out)
  }
}

const GZIP_MAGIC = [0x1f, 0x8b] as const

/**
 * Decompresses when the stream starts with gzip's magic bytes (wherever the first reads cut them); passes
 * anything else through unchanged.
 *
 * @since 0.1.0
 * @category decoding
 */
export const gunzipIfNeeded: {
  (
    options?: Options
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | GzipError | DecompressedTooLarge, R>
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: Options
  ): Stream.Stream<Uint8Array, E | GzipError | DecompressedTooLarge, R>
} = dual(
  (args) => isStream(args[0]),
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: Options
  ): Stream.Stream<Uint8Array, E | GzipError | DecompressedTooLarge, R> =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        // Stream.peel turns upstream failures into defects, so the head is pulled by hand.
        const pull = yield* Stream.toPull(self)
        const head: Array<Uint8Array> = []
        let seen = 0
        while (seen < GZIP_MAGIC.length) {
          const next = yield* Effect.either(pull)
          if (Either.isLeft(next)) {
            const before = Stream.fromIterable(head)
            return Option.match(next.left, {
              onNone: () => before,
              onSome: (error) => Stream.concat(before, Stream.fail(error))
            })
          }
          for (const chunk of next.right) {
            head.push(chunk)
            seen += chunk.length
          }
        }
        const all = Stream.concat(Stream.fromIterable(head), Stream.repeatEffectChunkOption(pull))
        const magic: Array<number> = []
        for (const chunk of head) {
          for (let i = 0; i < chunk.length && magic.length < GZIP_MAGIC.length; i++) magic.push(chunk[i]!)
        }
        return magic[0] === GZIP_MAGIC[0] && magic[1] === GZIP_MAGIC[1] ? gunzip(all, options) : all
      })
    )
)
