import { ApiError, ClientError } from "@batch-export/core"
import { FetchHttpClient, Headers, HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Clock, Duration, Effect, Option, ParseResult, Schema, type Scope } from "effect"
import type * as BatchConfig from "../BatchConfig.js"
import * as RetrySchedule from "../RetrySchedule.js"
import * as Transport from "./transport.js"

const ERROR_BODY_LIMIT = 64 * 1024

/** The errors of any API call. */
export type CallError = ApiError.ApiError | ClientError.TransportError | ClientError.RequestTimeout

/** Batch's API: base URL, version, credentials; redirects are read, never followed. */
export const make = (config: BatchConfig.Service, httpClient: HttpClient.HttpClient) => {
  const prefix = `${config.baseUrl.href.replace(/\/+$/, "")}/${config.apiVersion}`

  // Even a fetch-based transport must not follow Batch's redirects.
  const manualRedirects = <E, R>(client: HttpClient.HttpClient.With<E, R>) =>
    HttpClient.transformResponse(client, (effect) =>
      Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
        Effect.provideService(effect, FetchHttpClient.RequestInit, {
          ...Option.getOrElse(init, () => ({})),
          redirect: "manual"
        })
      )
    )

  // Trace context is not propagated to Batch: it documents no use for it.
  // The Location of /exports/download is a signed link: @effect/platform's span must not record it.
  const client = httpClient.pipe(
    HttpClient.withScope,
    HttpClient.withTracerPropagation(false),
    HttpClient.transformResponse(Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, "location"])),
    manualRedirects,
    HttpClient.mapRequest((request) =>
      request.pipe(
        HttpClientRequest.prependUrl(prefix),
        HttpClientRequest.bearerToken(config.restApiKey),
        HttpClientRequest.setHeader("x-batch-project", config.projectKey),
        HttpClientRequest.acceptJson
      )
    )
  )

  /** Turns a response that is not the expected one into its classified error. */
  const fail = (endpoint: string, response: HttpClientResponse.HttpClientResponse) =>
    Effect.flatMap(Transport.readBoundedText(response, ERROR_BODY_LIMIT), (body) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.fail(ApiError.classify({ endpoint, status: response.status, headers: response.headers, body, now }))
      )
    )

  /**
   * Sends `request` and hands the response to `handle` inside a scope that closes the connection; the
   * whole exchange is bounded by the request timeout and retried on 429/503 per the policy.
   */
  const exchange = <A, E>(
    endpoint: string,
    request: HttpClientRequest.HttpClientRequest,
    handle: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, E, Scope.Scope>
  ): Effect.Effect<A, E | CallError> =>
    Effect.suspend(() => {
      let attempts = 0
      const attempt = Effect.suspend(() => {
        attempts++
        return client.execute(request)
      })
      return Effect.scoped(
        Effect.flatMap(attempt.pipe(Effect.mapError((e) => Transport.transportError(endpoint, e))), handle)
      ).pipe(
        Effect.timeoutFail({
          duration: config.timeouts.request,
          onTimeout: () => new ClientError.RequestTimeout({ endpoint, timeout: config.timeouts.request })
        }),
        Effect.tapError((error) =>
          ApiError.isRetryable(error)
            ? Effect.logDebug(`batch-export: ${error.message}; retrying if allowed`)
            : Effect.void
        ),
        Effect.tap(() => Effect.annotateCurrentSpan("batch.attempts", attempts)),
        Effect.tapError(() => Effect.annotateCurrentSpan("batch.attempts", attempts)),
        Effect.retry(RetrySchedule.make<E | CallError>(config.retry)),
        Effect.withSpan(`batch-export ${endpoint}`, { kind: "client" })
      )
    })

  /** A JSON call: `expected` status, body decoded with `schema`. */
  const json = <A, I>(
    endpoint: string,
    request: HttpClientRequest.HttpClientRequest,
    expected: number,
    schema: Schema.Schema<A, I, never>
  ): Effect.Effect<A, CallError | ClientError.ResponseDecodeError> =>
    exchange<A, CallError | ClientError.ResponseDecodeError>(endpoint, request, (response) => {
      if (response.status !== expected) return fail(endpoint, response)
      return response.json.pipe(
        Effect.mapError((e) =>
          e.reason === "Decode" && e.cause instanceof SyntaxError
            ? new ClientError.ResponseDecodeError({ endpoint, detail: "the body is not JSON" })
            : Transport.transportError(endpoint, e)
        ),
        Effect.flatMap((body) =>
          Effect.mapError(
            ParseResult.decodeUnknown(schema)(body),
            (issue) =>
              new ClientError.ResponseDecodeError({
                endpoint,
                detail: ParseResult.TreeFormatter.formatIssueSync(issue)
              })
          )
        )
      )
    })

  return { client, prefix, fail, exchange, json }
}

/** Decodes a caller's argument with `schema`, failing with `InvalidArgument` before any request. */
export const argument = <A, I>(
  name: string,
  schema: Schema.Schema<A, I, never>,
  value: unknown
): Effect.Effect<A, ClientError.InvalidArgument> =>
  Effect.mapError(
    ParseResult.decodeUnknown(schema)(value),
    (issue) =>
      new ClientError.InvalidArgument({ argument: name, detail: ParseResult.TreeFormatter.formatIssueSync(issue) })
  )

/** Decodes a caller's duration, failing with `InvalidArgument` rather than throwing. */
export const duration = (name: string, value: unknown): Effect.Effect<Duration.Duration, ClientError.InvalidArgument> =>
  // Duration clamps negative numbers to zero; a negative wait is a mistake worth reporting
  Option.match(typeof value === "number" && value < 0 ? Option.none() : Duration.decodeUnknown(value), {
    onNone: () =>
      Effect.fail(
        new ClientError.InvalidArgument({ argument: name, detail: `expected a duration, got ${JSON.stringify(value)}` })
      ),
    onSome: (d) =>
      Duration.isFinite(d) && Duration.toMillis(d) >= 0
        ? Effect.succeed(d)
        : Effect.fail(new ClientError.InvalidArgument({ argument: name, detail: "expected a finite duration" }))
  })
