/**
 * What `batch-export fetch` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
// The next imports only let declaration emit name the error types inside the inferred types.
import type { ApiError, ClientError, ExportError } from "@batch-export/core"
import * as Console from "effect/Console"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Client from "../../Client.js"
import { fetchExport } from "../../Programs.js"
import * as Progress from "../../Progress.js"
import { printJson } from "../output.js"
import { manifestJson, renderManifest } from "../render/fetch.js"

/**
 * The parsed command line of `fetch`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config extends Client.Overrides {
  readonly exportId: string
  readonly outDir: string
  readonly pollInterval: Duration.Duration
  readonly timeout: Option.Option<Duration.Duration>
  readonly concurrency: number
  readonly maxSize: Option.Option<number>
  readonly force: boolean
  readonly quiet: boolean
  readonly json: boolean
  readonly idleTimeout: Option.Option<Duration.Duration>
}

/**
 * Waits for the export, downloads its parts, then prints the manifest.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const fetch = ({
  concurrency,
  exportId,
  force,
  json,
  maxSize,
  outDir,
  pollInterval,
  quiet,
  timeout,
  ...flags
}: Config) =>
  fetchExport(exportId, outDir, {
    pollInterval,
    timeout: Option.getOrUndefined(timeout),
    concurrency,
    maxBytes: Option.getOrUndefined(maxSize),
    resume: !force
  }).pipe(
    Effect.flatMap((manifest) =>
      json
        ? printJson(manifestJson(manifest))
        : manifest.files.length === 0
          ? Console.error(`${manifest.exportId} has no files`)
          : Console.log(renderManifest(manifest.files).join("\n"))
    ),
    Progress.quietly(quiet),
    Effect.provide(Client.layer(flags))
  )
