/**
 * Where and how to reach Batch: credentials, endpoint, retry policy, timeouts and limits.
 *
 * Every source — options in code, the environment, overrides, the CLI's flags — produces `Options`, and one
 * function (`make`) validates them. Errors name the setting and what is wrong with it, never its value.
 *
 * @since 0.1.0
 */
import { ClientError, type Ids } from "@batch-export/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Check from "./internal/validate.js"
import * as Version from "./internal/version.js"

/**
 * How 429 answers (and, for idempotent calls only, 503 answers and refused or reset connections: `create`'s
 * POST is retried on 429 alone) are retried: exponential backoff with jitter from `baseDelay`, each wait
 * capped at `maxDelay`; a `Retry-After` from Batch replaces the computed wait, up to `retryAfterCap`. At most
 * `maxRetries` retries (0 to 100).
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  /** 0 to 100. */
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
 * Bounds on what a server can make the client hold in memory.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  /** The largest JSON body of an API answer (`view`, `list`, `create`) the client reads, in bytes. */
  readonly jsonBody: number
  /**
   * The most bytes a download reads (decoded, when the storage sends gzip) when the call gives no bound of its
   * own (`maxBytes`, or `expectedSize` from Batch's `files[].size`): past it, `DownloadTooLarge` at the first
   * byte. 4 GiB by default (Batch documents files of at most 100 MB).
   */
  readonly maxDownloadBytes: number
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
  /** Sent as `User-Agent` on every API and storage request: `batch-export/0.2.0 (node 22.12.0)` by default. */
  readonly userAgent: string
  readonly retry: RetryPolicy
  readonly timeouts: Timeouts
  readonly limits: Limits
}

/**
 * @since 0.1.0
 * @category tags
 */
export class BatchConfig extends Context.Tag("@batch-export/node/BatchConfig")<BatchConfig, Service>() {}

/**
 * @since 0.1.0
 * @category constants
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
  timeouts: { request: Duration.seconds(30), idle: Duration.seconds(30) } satisfies Timeouts,
  // a page of 100 exports is a few hundred KB: 32 MiB is generous and still bounded
  limits: { jsonBody: 32 * 1024 * 1024, maxDownloadBytes: 4 * 1024 ** 3 } satisfies Limits
} as const

/**
 * A duration setting, by one rule wherever it comes from: a number is **seconds** (`30`, `0.5`) — not Effect's
 * milliseconds —, text is seconds or amounts with units (`"30"`, `"500ms"`, `"2m"`, `"1h30m"`, `"2 minutes"`),
 * and a `Duration` is used as it is (`Duration.millis(500)`).
 *
 * @since 0.1.0
 * @category models
 */
export type DurationSetting = number | string | Duration.Duration

/**
 * A size setting in bytes: a number, or text with an optional 1024-based unit (`"512K"`, `"100M"`, `"4GiB"`;
 * `K`/`KiB`, `M`/`MiB`, `G`/`GiB`). `"10KB"` is refused as ambiguous.
 *
 * @since 0.1.0
 * @category models
 */
export type SizeSetting = number | string

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
  /**
   * The `User-Agent` of every request (default `batch-export/<this package's version> (node <version>)`):
   * printable ASCII, e.g. `"my-sync/1.4 batch-export/0.2.0"`.
   */
  readonly userAgent?: string | undefined
  readonly retry?:
    | {
        readonly maxRetries?: number | string | undefined
        readonly baseDelay?: DurationSetting | undefined
        readonly maxDelay?: DurationSetting | undefined
        readonly retryAfterCap?: DurationSetting | undefined
      }
    | undefined
  readonly timeouts?:
    { readonly request?: DurationSetting | undefined; readonly idle?: DurationSetting | undefined } | undefined
  readonly limits?:
    { readonly jsonBody?: SizeSetting | undefined; readonly maxDownloadBytes?: SizeSetting | undefined } | undefined
}

/**
 * The name of each setting, as `InvalidArgument.argument` reports it: the option path by default; the
 * environment variable when read from the environment; a flag in the CLI.
 *
 * @since 0.1.0
 * @category models
 */
export type Setting =
  | "restApiKey"
  | "projectKey"
  | "baseUrl"
  | "apiVersion"
  | "userAgent"
  | "retry.maxRetries"
  | "retry.baseDelay"
  | "retry.maxDelay"
  | "retry.retryAfterCap"
  | "timeouts.request"
  | "timeouts.idle"
  | "limits.jsonBody"
  | "limits.maxDownloadBytes"

/**
 * Validates options into the service, all in one place. Fails with `InvalidArgument` naming the setting
 * (through `names`, e.g. an environment variable or a CLI flag), never its value.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options,
  names?: Partial<Record<Setting, string>>
): Effect.Effect<Service, ClientError.InvalidArgument> => validate(options, names)

/**
 * `make`, as a plain `Either`: the same checks, usable where no effect can run (a `Config` mapping).
 *
 * @since 0.1.0
 * @category constructors
 */
export const validate = (
  options: Options,
  names?: Partial<Record<Setting, string>>
): Either.Either<Service, ClientError.InvalidArgument> =>
  Either.gen(function* () {
    const check = <A>(setting: Setting, result: Check.Check<A>) =>
      Either.mapLeft(
        result,
        (detail) => new ClientError.InvalidArgument({ argument: names?.[setting] ?? setting, detail })
      )
    const optional = <I, A>(setting: Setting, value: I | undefined, fallback: A, validate: (i: I) => Check.Check<A>) =>
      value === undefined ? Either.right(fallback) : check(setting, validate(value))
    const delay = Check.duration()
    const timeout = Check.duration({ positive: true })
    return {
      restApiKey: yield* check("restApiKey", Check.restApiKey(options.restApiKey)),
      projectKey: yield* check("projectKey", Check.projectKey(options.projectKey)),
      baseUrl: yield* check("baseUrl", Check.baseUrl(options.baseUrl ?? defaults.baseUrl)),
      apiVersion: yield* check("apiVersion", Check.apiVersion(options.apiVersion ?? defaults.apiVersion)),
      // the default is read only when needed: the package.json lookup is not paid by a caller that sets its own
      userAgent: yield* check("userAgent", Check.userAgent(options.userAgent ?? Version.userAgent())),
      retry: {
        maxRetries: yield* optional(
          "retry.maxRetries",
          options.retry?.maxRetries,
          defaults.retry.maxRetries,
          Check.maxRetries
        ),
        baseDelay: yield* optional("retry.baseDelay", options.retry?.baseDelay, defaults.retry.baseDelay, delay),
        maxDelay: yield* optional("retry.maxDelay", options.retry?.maxDelay, defaults.retry.maxDelay, delay),
        retryAfterCap: yield* optional(
          "retry.retryAfterCap",
          options.retry?.retryAfterCap,
          defaults.retry.retryAfterCap,
          delay
        )
      },
      timeouts: {
        request: yield* optional("timeouts.request", options.timeouts?.request, defaults.timeouts.request, timeout),
        idle: yield* optional("timeouts.idle", options.timeouts?.idle, defaults.timeouts.idle, timeout)
      },
      limits: {
        jsonBody: yield* optional(
          "limits.jsonBody",
          options.limits?.jsonBody,
          defaults.limits.jsonBody,
          Check.size(1024)
        ),
        maxDownloadBytes: yield* optional(
          "limits.maxDownloadBytes",
          options.limits?.maxDownloadBytes,
          defaults.limits.maxDownloadBytes,
          Check.size(1)
        )
      }
    }
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<BatchConfig, ClientError.InvalidArgument> =>
  Layer.effect(BatchConfig, make(options))

/**
 * The environment variable of each setting read by `config`.
 *
 * @since 0.1.0
 * @category constants
 */
export const environment = {
  restApiKey: "BATCH_REST_API_KEY",
  projectKey: "BATCH_PROJECT_KEY",
  baseUrl: "BATCH_API_URL",
  apiVersion: "BATCH_API_VERSION",
  "retry.maxRetries": "BATCH_MAX_RETRIES",
  "timeouts.request": "BATCH_REQUEST_TIMEOUT",
  "timeouts.idle": "BATCH_IDLE_TIMEOUT"
} as const satisfies Partial<Record<Setting, string>>

const optionalString = (name: string) => Config.option(Config.string(name))
const orUndefined = <A>(option: Option.Option<A>) => Option.getOrUndefined(option)

/**
 * The settings as the environment (or any `ConfigProvider`) spells them, not yet validated: durations in
 * plain seconds (`30`) or with units (`2m`, `30 seconds`).
 *
 * | variable | required | default |
 * | --- | --- | --- |
 * | `BATCH_REST_API_KEY` | yes (redacted) | |
 * | `BATCH_PROJECT_KEY` | yes | |
 * | `BATCH_API_URL` | no | `https://api.batch.com` |
 * | `BATCH_API_VERSION` | no | `2.10` |
 * | `BATCH_MAX_RETRIES` | no | `5` |
 * | `BATCH_REQUEST_TIMEOUT` | no | `30` (seconds) |
 * | `BATCH_IDLE_TIMEOUT` | no | `30` (seconds) |
 *
 * @since 0.1.0
 * @category config
 */
export const options: Config.Config<Options> = Config.all({
  restApiKey: Config.redacted(environment.restApiKey),
  projectKey: Config.string(environment.projectKey),
  baseUrl: optionalString(environment.baseUrl),
  apiVersion: optionalString(environment.apiVersion),
  maxRetries: optionalString(environment["retry.maxRetries"]),
  request: optionalString(environment["timeouts.request"]),
  idle: optionalString(environment["timeouts.idle"])
}).pipe(
  Config.map((env): Options => ({
    restApiKey: env.restApiKey,
    projectKey: env.projectKey,
    baseUrl: orUndefined(env.baseUrl),
    apiVersion: orUndefined(env.apiVersion),
    retry: { maxRetries: orUndefined(env.maxRetries) },
    timeouts: { request: orUndefined(env.request), idle: orUndefined(env.idle) }
  }))
)

/** Validates what the environment said, with `overrides` on top; settings read from it are named by variable. */
const fromEnvironment = (
  env: Options,
  overrides?: Partial<Options>
): Either.Either<Service, ConfigError.ConfigError> => {
  const overridden = new Set(Object.keys(overrides ?? {}))
  const names = Object.fromEntries(
    Object.entries(environment).filter(([setting]) => !overridden.has(setting.split(".")[0]!))
  )
  return Either.mapLeft(validate(mergeOptions(env, overrides), names), (error) =>
    // the path names the setting; the message says what is wrong with it
    ConfigError.InvalidData([error.argument], error.detail)
  )
}

const mergeOptions = (base: Options, overrides?: Partial<Options>): Options =>
  overrides === undefined
    ? base
    : {
        ...base,
        ...overrides,
        retry: { ...base.retry, ...overrides.retry },
        timeouts: { ...base.timeouts, ...overrides.timeouts },
        limits: { ...base.limits, ...overrides.limits }
      }

/**
 * The configuration read from the environment (or any `ConfigProvider`) and validated by `make`. Errors
 * name the variable and what is wrong with it, never its value.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Service> = Config.mapOrFail(options, (env) => fromEnvironment(env))

/**
 * `config`, read from the current `ConfigProvider` (the environment by default); `overrides` take
 * precedence over the environment and are validated with it, in one pass.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (overrides?: Partial<Options>): Layer.Layer<BatchConfig, ConfigError.ConfigError> =>
  Layer.effect(
    BatchConfig,
    Effect.flatMap(options, (env) => fromEnvironment(env, overrides))
  )

/**
 * One line for a configuration error, as a person reads it: `BATCH_REST_API_KEY is not set`,
 * `BATCH_API_URL must be an http or https URL`. Values never appear.
 *
 * @since 0.1.0
 * @category errors
 */
export const formatConfigError = (error: ConfigError.ConfigError | ClientError.InvalidArgument): string => {
  if (error instanceof ClientError.InvalidArgument) return `${error.argument} ${error.detail}`
  const lines: Array<string> = []
  const walk = (e: ConfigError.ConfigError): void => {
    const name = e._op === "And" || e._op === "Or" ? "" : e.path.join(".")
    switch (e._op) {
      case "And":
      case "Or":
        walk(e.left)
        walk(e.right)
        return
      case "MissingData":
        lines.push(`${name} is not set`)
        return
      case "InvalidData":
        lines.push(`${name} ${e.message}`)
        return
      case "SourceUnavailable":
        lines.push(`${name} could not be read: ${e.message}`)
        return
      case "Unsupported":
        lines.push(`${name} is not supported: ${e.message}`)
        return
    }
  }
  walk(error)
  return [...new Set(lines)].join("; ")
}

/**
 * The checks behind the settings, for other sources of the same values (the CLI's flags use them, so that a
 * flag and its environment variable accept the same text). Text numbers are decimal digits only — no sign,
 * exponent (`1e3`) or hex (`0x10`) — with an optional fraction for seconds; a duration may also carry units
 * (`500ms`, `30s`, `2m`, `1h30m`, `"30 seconds"`), a size a 1024-based unit (`512K`, `100M`, `1GiB`). Each
 * answers with the value or with what is wrong, phrased to follow the setting's name.
 *
 * - `wholeNumber(min, max?)`: a whole number from `min` to `max`.
 * - `size(min, max?)`: bytes from `min` to `max`, with an optional unit (K/KiB, M/MiB, G/GiB: 1024-based).
 * - `duration({ positive?, min? })`: a finite duration, not negative (`positive`: not zero either); a number
 *   is seconds.
 * - `maxRetries`: `retry.maxRetries`, 0 to 100.
 * - `pollInterval`: `awaitCompletion`'s `pollInterval`, at least 1 second.
 *
 * @since 0.1.0
 * @category validation
 */
export const checks = {
  wholeNumber: Check.wholeNumber,
  size: Check.size,
  duration: Check.duration,
  maxRetries: Check.maxRetries,
  pollInterval: Check.pollInterval
} as const
