/**
 * Where and how to reach Batch: credentials, endpoint, retry policy and timeouts.
 *
 * @since 0.1.0
 */
import { ClientError, Ids } from "@batch-export/core"
import * as Api from "./internal/api.js"
import { Config, ConfigError, Context, Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"

/**
 * How 429 and 503 answers are retried: exponential backoff with jitter from `baseDelay`, each wait capped
 * at `maxDelay`; a `Retry-After` from Batch replaces the computed wait, up to `retryAfterCap`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly maxRetries: number
  readonly baseDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
  readonly retryAfterCap: Duration.Duration
}

/**
 * `request` bounds each API call (headers and body); `idle` bounds the wait for the next bytes of a
 * download.
 *
 * @since 0.1.0
 * @category models
 */
export interface Timeouts {
  readonly request: Duration.Duration
  readonly idle: Duration.Duration
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly restApiKey: Redacted.Redacted<string>
  readonly projectKey: Ids.ProjectKey
  /** The API origin (and optional path prefix), without the version: `https://api.batch.com`. */
  readonly baseUrl: URL
  /** The version segment of every route, e.g. `"2.10"`. */
  readonly apiVersion: string
  readonly retry: RetryPolicy
  readonly timeouts: Timeouts
}

/**
 * @since 0.1.0
 * @category tags
 */
export class BatchConfig extends Context.Tag("@batch-export/node/BatchConfig")<BatchConfig, Service>() {}

/**
 * @since 0.1.0
 * @category defaults
 */
export const defaults = {
  baseUrl: "https://api.batch.com",
  apiVersion: "2.10",
  retry: {
    maxRetries: 5,
    baseDelay: Duration.seconds(1),
    maxDelay: Duration.seconds(30),
    retryAfterCap: Duration.minutes(2)
  } satisfies RetryPolicy,
  timeouts: { request: Duration.seconds(30), idle: Duration.seconds(30) } satisfies Timeouts
} as const

/**
 * What `make` and `layer` accept. Keys may be plain strings or `Redacted`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly restApiKey: Redacted.Redacted<string> | string
  readonly projectKey: string
  readonly baseUrl?: string | URL | undefined
  readonly apiVersion?: string | undefined
  readonly retry?: Partial<Record<keyof RetryPolicy, Duration.DurationInput | number>> | undefined
  readonly timeouts?: Partial<Record<keyof Timeouts, Duration.DurationInput>> | undefined
}

const VERSION = /^\d+(\.\d+)*$/
// Header values must not be able to split a header or a request.
const TOKEN = /^[\x21-\x7e]+$/

/** Checks that never echo the value: the messages name what is wrong, not what was given. */
const checkRestApiKey = (key: Redacted.Redacted<string>): Option.Option<string> =>
  TOKEN.test(Redacted.value(key)) ? Option.none() : Option.some("must be non-empty printable ASCII without spaces")

const checkBaseUrl = (value: string | URL): Either.Either<URL, string> => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return Either.left("must be an absolute http(s) URL")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return Either.left("must be an http or https URL")
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    return Either.left("must not carry credentials, a query or a fragment")
  }
  return Either.right(new URL(url.href.replace(/\/+$/, "")))
}

const checkVersion = (value: string): Option.Option<string> =>
  VERSION.test(value) ? Option.none() : Option.some(`must look like "2.10"`)

const checkProjectKey = (value: string): Either.Either<Ids.ProjectKey, string> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(Ids.ProjectKey)(value),
    () => `must look like "project_" followed by letters and digits`
  )

/**
 * Validates options into the service. Fails with `InvalidArgument` naming the option, never its value.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, ClientError.InvalidArgument> =>
  Effect.gen(function* () {
    const invalid = (argument: string, detail: string) => new ClientError.InvalidArgument({ argument, detail })
    const restApiKey = Redacted.isRedacted(options.restApiKey) ? options.restApiKey : Redacted.make(options.restApiKey)
    yield* Option.match(checkRestApiKey(restApiKey), {
      onNone: () => Effect.void,
      onSome: (detail) => Effect.fail(invalid("restApiKey", detail))
    })
    const projectKey = yield* Either.mapLeft(checkProjectKey(options.projectKey), (d) => invalid("projectKey", d))
    const baseUrl = yield* Either.mapLeft(checkBaseUrl(options.baseUrl ?? defaults.baseUrl), (d) =>
      invalid("baseUrl", d)
    )
    const apiVersion = options.apiVersion ?? defaults.apiVersion
    yield* Option.match(checkVersion(apiVersion), {
      onNone: () => Effect.void,
      onSome: (detail) => Effect.fail(invalid("apiVersion", detail))
    })
    // the same rule as the client's own duration arguments: finite, not negative
    const duration = (name: string, value: Duration.DurationInput | number | undefined, fallback: Duration.Duration) =>
      value === undefined ? Effect.succeed(fallback) : Api.duration(name, value)
    const maxRetries = options.retry?.maxRetries ?? defaults.retry.maxRetries
    if (typeof maxRetries !== "number" || !Number.isSafeInteger(maxRetries) || maxRetries < 0) {
      return yield* Effect.fail(invalid("retry.maxRetries", "must be a whole number ≥ 0"))
    }
    return {
      restApiKey,
      projectKey,
      baseUrl,
      apiVersion,
      retry: {
        maxRetries,
        baseDelay: yield* duration("retry.baseDelay", options.retry?.baseDelay, defaults.retry.baseDelay),
        maxDelay: yield* duration("retry.maxDelay", options.retry?.maxDelay, defaults.retry.maxDelay),
        retryAfterCap: yield* duration(
          "retry.retryAfterCap",
          options.retry?.retryAfterCap,
          defaults.retry.retryAfterCap
        )
      },
      timeouts: {
        request: yield* duration("timeouts.request", options.timeouts?.request, defaults.timeouts.request),
        idle: yield* duration("timeouts.idle", options.timeouts?.idle, defaults.timeouts.idle)
      }
    }
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<BatchConfig, ClientError.InvalidArgument> =>
  Layer.effect(BatchConfig, make(options))

/** Config's own validators report an empty path; these name the variable. */
const invalidData = (variable: string) => (detail: string) => ConfigError.InvalidData([variable], detail)

/**
 * The configuration read from the environment (or any `ConfigProvider`):
 *
 * | variable | required | default |
 * | --- | --- | --- |
 * | `BATCH_REST_API_KEY` | yes (redacted) | |
 * | `BATCH_PROJECT_KEY` | yes | |
 * | `BATCH_API_URL` | no | `https://api.batch.com` |
 * | `BATCH_API_VERSION` | no | `2.10` |
 * | `BATCH_MAX_RETRIES` | no | `5` |
 * | `BATCH_REQUEST_TIMEOUT` | no | `30 seconds` |
 * | `BATCH_IDLE_TIMEOUT` | no | `30 seconds` |
 *
 * Errors name the variable and what is wrong with it, never its value.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Service> = Config.all({
  restApiKey: Config.redacted("BATCH_REST_API_KEY").pipe(
    Config.mapOrFail((key) =>
      Option.match(checkRestApiKey(key), {
        onNone: () => Either.right(key),
        onSome: (d) => Either.left(invalidData("BATCH_REST_API_KEY")(d))
      })
    )
  ),
  projectKey: Config.string("BATCH_PROJECT_KEY").pipe(
    Config.mapOrFail((value) => Either.mapLeft(checkProjectKey(value), invalidData("BATCH_PROJECT_KEY")))
  ),
  baseUrl: Config.string("BATCH_API_URL").pipe(
    Config.withDefault(defaults.baseUrl),
    Config.mapOrFail((value) => Either.mapLeft(checkBaseUrl(value), invalidData("BATCH_API_URL")))
  ),
  apiVersion: Config.string("BATCH_API_VERSION").pipe(
    Config.withDefault(defaults.apiVersion),
    Config.mapOrFail((value) =>
      Option.match(checkVersion(value), {
        onNone: () => Either.right(value),
        onSome: (d) => Either.left(invalidData("BATCH_API_VERSION")(d))
      })
    )
  ),
  maxRetries: Config.integer("BATCH_MAX_RETRIES").pipe(
    Config.withDefault(defaults.retry.maxRetries),
    Config.mapOrFail((n) =>
      n >= 0 ? Either.right(n) : Either.left(invalidData("BATCH_MAX_RETRIES")("must be a whole number ≥ 0"))
    )
  ),
  request: Config.duration("BATCH_REQUEST_TIMEOUT").pipe(Config.withDefault(defaults.timeouts.request)),
  idle: Config.duration("BATCH_IDLE_TIMEOUT").pipe(Config.withDefault(defaults.timeouts.idle))
}).pipe(
  Config.map(({ apiVersion, baseUrl, idle, maxRetries, projectKey, request, restApiKey }) => ({
    restApiKey,
    projectKey,
    baseUrl,
    apiVersion,
    retry: { ...defaults.retry, maxRetries },
    timeouts: { request, idle }
  }))
)

/**
 * `config`, read from the current `ConfigProvider` (the environment by default).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides?: (service: Service) => Service
): Layer.Layer<BatchConfig, ConfigError.ConfigError> =>
  Layer.effect(
    BatchConfig,
    Effect.map(config, (service) => (overrides === undefined ? service : overrides(service)))
  )
