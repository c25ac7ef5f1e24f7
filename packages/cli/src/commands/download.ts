/**
 * `batch-export download <file_id> --out <path>`: one export file, through `ExportsClient.downloadToFile`,
 * with the credentials read from the environment (never from the command line).
 *
 * @since 0.1.0
 */
import { ClientError } from "@batch-export/core"
import { BatchConfig, ExportsClient } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Progress from "../Progress.js"

/**
 * What the command line may change in the configuration read from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Overrides {
  readonly baseUrl: Option.Option<string>
  readonly apiVersion: Option.Option<string>
  /** seconds */
  readonly idleTimeout: Option.Option<number>
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
): Effect.Effect<BatchConfig.Service, ClientError.InvalidArgument> =>
  Option.isNone(flags.baseUrl) && Option.isNone(flags.apiVersion) && Option.isNone(flags.idleTimeout)
    ? Effect.succeed(service)
    : BatchConfig.make({
        restApiKey: service.restApiKey,
        projectKey: service.projectKey,
        baseUrl: Option.getOrElse(flags.baseUrl, () => service.baseUrl),
        apiVersion: Option.getOrElse(flags.apiVersion, () => service.apiVersion),
        retry: service.retry,
        timeouts: {
          request: service.timeouts.request,
          idle: Option.match(flags.idleTimeout, {
            onNone: () => service.timeouts.idle,
            onSome: (seconds) => Duration.millis(Math.round(seconds * 1000))
          })
        }
      }).pipe(
        Effect.mapError(
          (error) => new ClientError.InvalidArgument({ ...error, argument: FLAGS[error.argument] ?? error.argument })
        )
      )

/**
 * The client configured from `BATCH_REST_API_KEY`, `BATCH_PROJECT_KEY`, `BATCH_API_URL`, … (via
 * `BatchConfig.layerConfig`), with the flags taking precedence, on undici.
 *
 * @since 0.1.0
 * @category layers
 */
export const clientLayer = (
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

const fileId = Args.text({ name: "file_id" }).pipe(
  Args.withDescription("The file to download (`files[].id` of a SUCCESS export, e.g. file_…)")
)

// text, not Options.file: its existence check dies (a defect) on paths like a-file/x.json
const out = Options.text("out").pipe(
  Options.withAlias("o"),
  Options.withPseudoName("PATH"),
  Options.withDescription("Where to save the file (written atomically: nothing is left there on failure)")
)

const baseUrl = Options.text("base-url").pipe(
  Options.withPseudoName("URL"),
  Options.withDescription("The API origin, default $BATCH_API_URL or https://api.batch.com"),
  Options.optional
)

const apiVersion = Options.text("api-version").pipe(
  Options.withPseudoName("V"),
  Options.withDescription("The API version segment, default $BATCH_API_VERSION or 2.10"),
  Options.optional
)

const idleTimeout = Options.float("idle-timeout").pipe(
  Options.withPseudoName("SECONDS"),
  Options.filterMap(
    (seconds) => (seconds > 0 ? Option.some(seconds) : Option.none()),
    "--idle-timeout must be a positive number of seconds"
  ),
  Options.withDescription("Give up when no bytes arrive for this long, default $BATCH_IDLE_TIMEOUT or 30"),
  Options.optional
)

/**
 * `batch-export download <file_id> --out <path> [--base-url URL] [--api-version V] [--idle-timeout SECONDS]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "download",
  { fileId, out, baseUrl, apiVersion, idleTimeout },
  ({ fileId, out, ...flags }) =>
    Effect.gen(function* () {
      const client = yield* ExportsClient.ExportsClient
      const progress = yield* Progress.make(fileId)
      const saved = yield* client
        .downloadToFile(fileId, out, { onProgress: progress.update })
        .pipe(Effect.ensuring(progress.close))
      yield* Console.log(`saved ${saved.bytes} bytes to ${saved.path}`)
    }).pipe(Effect.provide(clientLayer(flags)))
).pipe(
  Command.withDescription(
    "Download one export file. Credentials come from BATCH_REST_API_KEY and BATCH_PROJECT_KEY in the environment."
  )
)
