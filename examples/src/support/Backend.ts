/**
 * Where the examples send their requests: the real Batch API when `BATCH_REST_API_KEY` is set in the
 * environment, otherwise an emulator started in-process (so every example runs on a fresh clone).
 *
 * @since 0.1.0
 */
import type { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchExport, type ExportFiles, type ExportsClient } from "@batch-export/node"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
/**
 * `ExportsClient` and `ExportFiles` on Batch (from the environment) or on an embedded emulator.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  ExportsClient.ExportsClient | ExportFiles.ExportFiles,
  ConfigError.ConfigError | ClientError.InvalidArgument
> = Layer.unwrapEffect(
  Effect.sync(() => process.env["BATCH_REST_API_KEY"] !== undefined).pipe(
    Effect.map(
      (
        useBatch
      ): Layer.Layer<
        ExportsClient.ExportsClient | ExportFiles.ExportFiles,
        ConfigError.ConfigError | ClientError.InvalidArgument
      > =>
        useBatch
          ? BatchExport.layerConfig()
          : Layer.unwrapEffect(
              Effect.gen(function* () {
                const emulator = yield* Emulator.Emulator
                yield* Console.error(`(no BATCH_REST_API_KEY: using an embedded emulator at ${emulator.apiUrl})`)
                return BatchExport.layer({
                  restApiKey: emulator.restApiKey,
                  projectKey: emulator.projectKey,
                  baseUrl: emulator.apiUrl
                })
              })
            ).pipe(Layer.provide(Emulator.layer()))
    )
  )
)
