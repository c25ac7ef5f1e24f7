import { ClientError, type DownloadLink, ExportError, Ids, Records, Redaction } from "@batch-export/core"
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { DateTime, Duration, Effect, Option, Redacted, Ref, Schedule, type Scope, Stream } from "effect"
import type * as BatchConfig from "../BatchConfig.js"
import * as Transport from "./transport.js"

const STORAGE = "GET storage"

/** What a download can fail with once the link is being fetched. */
export type StorageFailure<LinkError> =
  | LinkError
  | ClientError.StorageError
  | ClientError.TransportError
  | ClientError.RequestTimeout
  | ClientError.InvalidLocation
  | ExportError.ContentChanged

/** An open file: its decoded size when known, and its bytes, resumed across dropped connections. */
export interface Opened<E> {
  readonly fileId: Ids.FileId
  readonly total: Option.Option<number>
  readonly bytes: Stream.Stream<Uint8Array, E>
}

/** A link is renewed when it has less than this left: a request must not start on a dying link. */
const EXPIRY_MARGIN = Duration.seconds(30)

/** Mid-body failures worth resuming from the last byte received. */
const isResumable = (error: { readonly _tag: string }) =>
  error._tag === "TransportError" || error._tag === "RequestTimeout"

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

/** `Content-Range: bytes <start>-<end>/<total>` */
const contentRangeStart = (response: HttpClientResponse.HttpClientResponse): Option.Option<number> => {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers["content-range"]?.trim() ?? "")
  return match === null ? Option.none() : Option.some(Number(match[1]))
}

/**
 * The storage side of a download: no credential is ever added here (the injected client carries none),
 * redirects are followed only to http(s) without downgrading from https, the link is renewed when it is
 * about to expire or is refused (401/403/410), and a body cut short (reset, early close, idle timeout) is
 * resumed with `Range` + `If-Range` on the strong `ETag` of the first answer, on the resume schedule.
 */
export const make = <LinkError extends { readonly _tag: string }>(options: {
  readonly httpClient: HttpClient.HttpClient
  readonly config: BatchConfig.Service
  readonly link: (fileId: Ids.FileId) => Effect.Effect<DownloadLink.DownloadLink, LinkError>
  readonly resumeSchedule: Schedule.Schedule<unknown, unknown>
}) => {
  const { config } = options
  // Spans are disabled: @effect/platform would record the signed URL; ours record the origin only.
  const client = options.httpClient.pipe(
    HttpClient.withScope,
    HttpClient.withTracerDisabledWhen(() => true)
  )

  const idleTimeout = () => new ClientError.RequestTimeout({ endpoint: STORAGE, timeout: config.timeouts.idle })

  /** One GET, following at most 5 redirects; never from https to http, never to another scheme. */
  const get = (fileId: Ids.FileId, url: URL, headers: Record<string, string>) => {
    const loop = (
      current: URL,
      hops: number
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, StorageFailure<never>, Scope.Scope> =>
      Effect.flatMap(
        client
          .execute(HttpClientRequest.get(current, { headers }))
          .pipe(Effect.mapError((e) => Transport.transportError(STORAGE, e))),
        (response) => {
          const location = response.headers["location"]
          if (response.status < 300 || response.status >= 400 || location === undefined || hops >= 5) {
            return Effect.succeed(response)
          }
          let next: URL
          try {
            next = new URL(location, current)
          } catch {
            return Effect.fail(
              new ClientError.InvalidLocation({ fileId, status: response.status, reason: "malformed" })
            )
          }
          if (next.protocol !== "http:" && next.protocol !== "https:") {
            return Effect.fail(
              new ClientError.InvalidLocation({ fileId, status: response.status, reason: "unsupported-scheme" })
            )
          }
          if (current.protocol === "https:" && next.protocol === "http:") {
            return Effect.fail(
              new ClientError.InvalidLocation({ fileId, status: response.status, reason: "insecure-downgrade" })
            )
          }
          return loop(next, hops + 1)
        }
      )
    return loop(url, 0).pipe(
      Effect.timeoutFail({
        duration: config.timeouts.request,
        onTimeout: () => new ClientError.RequestTimeout({ endpoint: STORAGE, timeout: config.timeouts.request })
      })
    )
  }

  /** Decodes `Content-Encoding` (gzip, deflate); anything else is refused. */
  const decoded = (
    response: HttpClientResponse.HttpClientResponse,
    bytes: Stream.Stream<Uint8Array, ClientError.TransportError | ClientError.RequestTimeout>
  ): Stream.Stream<Uint8Array, ClientError.TransportError | ClientError.RequestTimeout> => {
    const encoding = (response.headers["content-encoding"] ?? "identity").trim().toLowerCase()
    if (encoding === "identity" || encoding === "") return bytes
    if (encoding === "gzip" || encoding === "x-gzip") {
      return Records.gunzipIfNeeded(bytes).pipe(
        Stream.mapError((e) =>
          e._tag === "RecordDecodeError" ? new ClientError.TransportError({ endpoint: STORAGE, detail: e.detail }) : e
        )
      )
    }
    return Stream.fail(
      new ClientError.TransportError({ endpoint: STORAGE, detail: `unsupported Content-Encoding ${encoding}` })
    )
  }

  /** The body of one answer: idle timeout, and a check that it is as long as announced. */
  const body = (response: HttpClientResponse.HttpClientResponse) => {
    const raw = response.stream.pipe(
      Stream.mapError((e) => Transport.transportError(STORAGE, e)),
      Stream.timeoutFail(idleTimeout, config.timeouts.idle),
      checkLength(Transport.contentLength(response))
    )
    return decoded(response, raw)
  }

  const open = (
    fileId: Ids.FileId
  ): Effect.Effect<Opened<StorageFailure<LinkError>>, StorageFailure<LinkError>, Scope.Scope> =>
    Effect.gen(function* () {
      const current = yield* Ref.make(yield* options.link(fileId))
      const renew = Effect.tap(options.link(fileId), (link) => Ref.set(current, link))
      const usable = Effect.flatMap(Effect.zip(Ref.get(current), DateTime.now), ([link, now]) =>
        link.isExpired(now, EXPIRY_MARGIN) ? renew : Effect.succeed(link)
      )
      const request = (headers: Record<string, string>) =>
        Effect.gen(function* () {
          const link = yield* usable
          const first = yield* get(fileId, Redacted.value(link.url), headers)
          const response = isRefusedLink(first.status)
            ? yield* Effect.flatMap(renew, (fresh) => get(fileId, Redacted.value(fresh.url), headers))
            : first
          // 416 only answers a resume: the caller decides whether the object was already complete
          const rangeNotSatisfiable = response.status === 416 && "range" in headers
          if ((response.status < 200 || response.status >= 300) && !rangeNotSatisfiable) {
            return yield* Effect.fail(
              new ClientError.StorageError({
                status: response.status,
                origin: Redaction.safeOrigin(response.request.url)
              })
            )
          }
          return response
        })

      const first = yield* request({})
      const encoded = (first.headers["content-encoding"] ?? "identity").toLowerCase() !== "identity"
      const etag = strongEtag(first)
      // Resuming needs byte offsets into the stored object: not possible through a Content-Encoding.
      const resumable = !encoded && first.headers["accept-ranges"] !== "none"
      const total = encoded ? Option.none<number>() : Transport.contentLength(first)
      let received = 0
      let resumes = 0
      const counted = <E>(bytes: Stream.Stream<Uint8Array, E>) =>
        Stream.tap(bytes, (chunk) => Effect.sync(() => void (received += chunk.length)))

      const driver = yield* Schedule.driver(options.resumeSchedule)
      /** One more request from the last byte received, checked to continue the same object. */
      const continuation = (): Stream.Stream<Uint8Array, StorageFailure<LinkError>> =>
        Stream.unwrapScoped(
          Effect.gen(function* (): Effect.fn.Return<
            Stream.Stream<Uint8Array, StorageFailure<LinkError>>,
            StorageFailure<LinkError>,
            Scope.Scope
          > {
            const offset = received
            yield* Effect.logDebug(`batch-export: resuming ${fileId} at byte ${offset}`)
            resumes++
            yield* Effect.annotateCurrentSpan({ "batch.resume_offset": offset, "batch.resumes": resumes })
            const response = yield* request(
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
            const sameEtag = Option.getEquivalence((a: string, b: string) => a === b)(etag, strongEtag(response))
            if (response.status === 206 && sameEtag && Option.contains(contentRangeStart(response), offset)) {
              return counted(body(response))
            }
            if (response.status === 200 && sameEtag && Option.isSome(etag)) {
              // the storage ignored Range: the same object from byte 0; skip what was already received
              return counted(dropBytes(body(response), offset))
            }
            return Stream.fail(new ExportError.ContentChanged({ fileId, offset }))
          })
        )
      // Each failure is offered to the schedule; once it is spent, the failure is final.
      const resume = (error: StorageFailure<LinkError>): Stream.Stream<Uint8Array, StorageFailure<LinkError>> =>
        !resumable || !isResumable(error)
          ? Stream.fail(error)
          : Stream.unwrap(
              Effect.match(driver.next(error), {
                onFailure: () => Stream.fail(error),
                onSuccess: () => Stream.catchAll(continuation(), resume)
              })
            )
      const bytes = counted(body(first)).pipe(Stream.catchAll(resume))
      return { fileId, total, bytes }
    })

  return { open }
}

/** Drops the first `count` bytes of a byte stream. */
const dropBytes = <E>(self: Stream.Stream<Uint8Array, E>, count: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let left = count
    return Stream.filterMap(self, (chunk) => {
      if (left === 0) return Option.some(chunk)
      if (chunk.length <= left) {
        left -= chunk.length
        return Option.none()
      }
      const rest = chunk.subarray(left)
      left = 0
      return Option.some(rest)
    })
  })

/** Fails a body that ends before its announced `Content-Length`. */
const checkLength =
  (announced: Option.Option<number>) =>
  <E>(self: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E | ClientError.TransportError> =>
    Option.match(announced, {
      onNone: () => self,
      onSome: (expected) =>
        Stream.suspend(() => {
          let received = 0
          return Stream.concat(
            Stream.tap(self, (chunk) => Effect.sync(() => void (received += chunk.length))),
            Stream.suspend(() =>
              received === expected
                ? Stream.empty
                : Stream.fail(
                    new ClientError.TransportError({
                      endpoint: STORAGE,
                      detail: `the body ended after ${received} of ${expected} bytes`
                    })
                  )
            )
          )
        })
    })
