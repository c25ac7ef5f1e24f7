/**
 * The common case in one line: `ExportsClient` and `ExportFiles` together, on undici and Node's file
 * system.
 *
 * @since 0.1.0
 */
import type { ClientError } from "@batch-export/core"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import type * as BatchConfig from "./BatchConfig.js"
import * as ExportFiles from "./ExportFiles.js"
import * as ExportsClient from "./ExportsClient.js"

/**
 * Both services, configured from the environment (`BATCH_REST_API_KEY`, `BATCH_PROJECT_KEY`, …) with
 * optional overrides.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides?: Partial<BatchConfig.Options>
): Layer.Layer<ExportsClient.ExportsClient | ExportFiles.ExportFiles, ConfigError.ConfigError> =>
  ExportFiles.layer.pipe(Layer.provideMerge(ExportsClient.layerConfig(overrides)))

/**
 * Both services, with explicit options.
 *
 * @example
 * ```ts
 * import { Emulator } from "@batch-export/emulator"
 * import { BatchExport, ExportsClient } from "@batch-export/node"
 * import { Effect, Stream } from "effect"
 *
 * // the records of an export, streamed (here from a local emulator of Batch's API)
 * const program = Effect.gen(function* () {
 *   const emulator = yield* Emulator.make()
 *   const [first] = yield* emulator.exports
 *   const count = Effect.flatMap(ExportsClient.ExportsClient, (client) =>
 *     Stream.runCount(client.records(first?.id ?? "export_none"))
 *   )
 *   const client = BatchExport.layer({
 *     restApiKey: emulator.restApiKey,
 *     projectKey: emulator.projectKey,
 *     baseUrl: emulator.apiUrl
 *   })
 *   return yield* Effect.provide(count, client)
 * })
 *
 * Effect.runPromise(Effect.scoped(program)).then((records) => console.log(`${records} records`))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: BatchConfig.Options
): Layer.Layer<ExportsClient.ExportsClient | ExportFiles.ExportFiles, ClientError.InvalidArgument> =>
  ExportFiles.layer.pipe(Layer.provideMerge(ExportsClient.layer(options)))
