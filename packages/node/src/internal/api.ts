/**
 * Batch's API on the wire: base URL, version and credentials on every request; redirects read, never
 * followed; bounded bodies; 429 retried on the policy's schedule, and for idempotent calls also 503 and
 * refused or reset connections.
 */
import { ApiError, ClientError } from "@batch-export/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as BatchConfig from "../BatchConfig.js"
import * as RetrySchedule from "../RetrySchedule.js"
import * as Timeout from "./timeout.js"
import * as Transport from "./transport.js"

const ERROR_BODY_LIMIT = 64 * 1024

/** A body this small that has fully arrived is let to end rather than destroyed (`Transport.settle`). */
const SETTLE_LIMIT = 16 * 1024

/** What any call to Batch's API can fail with. */
export type CallError = ApiError.ApiError | ClientError.TransportError | ClientError.RequestTimeout

/** The API side of the client. */
export interface Api {
  /**
   * Sends `request` and hands the response to `handle` inside a scope that closes the connection; the
   * whole exchange is bounded by the request timeout and retried per the policy.
   */
  readonly exchange: <A, E>(
    endpoint: string,
    request: HttpClientRequest.HttpClientRequest,
    handle: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, E, Scope.Scope>
  ) => Effect.Effect<A, E | CallError>
  /** A JSON call: `expected` status, body bounded by `limits.jsonBody`, decoded with `schema`. */
  readonly json: <A, I>(
    endpoint: string,
    request: HttpClientRequest.HttpClientRequest,
    expected: number,
    schema: Schema.Schema<A, I, never>
  ) => Effect.Effect<A, CallError | ClientError.ResponseDecodeError>
  /**
   * Batch's answer decoded by `decode`, or the `ResponseDecodeError` naming the endpoint (the quoted value
   * scrubbed of the key and signed URLs).
   */
  readonly decoded: <A>(
    endpoint: string,
    decode: (body: unknown) => Either.Either<A, ParseResult.ParseIssue>,
    body: unknown
  ) => Either.Either<A, ClientError.ResponseDecodeError>
  /** Turns a response that is not the expected one into its classified error. */
  readonly fail: (endpoint: string, response: HttpClientResponse.HttpClientResponse) => Effect.Effect<never, CallError>
}

export const make = (config: BatchConfig.Service, httpClient: HttpClient.HttpClient): Api => {
  const prefix = `${config.baseUrl.href.replace(/\/+$/, "")}/${config.apiVersion}`
  // a server may echo the key it was sent: what it says is scrubbed of it before it enters an error
  const secrets = [Redacted.value(config.restApiKey)]

  // Trace context is not propagated to Batch (it documents no use for it), and @effect/platform's span is
  // off: its exit value is the response, which holds the Authorization header and the signed Location.
  const client = httpClient.pipe(
    HttpClient.withScope,
    HttpClient.withTracerPropagation(false),
    HttpClient.withTracerDisabledWhen(() => true),
    Transport.manualRedirects,
    HttpClient.mapRequest((request) =>
      request.pipe(
        HttpClientRequest.prependUrl(prefix),
        HttpClientRequest.bearerToken(config.restApiKey),
        HttpClientRequest.setHeader("x-batch-project", config.projectKey),
        HttpClientRequest.setHeader("user-agent", config.userAgent),
        HttpClientRequest.acceptJson
      )
    )
  )

  const fail = (endpoint: string, response: HttpClientResponse.HttpClientResponse) =>
    Effect.flatMap(Transport.readBoundedText(response, ERROR_BODY_LIMIT), (body) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.fail(
          ApiError.classify({ endpoint, status: response.status, headers: response.headers, body, now, secrets })
        )
      )
    )

  const timeout = config.timeouts.request

  const exchange = <A, E>(
    endpoint: string,
    request: HttpClientRequest.HttpClientRequest,
    handle: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, E, Scope.Scope>
  ): Effect.Effect<A, E | CallError> =>
    Effect.suspend(() => {
      let attempts = 0
      // Only an idempotent call is repeated when Batch may have acted on it: a 503 (a gateway's answer can
      // follow a request Batch processed) or a connection refused or reset before an answer. `POST
      // /profiles/export` is not idempotent (each repeat could create, and bill, another export): only a 429,
      // a refusal to act, is retried. Attempts run one after the other, so a flag says whether the last one
      // failed before any answer (the error object itself cannot carry it: failures are not guaranteed to keep
      // their identity).
      let unanswered = false
      const idempotent = request.method === "GET" || request.method === "HEAD"
      const retryable = (error: unknown) =>
        idempotent
          ? ApiError.isRetryable(error) || (unanswered && error instanceof ClientError.TransportError)
          : error instanceof ApiError.TooManyRequests
      const attempt = Effect.suspend(() => {
        attempts++
        unanswered = false
        return Timeout.timeoutFail(
          Effect.scoped(
            Effect.matchEffect(Transport.logged(endpoint, endpoint, client.execute(request)), {
              onFailure: (e) => {
                unanswered = e._tag === "RequestError"
                return Effect.fail(Transport.transportError(endpoint, e))
              },
              // an unread body that has fully arrived (a 307's) is let to end, so that closing the scope need not
              // destroy it; within the timeout, like the rest of the attempt
              onSuccess: (response) => Effect.zipLeft(handle(response), Transport.settle(response, SETTLE_LIMIT))
            })
          ),
          timeout,
          () => new ClientError.RequestTimeout({ endpoint, timeout })
        )
      })
      // Most calls succeed at once: the retry driver (a schedule and its state) is built only after a failure
      // it may retry, and that failure is replayed as its first input so that the waits are the policy's.
      const run = Effect.catchAll(attempt, (first) => {
        if (!retryable(first)) return Effect.fail(first)
        let replay = true
        const again = Effect.suspend(() => {
          if (!replay) return attempt
          replay = false
          return Effect.fail(first)
        })
        return Effect.retry(again, RetrySchedule.make<E | CallError>(config.retry, retryable))
      })
      return run.pipe(
        Effect.ensuring(Effect.suspend(() => Effect.annotateCurrentSpan("batch.attempts", attempts))),
        // one span per call: its stack trace would cost more than the call (and says nothing a name does not)
        Effect.withSpan(`http ${endpoint}`, {
          kind: "client",
          attributes: { "batch.endpoint": endpoint },
          captureStackTrace: false
        })
      )
    })

  const decoded = <A>(
    endpoint: string,
    decode: (body: unknown) => Either.Either<A, ParseResult.ParseIssue>,
    body: unknown
  ): Either.Either<A, ClientError.ResponseDecodeError> =>
    Either.mapLeft(
      decode(body),
      (issue) => new ClientError.ResponseDecodeError({ endpoint, detail: Transport.formatIssue(issue, 2000, secrets) })
    )

  const json = <A, I>(
    endpoint: string,
    request: HttpClientRequest.HttpClientRequest,
    expected: number,
    schema: Schema.Schema<A, I, never>
  ): Effect.Effect<A, CallError | ClientError.ResponseDecodeError> => {
    const decode = ParseResult.decodeUnknownEither(schema)
    return exchange<A, CallError | ClientError.ResponseDecodeError>(endpoint, request, (response) => {
      if (response.status !== expected) return fail(endpoint, response)
      return Effect.flatMap(Transport.readBoundedJson(endpoint, response, config.limits.jsonBody), (body) =>
        decoded(endpoint, decode, body)
      )
    })
  }

  return { exchange, json, decoded, fail }
}

/** Decodes a caller's argument with `schema`, failing with `InvalidArgument` before any request. */
export const argument = <A, I>(
  name: string,
  schema: Schema.Schema<A, I, never>,
  value: unknown
): Effect.Effect<A, ClientError.InvalidArgument> =>
  Either.mapLeft(
    ParseResult.decodeUnknownEither(schema)(value),
    (issue) => new ClientError.InvalidArgument({ argument: name, detail: Transport.formatIssue(issue) })
  )
