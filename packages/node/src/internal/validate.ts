/**
 * The checks behind every configuration source and every caller argument. Each answers with the value or
 * with what is wrong, never echoing the value: a message may reach a log, and a key must not.
 */
import { Ids } from "@batch-export/core"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
/** The value, or what is wrong with it (phrased to follow the setting's name). */
export type Check<A> = Either.Either<A, string>

// Header values must not be able to split a header or a request.
const TOKEN = /^[\x21-\x7e]+$/
const VERSION = /^\d+(\.\d+)*$/
// The one number syntax of every source spelled as text (environment, flags): decimal digits, and a fraction
// for seconds. No sign, exponent (`1e3`), hex (`0x10`) or separator: what a reader sees is what is used.
const PLAIN_WHOLE = /^\s*\d+\s*$/
const PLAIN_SECONDS = /^\s*\d+(\.\d+)?\s*$/
// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text (no controls)
const ENTITY_TAG = /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/

export const restApiKey = (value: Redacted.Redacted<string> | string): Check<Redacted.Redacted<string>> => {
  const key = Redacted.isRedacted(value) ? value : Redacted.make(value)
  return TOKEN.test(Redacted.value(key))
    ? Either.right(key)
    : Either.left("must be non-empty printable ASCII without spaces")
}

export const projectKey = (value: string): Check<Ids.ProjectKey> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(Ids.ProjectKey)(value),
    () => `must look like "project_" followed by letters and digits`
  )

/** An absolute http(s) origin, with an optional path prefix: no credentials, query or fragment. */
export const baseUrl = (value: string | URL): Check<URL> => {
  const text = String(value)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return Either.left("must be an absolute http(s) URL")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return Either.left("must be an http or https URL")
  // `new URL("https://h/?")` has an empty search: look at the text too, a bare `?` or `#` still breaks paths
  if (url.search !== "" || url.hash !== "" || /[?#]/.test(text)) {
    return Either.left("must not carry a query or a fragment")
  }
  if (url.username !== "" || url.password !== "") return Either.left("must not carry credentials")
  return Either.right(new URL(url.href.replace(/\/+$/, "")))
}

export const apiVersion = (value: string): Check<string> =>
  VERSION.test(value) ? Either.right(value) : Either.left(`must look like "2.10"`)

/** A whole number from `min` to `max`: a number, or text in decimal digits (`"16"`, never `"0x10"` or `"1e3"`). */
export const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: unknown): Check<number> => {
    const n = typeof value === "string" && PLAIN_WHOLE.test(value) ? Number(value) : value
    return typeof n === "number" && Number.isSafeInteger(n) && n >= min && n <= max
      ? Either.right(n)
      : Either.left(
          max === Number.MAX_SAFE_INTEGER
            ? `must be a whole number of at least ${min}, in decimal digits`
            : `must be a whole number from ${min} to ${max}, in decimal digits`
        )
  }

/** The most retries of one call: past it a retry budget is a mistake (a loop that never ends), not a policy. */
export const MAX_RETRIES = 100

/** `retry.maxRetries` (`BATCH_MAX_RETRIES`): 0 to {@link MAX_RETRIES}. */
export const maxRetries = wholeNumber(0, MAX_RETRIES)

/**
 * A duration: Effect's `DurationInput` (a number is milliseconds), or text — seconds in decimal digits with an
 * optional fraction (`"30"`, `"0.5"`, as flags and environment variables are written) or a duration
 * (`"30 seconds"`). Finite and not negative; `positive` also refuses zero (a zero timeout would fail every
 * request); `min` refuses less, saying why.
 */
export const duration =
  (options?: {
    readonly positive?: boolean
    readonly min?: { readonly duration: Duration.Duration; readonly why: string }
  }) =>
  (value: unknown): Check<Duration.Duration> => {
    const decoded =
      typeof value === "string" && PLAIN_SECONDS.test(value)
        ? Option.some(Duration.seconds(Number(value)))
        : // Duration clamps negative numbers to zero; a negative wait is a mistake worth reporting
          typeof value === "number" && value < 0
          ? Option.none()
          : Duration.decodeUnknown(typeof value === "string" ? value.trim() : value)
    return Option.match(decoded, {
      onNone: () =>
        Either.left(`must be a number of seconds in decimal digits (30, 0.5) or a duration such as "30 seconds"`),
      onSome: (d) =>
        !Duration.isFinite(d)
          ? Either.left("must be a finite duration")
          : options?.positive === true && Duration.toMillis(d) <= 0
            ? Either.left("must be a positive number of seconds")
            : options?.min !== undefined && Duration.lessThan(d, options.min.duration)
              ? Either.left(`must be at least ${Duration.format(options.min.duration)}: ${options.min.why}`)
              : Either.right(d)
    })
  }

/** The shortest wait between two looks at an export (`awaitCompletion`'s `pollInterval`, `--poll-interval`). */
export const MIN_POLL_INTERVAL = Duration.seconds(1)

/** A poll interval: at least {@link MIN_POLL_INTERVAL}. */
export const pollInterval = duration({
  min: { duration: MIN_POLL_INTERVAL, why: "Batch rate-limits its API" }
})

/**
 * An entity-tag as `ETag` carries it, strong (`"abc"`) or weak (`W/"abc"`). It is sent back in `If-Range`: a
 * control character would split the request, and undici refuses it only once a request is under way.
 */
export const entityTag = (value: unknown): Check<string> =>
  typeof value === "string" && ENTITY_TAG.test(value)
    ? Either.right(value)
    : Either.left(`must be an entity-tag such as "abc" (quotes included) or W/"abc", without control characters`)
