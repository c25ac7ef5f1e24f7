/**
 * The client every command uses: configured from the environment only (`BATCH_REST_API_KEY`, `BATCH_PROJECT_KEY`,
 * `BATCH_API_URL`, …), with the `--base-url`, `--api-version` and `--idle-timeout` flags taking precedence, through
 * the environment's proxy if any (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`). The credentials are never read from
 * the command line.
 *
 * @since 0.1.0
 */
import { ClientError } from "@batch-export/core"
import { BatchConfig, ExportFiles, ExportsClient, HttpTransport } from "@batch-export/node"
import * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { packageVersion } from "./internal/version.js"

/** The CLI names itself, with the version `--version` prints. */
const userAgent = `batch-export/${packageVersion(import.meta.url, "@batch-export/cli")} (node ${process.versions.node})`

/**
 * What the command line may change in the configuration read from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Overrides {
  readonly baseUrl: Option.Option<string>
  readonly apiVersion: Option.Option<string>
  /** only the commands that download take `--idle-timeout` */
  readonly idleTimeout?: Option.Option<Duration.Duration> | undefined
}

/**
 * The client and the file service, configured from the environment with the flags on top: every source is
 * turned into `BatchConfig.Options` and validated once, by `BatchConfig.make`; a bad value is named by the
 * flag or the variable it came from, on undici through the environment's proxy (`HttpTransport.layer`).
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
          userAgent,
          baseUrl: Option.getOrElse(flags.baseUrl, () => env.baseUrl),
          apiVersion: Option.getOrElse(flags.apiVersion, () => env.apiVersion),
          timeouts: {
            ...env.timeouts,
            idle: Option.getOrElse(idleTimeout, () => env.timeouts?.idle)
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
  const client = ExportsClient.layerWithoutDependencies.pipe(Layer.provide(Layer.merge(config, HttpTransport.layer)))
  return ExportFiles.layer.pipe(Layer.provideMerge(client))
}
