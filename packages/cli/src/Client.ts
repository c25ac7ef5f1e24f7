/**
 * The client every command uses: configured from the environment only (`BATCH_REST_API_KEY`, `BATCH_PROJECT_KEY`,
 * `BATCH_API_URL`, …), with the `--base-url`, `--api-version` and `--idle-timeout` flags taking precedence. The
 * credentials are never read from the command line.
 *
 * @since 0.1.0
 */
import { ClientError } from "@batch-export/core"
import { BatchConfig, ExportsClient } from "@batch-export/node"
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as ConfigError from "effect/ConfigError"
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
  /** only the commands that download take `--idle-timeout` */
  readonly idleTimeout?: Option.Option<Duration.Duration> | undefined
}

const FLAGS: Readonly<Record<string, string>> = {
  baseUrl: "--base-url",
  apiVersion: "--api-version",
  "timeouts.idle": "--idle-timeout"
}

/** Applies the flags to the configuration and validates the result the way `BatchConfig.make` does. */
const override = (
  service: BatchConfig.Service,
  flags: Overrides
): Effect.Effect<BatchConfig.Service, ClientError.InvalidArgument> => {
  const idleTimeout = flags.idleTimeout ?? Option.none()
  return Option.isNone(flags.baseUrl) && Option.isNone(flags.apiVersion) && Option.isNone(idleTimeout)
    ? Effect.succeed(service)
    : BatchConfig.make({
        restApiKey: service.restApiKey,
        projectKey: service.projectKey,
        baseUrl: Option.getOrElse(flags.baseUrl, () => service.baseUrl),
        apiVersion: Option.getOrElse(flags.apiVersion, () => service.apiVersion),
        retry: service.retry,
        timeouts: {
          request: service.timeouts.request,
          idle: Option.getOrElse(idleTimeout, () => service.timeouts.idle)
        }
      }).pipe(
        Effect.mapError(
          (error) => new ClientError.InvalidArgument({ ...error, argument: FLAGS[error.argument] ?? error.argument })
        )
      )
}

/**
 * The client configured from the environment (via `BatchConfig.layerConfig`), with the flags taking precedence,
 * on undici.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  flags: Overrides
): Layer.Layer<
  ExportsClient.ExportsClient,
  ConfigError.ConfigError | ClientError.InvalidArgument,
  FileSystem | Path
> => {
  const config = Layer.effect(
    BatchConfig.BatchConfig,
    Effect.flatMap(BatchConfig.BatchConfig, (service) => override(service, flags))
  ).pipe(Layer.provide(BatchConfig.layerConfig()))
  return ExportsClient.layerWithoutDependencies.pipe(Layer.provide(Layer.merge(config, NodeHttpClient.layerUndici)))
}
