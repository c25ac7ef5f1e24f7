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

// printable ASCII and spaces, no control character: a header value that cannot split a header
const HEADER_TEXT = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/

/** A `User-Agent` value: printable ASCII, inner spaces allowed (`batch-export/0.1.0 (node 22.12.0)`). */
export const userAgent = (value: string): Check<string> =>
  HEADER_TEXT.test(value)
    ? Either.right(value)
    : Either.left("must be printable ASCII (inner spaces allowed), without control characters")

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

/** Milliseconds in one of each duration unit a text may name (`500ms`, `30s`, `2m`, `1h`, `2 minutes`). */
const DURATION_UNITS: Readonly<Record<string, number>> = (() => {
  const units: Record<string, number> = {}
  const spell = (millis: number, ...names: ReadonlyArray<string>) => names.forEach((name) => (units[name] = millis))
  spell(1e-6, "ns", "nano", "nanos", "nanosecond", "nanoseconds")
  spell(1e-3, "us", "µs", "micro", "micros", "microsecond", "microseconds")
  spell(1, "ms", "milli", "millis", "millisecond", "milliseconds")
  spell(1000, "s", "sec", "secs", "second", "seconds")
  spell(60_000, "m", "min", "mins", "minute", "minutes")
  spell(3_600_000, "h", "hr", "hrs", "hour", "hours")
  spell(86_400_000, "d", "day", "days")
  spell(604_800_000, "w", "week", "weeks")
  return units
})()
// one or more amounts, each with its unit: `2m`, `1h30m`, `1 minute 30 seconds`, `0.5 s`
const DURATION_TEXT = /^\s*(?:\d+(?:\.\d+)?\s*[a-zµ]+\s*)+$/i
const DURATION_PART = /(\d+(?:\.\d+)?)\s*([a-zµ]+)/gi

/** Text as a person writes a duration: plain seconds (`30`, `0.5`) or amounts with units (`2m`, `1h30m`). */
const durationText = (text: string): Option.Option<Duration.Duration> => {
  if (PLAIN_SECONDS.test(text)) return Option.some(Duration.seconds(Number(text)))
  if (!DURATION_TEXT.test(text)) return Option.none()
  let millis = 0
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    const size = DURATION_UNITS[unit!.toLowerCase()]
    if (size === undefined) return Option.none()
    millis += Number(amount) * size
  }
  return Option.some(Duration.millis(millis))
}

/**
 * A duration, by one rule for every source: a number is seconds (`30`, `0.5`), as on the command line and in
 * the environment — never Effect's milliseconds, the trap `timeouts: { request: 1 }` fell into; text is seconds
 * in decimal digits or amounts with units (`500ms`, `30s`, `2m`, `1h30m`, `"2 minutes"`); a `Duration` is taken
 * as it is. Anything else (a bigint, a tuple) is refused rather than guessed at. Finite and not negative;
 * `positive` also refuses zero (a zero timeout would fail every request); `min` refuses less, saying why.
 */
export const duration =
  (options?: {
    readonly positive?: boolean
    readonly min?: { readonly duration: Duration.Duration; readonly why: string }
  }) =>
  (value: unknown): Check<Duration.Duration> => {
    const decoded =
      typeof value === "string"
        ? durationText(value)
        : typeof value === "number"
          ? // Duration clamps negative numbers to zero, and NaN is no duration: both are mistakes worth reporting
            value >= 0
            ? Option.some(Duration.seconds(value))
            : Option.none()
          : Duration.isDuration(value)
            ? Option.some(value)
            : Option.none()
    return Option.match(decoded, {
      onNone: () =>
        Either.left(
          `must be a number of seconds (30, 0.5) or a duration with a unit (500ms, 30s, 2m, 1h, "2 minutes")`
        ),
      onSome: (d) =>
        !Duration.isFinite(d)
          ? Either.left("must be a finite duration")
          : options?.positive === true && Duration.toMillis(d) <= 0
            ? Either.left("must be a positive duration")
            : options?.min !== undefined && Duration.lessThan(d, options.min.duration)
              ? Either.left(`must be at least ${Duration.format(options.min.duration)}: ${options.min.why}`)
              : Either.right(d)
    })
  }

/** Bytes in one of each size unit: 1024-based, as curl's `--max-filesize` and `ls -h` count. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3
}
const SIZE_TEXT = /^\s*(\d+)\s*([a-z]*)\s*$/i
// `KB` is 1000 bytes to some readers and 1024 to others: refused, naming the spellings that are not ambiguous
const AMBIGUOUS_SIZE_UNIT = /^[kmg]b$/i

/**
 * A size in bytes, from `min` to `max`: a number, or text in decimal digits with an optional 1024-based unit —
 * `K`/`KiB` (1024), `M`/`MiB` (1024²), `G`/`GiB` (1024³), any letter case: `10K`, `100M`, `4GiB`. `KB`, `MB`,
 * `GB` are refused (1000 or 1024? the message says which to write).
 */
export const size =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: unknown): Check<number> => {
    const text = typeof value === "string" ? SIZE_TEXT.exec(value) : null
    if (text !== null && AMBIGUOUS_SIZE_UNIT.test(text[2]!)) {
      const letter = text[2]![0]!.toUpperCase()
      return Either.left(`must not end in ${letter}B (1000 or 1024?): write ${letter} or ${letter}iB, 1024-based`)
    }
    const unit = text === null ? undefined : SIZE_UNITS[text[2]!.toLowerCase()]
    const n = typeof value === "number" ? value : text !== null && unit !== undefined ? Number(text[1]) * unit : NaN
    return Number.isSafeInteger(n) && n >= min && n <= max
      ? Either.right(n)
      : Either.left(
          `must be a size ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`} bytes, ` +
            `in decimal digits with an optional unit: 1048576, 512K, 100M, 1G (K, M, G are 1024-based, as KiB, MiB, GiB)`
        )
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
