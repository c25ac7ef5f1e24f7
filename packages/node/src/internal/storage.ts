/**
 * One request to the storage and its redirect policy, on any `HttpClient`: no Batch credential (the
 * injected client carries none), no trace headers, no compression asked for, redirects followed by us
 * (never from https to http, never to another scheme, at most `MAX_REDIRECTS`).
 */
import { ClientError, DownloadLink, type Ids } from "@batch-export/core"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Timeout from "./timeout.js"
import * as Transport from "./transport.js"

export const ENDPOINT = "GET storage"

const MAX_REDIRECTS = 5

/** What one storage request can fail with. */
export type RequestError = ClientError.TransportError | ClientError.RequestTimeout | ClientError.InvalidLocation

/**
 * The storage client: the connection belongs to the caller's scope (an unread body — a redirect's, a
 * refusal's — is aborted when that scope closes, never left holding a socket); @effect/platform's tracing is
 * off because its spans would record the signed URL. It sends the client's `User-Agent`, no credential.
 */
export const client = (httpClient: HttpClient.HttpClient, userAgent: string): Client =>
  httpClient.pipe(
    HttpClient.withScope,
    HttpClient.withTracerPropagation(false),
    HttpClient.withTracerDisabledWhen(() => true),
    Transport.manualRedirects,
    HttpClient.mapRequest(HttpClientRequest.setHeader("user-agent", userAgent))
  )

/** The storage client's type: its responses need a scope. */
export type Client = HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>

/** One GET of `url`, following redirects by the one `Location` rule. */
export const get = (
  client: Client,
  options: {
    readonly fileId: Ids.FileId
    readonly url: URL
    readonly headers: Record<string, string>
    readonly timeout: Duration.Duration
  }
): Effect.Effect<HttpClientResponse.HttpClientResponse, RequestError, Scope.Scope> => {
  // identity: byte offsets (resume) and lengths must be those of the stored object, on every transport
  const headers = { ...options.headers, "accept-encoding": "identity" }
  const loop = (
    current: URL,
    hops: number
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, RequestError, Scope.Scope> =>
    Effect.flatMap(
      Transport.logged(
        ENDPOINT,
        `${ENDPOINT} ${current.origin}`,
        client.execute(HttpClientRequest.get(current, { headers }))
      ).pipe(Effect.mapError((e) => Transport.transportError(ENDPOINT, e))),
      (response) => {
        if (!Transport.isRedirect(response.status)) return Effect.succeed(response)
        if (hops >= MAX_REDIRECTS) {
          return Effect.fail(
            new ClientError.InvalidLocation({
              endpoint: ENDPOINT,
              fileId: options.fileId,
              status: response.status,
              reason: "too-many-redirects"
            })
          )
        }
        return Effect.flatMap(
          DownloadLink.resolveLocation({
            endpoint: ENDPOINT,
            fileId: options.fileId,
            status: response.status,
            location: response.headers["location"],
            from: current
          }),
          (next) => loop(next, hops + 1)
        )
      }
    )
  return Timeout.timeoutFail(
    loop(options.url, 0),
    options.timeout,
    () => new ClientError.RequestTimeout({ endpoint: ENDPOINT, timeout: options.timeout })
  )
}
