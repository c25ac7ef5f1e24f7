/**
 * The client every command uses: configured from the environment only (`BATCH_REST_API_KEY`, `BATCH_PROJECT_KEY`,
 * `BATCH_API_URL`, …), with the `--base-url`, `--api-version` and `--idle-timeout` flags taking precedence. The
 * credentials are never read from the command line.
 *
 * @since 0.1.0
 */
import { ClientError } from "@batch-export/core"
import { BatchConfig, ExportFiles, ExportsClient } from "@batch-export/node"
import * as Options from "@effect/cli/Options"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/**
 * What the command line may change in the configuration read from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Overrides {
  readonly baseUrl: Option.Option<string>
  readonly apiVersion: Option.Option<string>
  /** seconds; only the commands that download take `--idle-timeout` */
  readonly idleTimeout?: Option.Option<number> | undefined
}

/**
 * The client and the file service, configured from the environment with the flags on top: every source is
 * turned into `BatchConfig.Options` and validated once, by `BatchConfig.make`; a bad value is named by the
 * flag or the variable it came from, on undici.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  flags: Overrides
): Layer.Layer<
  ExportsClient.ExportsClient | ExportFiles.ExportFiles,
  ConfigError.ConfigError | ClientError.InvalidArgument
> => {
  const idleTimeout = flags.idleTimeout ?? Option.none()
  const config = Layer.effect(
    BatchConfig.BatchConfig,
    Effect.flatMap(BatchConfig.options, (env) =>
      BatchConfig.make(
        {
          ...env,
          baseUrl: Option.getOrElse(flags.baseUrl, () => env.baseUrl),
          apiVersion: Option.getOrElse(flags.apiVersion, () => env.apiVersion),
          timeouts: {
            ...env.timeouts,
            idle: Option.match(idleTimeout, {
              onNone: () => env.timeouts?.idle,
              onSome: (seconds) => Duration.millis(Math.round(seconds * 1000))
            })
          }
        },
        {
          ...BatchConfig.environment,
          ...(Option.isSome(flags.baseUrl) ? { baseUrl: "--base-url" } : {}),
          ...(Option.isSome(flags.apiVersion) ? { apiVersion: "--api-version" } : {}),
          ...(Option.isSome(idleTimeout) ? { "timeouts.idle": "--idle-timeout" } : {})
        }
      ).pipe(
        // a flag's value is an argument; a variable's is configuration
        Effect.mapError((error) =>
          error.argument.startsWith("--") ? error : ConfigError.InvalidData([error.argument], error.detail)
        )
      )
    )
  )
  const client = ExportsClient.layerWithoutDependencies.pipe(
    Layer.provide(Layer.merge(config, NodeHttpClient.layerUndici))
  )
  return ExportFiles.layer.pipe(Layer.provideMerge(client))
}

/**
 * `--base-url URL`: the API origin.
 *
 * @since 0.1.0
 * @category options
 */
export const baseUrl: Options.Options<Option.Option<string>> = Options.text("base-url").pipe(
  Options.withPseudoName("URL"),
  Options.withDescription("The API origin, default $BATCH_API_URL or https://api.batch.com"),
  Options.optional
)

/**
 * `--api-version V`: the version segment of the API's paths.
 *
 * @since 0.1.0
 * @category options
 */
export const apiVersion: Options.Options<Option.Option<string>> = Options.text("api-version").pipe(
  Options.withPseudoName("V"),
  Options.withDescription("The API version segment, default $BATCH_API_VERSION or 2.10"),
  Options.optional
)

/**
 * `--idle-timeout SECONDS`: how long a download may go without receiving a byte.
 *
 * @since 0.1.0
 * @category options
 */
export const idleTimeout: Options.Options<Option.Option<number>> = Options.float("idle-timeout").pipe(
  Options.withPseudoName("SECONDS"),
  Options.filterMap(
    (seconds) => (seconds > 0 ? Option.some(seconds) : Option.none()),
    "--idle-timeout must be a positive number of seconds"
  ),
  Options.withDescription("Give up when no bytes arrive for this long, default $BATCH_IDLE_TIMEOUT or 30"),
  Options.optional
)

/**
 * A flag taking a number of seconds that must be positive (`--poll-interval`, `--timeout`, …).
 *
 * @since 0.1.0
 * @category options
 */
export const seconds = (name: string, description: string): Options.Options<number> =>
  Options.float(name).pipe(
    Options.withPseudoName("SECONDS"),
    Options.filterMap(
      (value) => (value > 0 && Number.isFinite(value) ? Option.some(value) : Option.none()),
      `--${name} must be a positive number of seconds`
    ),
    Options.withDescription(description)
  )

/**
 * A flag taking a whole number from `min` to `max` (`--limit`, `--concurrency`, …).
 *
 * @since 0.1.0
 * @category options
 */
export const wholeNumber = (name: string, min: number, max: number, description: string): Options.Options<number> =>
  Options.integer(name).pipe(
    Options.withPseudoName("N"),
    Options.filterMap(
      (n) => (n >= min && n <= max ? Option.some(n) : Option.none()),
      max === Number.MAX_SAFE_INTEGER
        ? `--${name} must be a whole number of at least ${min}`
        : `--${name} must be a whole number from ${min} to ${max}`
    ),
    Options.withDescription(description)
  )
