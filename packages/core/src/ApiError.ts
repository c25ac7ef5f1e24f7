/**
 * One error class for each status Batch documents on its export endpoints, plus `UnexpectedStatus`.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as BatchErrorBody from "./BatchErrorBody.js"
import * as Redaction from "./Redaction.js"
import * as RetryAfter from "./RetryAfter.js"

const batchFields = {
  /** The endpoint that answered, e.g. `"GET /exports/download"` (never a URL with credentials). */
  endpoint: Schema.String,
  /** Batch's `error_code`, when the body had one. */
  errorCode: Schema.optional(BatchErrorBody.ErrorCode),
  /** Batch's `error_message`, when the body had one. */
  errorMessage: Schema.optional(Schema.String)
}

const retryAfterField = {
  /** The server's `Retry-After`, when it sent a valid one. */
  retryAfter: Schema.optional(Schema.DurationFromSelf)
}

const describe = (self: {
  readonly _tag: string
  readonly status: number
  readonly endpoint: string
  readonly errorCode?: BatchErrorBody.ErrorCode | undefined
  readonly errorMessage?: string | undefined
}): string => {
  const code = self.errorCode === undefined ? "" : ` ${self.errorCode}`
  const text = self.errorMessage === undefined ? "" : `: ${self.errorMessage}`
  return `${self.endpoint} answered HTTP ${self.status}${code}${text}`
}

/**
 * 400: "The request is malformed".
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  status: Schema.Literal(400),
  ...batchFields
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 401: "The Rest API Key is not valid for this project".
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  status: Schema.Literal(401),
  ...batchFields
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 404: unknown (or no longer available) id.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  status: Schema.Literal(404),
  ...batchFields
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 409: the export is not in a state that allows the call (e.g. not `SUCCESS` yet).
 *
 * @since 0.1.0
 * @category errors
 */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  status: Schema.Literal(409),
  ...batchFields
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 429: "Too Many Requests". Retryable; carries `Retry-After` when Batch sent one.
 *
 * @since 0.1.0
 * @category errors
 */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", {
  status: Schema.Literal(429),
  ...batchFields,
  ...retryAfterField
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 500: "Unexpected error".
 *
 * @since 0.1.0
 * @category errors
 */
export class InternalServerError extends Schema.TaggedError<InternalServerError>()("InternalServerError", {
  status: Schema.Literal(500),
  ...batchFields
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 503: "Batch's services are under maintenance. Please try again later". Retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", {
  status: Schema.Literal(503),
  ...batchFields,
  ...retryAfterField
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * Any status Batch does not document for the endpoint (a proxy's 502, a 200 where a 307 was due…).
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedStatus extends Schema.TaggedError<UnexpectedStatus>()("UnexpectedStatus", {
  status: Schema.Number,
  ...batchFields
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * Every error an HTTP status from Batch's API can produce.
 *
 * @since 0.1.0
 * @category errors
 */
export type ApiError =
  | BadRequest
  | Unauthorized
  | NotFound
  | Conflict
  | TooManyRequests
  | InternalServerError
  | ServiceUnavailable
  | UnexpectedStatus

/**
 * The errors worth retrying: Batch asks to wait and retry on 429 and 503.
 *
 * @since 0.1.0
 * @category errors
 */
export type Retryable = TooManyRequests | ServiceUnavailable

/**
 * @since 0.1.0
 * @category schemas
 */
export const isRetryable = (error: unknown): error is Retryable =>
  error instanceof TooManyRequests || error instanceof ServiceUnavailable

/**
 * The documented statuses, each with its class.
 *
 * @since 0.1.0
 * @category constructors
 */
export const byStatus = {
  400: BadRequest,
  401: Unauthorized,
  404: NotFound,
  409: Conflict,
  429: TooManyRequests,
  500: InternalServerError,
  503: ServiceUnavailable
} as const

/**
 * What the classifier needs from a response.
 *
 * @since 0.1.0
 * @category constructors
 */
export interface ResponseFacts {
  readonly endpoint: string
  readonly status: number
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The body as text; empty when there was none. */
  readonly body: string
  /** Epoch millis, to resolve an HTTP-date `Retry-After`. */
  readonly now: number
  /** What the server may echo and the error must not hold: the REST key (see `Redaction.scrub`). */
  readonly secrets?: ReadonlyArray<string> | undefined
}

/**
 * Turns a non-success response into its error: the class is chosen by status alone, and Batch's
 * `error_code`/`error_message` are added when the body has them, scrubbed (`Redaction.scrub`): a URL in them
 * keeps only its origin, and a bearer token or one of `facts.secrets` (a key the server echoes) becomes
 * `<redacted>`. Every consumer of the error (its message, JSON, `Cause.pretty`, spans, logs) sees only that.
 *
 * @since 0.1.0
 * @category constructors
 */
export const classify = (facts: ResponseFacts): ApiError => {
  const { errorCode, errorMessage } = BatchErrorBody.parse(facts.body)
  const scrub = (text: string) => Redaction.scrub(text, facts.secrets)
  const base = {
    endpoint: facts.endpoint,
    ...(errorCode === undefined ? {} : { errorCode: typeof errorCode === "string" ? scrub(errorCode) : errorCode }),
    ...(errorMessage === undefined ? {} : { errorMessage: scrub(errorMessage) })
  }
  const header = facts.headers["retry-after"]
  const retryAfter: Option.Option<Duration.Duration> =
    header === undefined ? Option.none() : RetryAfter.parse(header, facts.now)
  const withRetryAfter = Option.match(retryAfter, {
    onNone: () => base,
    onSome: (duration) => ({ ...base, retryAfter: duration })
  })
  switch (facts.status) {
    case 400:
      return new BadRequest({ status: 400, ...base })
    case 401:
      return new Unauthorized({ status: 401, ...base })
    case 404:
      return new NotFound({ status: 404, ...base })
    case 409:
      return new Conflict({ status: 409, ...base })
    case 429:
      return new TooManyRequests({ status: 429, ...withRetryAfter })
    case 500:
      return new InternalServerError({ status: 500, ...base })
    case 503:
      return new ServiceUnavailable({ status: 503, ...withRetryAfter })
    default:
      return new UnexpectedStatus({ status: facts.status, ...base })
  }
}
