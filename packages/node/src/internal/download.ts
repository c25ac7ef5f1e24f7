/**
 * One file's bytes across as many storage requests as it takes: the first answer, then — when a body is
 * cut short (reset, early close, idle timeout) — a resume from the last byte received with `Range` +
 * `If-Range` on the first answer's strong `ETag`, on the resume schedule. The caller's bounds (`maxBytes`,
 * Batch's announced size), or `limits.maxDownloadBytes` when it gives none, are enforced on the running
 * total, stopping at the first byte past them.
 */
import { ClientError, type DownloadLink, ExportError, type Ids, Redaction } from "@batch-export/core"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equivalence from "effect/Equivalence"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Body from "./body.js"
import type { Lease } from "./link.js"
import * as Storage from "./storage.js"
import * as Transport from "./transport.js"

/** What a download can fail with, besides getting its link (`E`). */
export type DownloadFailure<E> =
  | E
  | Storage.RequestError
  | ClientError.StorageError
  | ExportError.ContentChanged
  | ExportError.SizeMismatch
  | ExportError.DownloadTooLarge

/** Bounds on one download. */
export interface Bounds {
  /** Batch's `files[].size`: more fails at the first byte past it, fewer at the end (`SizeMismatch`). */
  readonly expectedSize?: number | undefined
  /** Fails with `DownloadTooLarge` at the first byte past it. With neither: `limits.maxDownloadBytes`. */
  readonly maxBytes?: number | undefined
}

/** An open file: its size when known, and its bytes, resumed across dropped connections. */
export interface Opened<E> {
  readonly fileId: Ids.FileId
  readonly total: Option.Option<number>
  /** Where `bytes` start in the file: 0, or the `from` offset when the storage continued it. */
  readonly offset: number
  /** The stored object's strong `ETag`, when it has one: what a later run needs to continue it. */
  readonly etag: Option.Option<string>
  readonly bytes: Stream.Stream<Uint8Array, E>
}

/** Bytes a previous run already has: continue after them if the object is still the one it had. */
export interface From {
  readonly offset: number
  readonly etag: string
}

/** The storage answers this for an expired or invalid signature. */
const isRefusedLink = (status: number) => status === 401 || status === 403 || status === 410

const strongEtag = (response: HttpClientResponse.HttpClientResponse): Option.Option<string> => {
  const etag = response.headers["etag"]
  return etag !== undefined && etag.startsWith('"') ? Option.some(etag) : Option.none()
}

/** `Content-Range: bytes *\/<total>` of a 416 */
const unsatisfiedLength = (response: HttpClientResponse.HttpClientResponse): Option.Option<number> => {
  const match = /^bytes \*\/(\d+)$/.exec(response.headers["content-range"]?.trim() ?? "")
  return match === null ? Option.none() : Option.some(Number(match[1]))
}

/** The total of `Content-Range: bytes <start>-<end>/<total>` */
const contentRangeTotal = (response: HttpClientResponse.HttpClientResponse): Option.Option<number> => {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers["content-range"]?.trim() ?? "")
  return match === null ? Option.none() : Option.some(Number(match[3]))
}

/** `Content-Range: bytes <start>-<end>/<total>` */
const contentRangeStart = (response: HttpClientResponse.HttpClientResponse): Option.Option<number> => {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers["content-range"]?.trim() ?? "")
  return match === null ? Option.none() : Option.some(Number(match[1]))
}

export interface Dependencies<E> {
  readonly client: Storage.Client
  readonly timeouts: { readonly request: Duration.Duration; readonly idle: Duration.Duration }
  /** `limits.maxDownloadBytes`: the bound on a body that neither `maxBytes` nor `expectedSize` bounds. */
  readonly maxDownloadBytes: number
  readonly resumeSchedule: Schedule.Schedule<unknown, unknown>
  readonly lease: (fileId: Ids.FileId) => Effect.Effect<Lease<E>, E>
}

export const open = <E>(
  deps: Dependencies<E>,
  fileId: Ids.FileId,
  bounds: Bounds,
  from?: From
): Effect.Effect<Opened<DownloadFailure<E>>, DownloadFailure<E>, Scope.Scope> =>
  Effect.gen(function* () {
    const lease = yield* deps.lease(fileId)

    /**
     * A request on the current link; a refused link is renewed once; 416 is left to the resume. The
     * connection lives in a scope of its own, inside the caller's: closing it aborts the request (the idle
     * timeout's way to end a stalled read).
     */
    const request = (headers: Record<string, string>) =>
      Effect.gen(function* () {
        const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
        const get = (link: DownloadLink.DownloadLink) =>
          Storage.get(deps.client, {
            fileId,
            url: Redacted.value(link.url),
            headers,
            timeout: deps.timeouts.request
          }).pipe(Scope.extend(scope))
        const first = yield* Effect.flatMap(lease.usable, get)
        const response = isRefusedLink(first.status) ? yield* Effect.flatMap(lease.renew, get) : first
        const rangeNotSatisfiable = response.status === 416 && "range" in headers
        if ((response.status < 200 || response.status >= 300) && !rangeNotSatisfiable) {
          return yield* new ClientError.StorageError({
            status: response.status,
            origin: Redaction.safeOrigin(response.request.url)
          })
        }
        return { response, abort: Scope.close(scope, Exit.void) }
      })

    const { abort: abortFirst, response: first } = yield* request(
      from === undefined || from.offset === 0 ? {} : { range: `bytes=${from.offset}-`, "if-range": from.etag }
    )
    // a continuation is taken only when it starts where asked (206) on the same object: its ETag is the saved
    // one (a storage that ignores If-Range answers a changed object with a 206 too); a 200 is the whole
    // object again; `bytes */N` at the offset means nothing is missing
    const offset =
      from === undefined
        ? 0
        : first.status === 206 &&
            Option.contains(strongEtag(first), from.etag) &&
            Option.contains(contentRangeStart(first), from.offset)
          ? from.offset
          : first.status === 416 && Option.contains(unsatisfiedLength(first), from.offset)
            ? from.offset
            : first.status === 200
              ? 0
              : yield* new ExportError.ContentChanged({ fileId, offset: from.offset })
    const coding = yield* Option.match(Body.encoding(first), {
      onNone: () =>
        new ClientError.TransportError({
          endpoint: Storage.ENDPOINT,
          detail: `unsupported Content-Encoding ${first.headers["content-encoding"] ?? ""}`
        }),
      onSome: Effect.succeed
    })
    const etag = offset > 0 && from !== undefined ? Option.some(from.etag) : strongEtag(first)
    // Resuming needs byte offsets into the stored object: not possible through a Content-Encoding.
    const resumable = coding === "identity" && first.headers["accept-ranges"] !== "none"
    const total =
      coding !== "identity"
        ? Option.none<number>()
        : offset > 0
          ? Option.orElse(contentRangeTotal(first), () => Option.map(Transport.contentLength(first), (n) => n + offset))
          : Transport.contentLength(first)

    let received = offset
    let resumes = 0
    // the bounds, on the running total of every response's bytes (see `tally`)
    const limit = tally(fileId, limits(bounds, deps), offset)
    /**
     * A response's bytes, held to the bounds. An identity body is checked in the read it makes (`Body.raw`),
     * not by a stage of its own: a stage costs a trip per chunk, measured at about a tenth of the records
     * benchmark's first read (s19-b2*). Decoded bytes, and bytes after a skip, are checked by a stage.
     */
    const body = (response: HttpClientResponse.HttpClientResponse, abort: Effect.Effect<void>, skip = 0) =>
      coding === "identity" && skip === 0
        ? Body.raw(response, deps.timeouts.idle, abort, limit.add)
        : checked(dropBytes(Body.decoded(Body.raw(response, deps.timeouts.idle, abort), coding), skip), limit.add)
    // counted here, before the bounds: an offset is what the stored object gave us, not what we passed on
    const counted = <R>(bytes: Stream.Stream<Uint8Array, R>) =>
      Stream.mapChunks(bytes, (chunk) => {
        received += Body.byteLength(chunk)
        return chunk
      })

    const driver = yield* Schedule.driver(deps.resumeSchedule)
    /** One more request from the last byte received, checked to continue the same object. */
    const continuation = (): Stream.Stream<Uint8Array, DownloadFailure<E>> =>
      Stream.unwrapScoped(
        Effect.gen(function* (): Effect.fn.Return<
          Stream.Stream<Uint8Array, DownloadFailure<E>>,
          DownloadFailure<E>,
          Scope.Scope
        > {
          const offset = received
          resumes++
          yield* Effect.logDebug("resuming").pipe(Effect.annotateLogs({ "batch.resume_offset": offset }))
          yield* Effect.annotateCurrentSpan({ "batch.resume_offset": offset, "batch.resumes": resumes })
          const { abort, response } = yield* request(
            Option.match(etag, {
              onNone: () => ({ range: `bytes=${offset}-` }),
              onSome: (tag) => ({ range: `bytes=${offset}-`, "if-range": tag })
            })
          )
          if (response.status === 416) {
            // `bytes */N`: nothing is left when N is where we are (the first answer announced too much)
            return Option.contains(unsatisfiedLength(response), offset)
              ? Stream.empty
              : Stream.fail(new ExportError.ContentChanged({ fileId, offset }))
          }
          // without an ETag on either side, a 206 at the right offset is the best evidence there is
          const sameEtag = Option.getEquivalence(Equivalence.string)(etag, strongEtag(response))
          if (response.status === 206 && sameEtag && Option.contains(contentRangeStart(response), offset)) {
            return counted(body(response, abort))
          }
          if (response.status === 200 && sameEtag && Option.isSome(etag)) {
            // the storage ignored Range: the same object from byte 0; skip what was already received
            return counted(body(response, abort, offset))
          }
          return Stream.fail(new ExportError.ContentChanged({ fileId, offset }))
        })
      )
    // Each failure is offered to the schedule; once it is spent, the failure is final.
    const resume = (error: DownloadFailure<E>): Stream.Stream<Uint8Array, DownloadFailure<E>> =>
      !resumable || !isResumable(error)
        ? Stream.fail(error)
        : Stream.unwrap(
            Effect.match(driver.next(error), {
              onFailure: () => Stream.fail(error),
              onSuccess: () => Stream.catchAll(continuation(), resume)
            })
          )
    const firstBytes = first.status === 416 ? Stream.empty : counted(body(first, abortFirst))
    // a short file fails at the end, once every response is in
    const bytes = Stream.concat(
      firstBytes.pipe(Stream.catchAll(resume)),
      Stream.suspend(() => Option.match(limit.end(), { onNone: () => Stream.empty, onSome: Stream.fail }))
    )
    return { fileId, total, offset, etag, bytes }
  })

/** Mid-body failures worth resuming from the last byte received. */
const isResumable = (error: unknown) =>
  error instanceof ClientError.TransportError || error instanceof ClientError.RequestTimeout

/** The bounds a body is held to, decoded or not: the caller's, or the ceiling when the caller gives none. */
interface Limits {
  readonly expectedSize: number | undefined
  readonly maxBytes: number
  /** What `maxBytes` is, as `DownloadTooLarge` names it. */
  readonly setting: "maxBytes" | "limits.maxDownloadBytes"
}

/**
 * The one rule for how much of a body is read: `maxBytes` when given; else `expectedSize` alone (Batch's
 * size); else `limits.maxDownloadBytes`, so that no body (identity, or decoded gzip) is ever unbounded.
 */
const limits = <E>(bounds: Bounds, deps: Dependencies<E>): Limits =>
  bounds.maxBytes !== undefined
    ? { expectedSize: bounds.expectedSize, maxBytes: bounds.maxBytes, setting: "maxBytes" }
    : bounds.expectedSize !== undefined
      ? { expectedSize: bounds.expectedSize, maxBytes: Number.POSITIVE_INFINITY, setting: "maxBytes" }
      : { expectedSize: undefined, maxBytes: deps.maxDownloadBytes, setting: "limits.maxDownloadBytes" }

/** What a bound failing looks like. */
type Exceeded = ExportError.SizeMismatch | ExportError.DownloadTooLarge

/**
 * The bounds on the running total: `add` takes each chunk as it arrives and names the first bound it passes
 * (the chunk that carries the total past one fails whole: nothing past a bound is passed on); `end` names a
 * short file once the last byte is in.
 */
const tally = (fileId: Ids.FileId, { expectedSize, maxBytes, setting }: Limits, offset: number) => {
  let total = offset
  return {
    add: (chunk: Chunk.Chunk<Uint8Array>): Exceeded | undefined => {
      total += Body.byteLength(chunk)
      if (total > maxBytes) {
        return new ExportError.DownloadTooLarge(
          setting === "maxBytes" ? { fileId, maxBytes } : { fileId, maxBytes, setting }
        )
      }
      return expectedSize !== undefined && total > expectedSize
        ? new ExportError.SizeMismatch({ fileId, expected: expectedSize, actual: total })
        : undefined
    },
    end: (): Option.Option<Exceeded> =>
      expectedSize === undefined || total === expectedSize
        ? Option.none()
        : Option.some(new ExportError.SizeMismatch({ fileId, expected: expectedSize, actual: total }))
  }
}

/** `add` as a stage, for bytes the read itself cannot count (decoded, or after a skip). */
const checked = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  add: (chunk: Chunk.Chunk<Uint8Array>) => Exceeded | undefined
): Stream.Stream<Uint8Array, E | Exceeded> =>
  Stream.mapChunksEffect(bytes, (chunk) => {
    const exceeded = add(chunk)
    return exceeded === undefined ? Effect.succeed(chunk) : Effect.fail(exceeded)
  })

/** Drops the first `count` bytes of a byte stream. */
const dropBytes = <E>(self: Stream.Stream<Uint8Array, E>, count: number): Stream.Stream<Uint8Array, E> =>
  count === 0
    ? self
    : Stream.suspend(() => {
        let left = count
        return Stream.mapChunks(self, (chunk) => {
          if (left === 0) return chunk
          const kept: Array<Uint8Array> = []
          for (const part of chunk) {
            if (left >= part.length) left -= part.length
            else {
              kept.push(left === 0 ? part : part.subarray(left))
              left = 0
            }
          }
          return Chunk.unsafeFromArray(kept)
        })
      })
