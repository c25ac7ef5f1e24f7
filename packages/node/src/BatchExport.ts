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
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: BatchConfig.Options
): Layer.Layer<ExportsClient.ExportsClient | ExportFiles.ExportFiles, ClientError.InvalidArgument> =>
  ExportFiles.layer.pipe(Layer.provideMerge(ExportsClient.layer(options)))
