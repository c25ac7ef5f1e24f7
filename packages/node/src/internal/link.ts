/**
 * The signed link's lifecycle: asked from `/exports/download` (whose redirect is read, never followed),
 * used while it has time left, renewed when it is about to expire or the storage refuses it.
 */
import { type ClientError, DownloadLink, type Ids } from "@batch-export/core"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { Api, CallError } from "./api.js"
import * as Transport from "./transport.js"

export const ENDPOINT = "GET /exports/download"

/** A link is renewed when it has less than this left: a request must not start on a dying link. */
const EXPIRY_MARGIN = Duration.seconds(30)

/** What asking for a link can fail with. */
export type LinkError = CallError | ClientError.InvalidLocation

/** Asks Batch for a signed link to `fileId`. */
export const request = (api: Api, fileId: Ids.FileId): Effect.Effect<DownloadLink.DownloadLink, LinkError> =>
  api.exchange<DownloadLink.DownloadLink, LinkError>(
    ENDPOINT,
    HttpClientRequest.get("/exports/download", { urlParams: { id: fileId } }),
    (response) =>
      Transport.isRedirect(response.status)
        ? Effect.flatMap(DateTime.now, (issuedAt) =>
            DownloadLink.fromLocation({
              fileId,
              status: response.status,
              location: response.headers["location"],
              requestUrl: new URL(response.request.url),
              issuedAt
            })
          )
        : api.fail(ENDPOINT, response)
  )

/** The link of one download: the current one while usable, a fresh one on demand. */
export interface Lease<E> {
  /** The current link, renewed first when it is about to expire. */
  readonly usable: Effect.Effect<DownloadLink.DownloadLink, E>
  /** A fresh link, replacing the current one (the storage refused it). */
  readonly renew: Effect.Effect<DownloadLink.DownloadLink, E>
}

/** Takes a first link now; later requests go through `usable` and `renew`. */
export const lease = <E>(fetch: Effect.Effect<DownloadLink.DownloadLink, E>): Effect.Effect<Lease<E>, E> =>
  Effect.gen(function* () {
    const current = yield* Ref.make(yield* fetch)
    const renew = Effect.tap(fetch, (link) => Ref.set(current, link))
    const usable = Effect.flatMap(Effect.zip(Ref.get(current), DateTime.now), ([link, now]) =>
      link.isExpired(now, EXPIRY_MARGIN) ? renew : Effect.succeed(link)
    )
    return { usable, renew }
  })
