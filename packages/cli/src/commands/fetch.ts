/**
 * `batch-export fetch <export_id> [--out-dir <dir>]`: waits until the export is `SUCCESS` (showing its status and
 * when the next check is), downloads every part with the progress display, then prints the manifest.
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ApiError, ClientError as _ClientError, ExportError } from "@batch-export/core"
import type { ExportFiles } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Flags from "../Flags.js"
import { lazily } from "../internal/lazy.js"
import * as render from "../internal/render/fetch.js"

/**
 * The manifest as printed on stdout: one line per file, `<part>\t<path>\t<bytes>`, in part order.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderManifest: (files: ReadonlyArray<ExportFiles.ManifestEntry>) => ReadonlyArray<string> =
  render.renderManifest

/**
 * The manifest as printed with `--json`: every file with `skipped` (true when a re-run found it complete and did
 * not download it).
 *
 * @since 0.1.0
 * @category rendering
 */
export const manifestJson = render.manifestJson

const exportId = Args.text({ name: "export_id" }).pipe(Args.withDescription("The export (export_…)"))

// text, not Options.directory: its existence check dies (a defect) on paths like a-file/sub
const outDir = Options.text("out-dir").pipe(
  Options.withPseudoName("DIR"),
  Options.withDescription("Where to save the parts, as <export id>-part-NNN.json (created if missing)"),
  // as `gh release download` and `curl -O` do
  Flags.withDefault(".", "the current directory")
)

const concurrency = Flags.wholeNumber("concurrency", 1, 64, "Parts downloaded at once, 1 to 64").pipe(
  Flags.withDefault(2, "2")
)

const force = Options.boolean("force").pipe(
  Options.withDescription(
    "Download every part again from byte 0 (without it, a re-run skips complete parts and continues the ones an " +
      "interrupted run kept)"
  )
)

/**
 * `batch-export fetch <export_id> [--out-dir DIR] [--poll-interval DURATION] [--timeout DURATION] [--concurrency N]
 * [--max-size SIZE] [--force] [--quiet] [--json] [--base-url URL] [--api-version V] [--idle-timeout DURATION]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "fetch",
  {
    exportId,
    outDir,
    pollInterval: Flags.pollInterval,
    timeout: Flags.timeout,
    concurrency,
    maxSize: Flags.maxSize,
    force,
    quiet: Flags.quiet,
    json: Flags.json,
    baseUrl: Flags.baseUrl,
    apiVersion: Flags.apiVersion,
    idleTimeout: Flags.idleTimeout
  },
  (config) =>
    lazily(
      () => import("../internal/handlers/fetch.js"),
      (handler) => handler.fetch(config)
    )
).pipe(
  Command.withDescription(
    "Wait for an export to succeed, download all its parts, and print one line per file: part, path, bytes."
  )
)
