/**
 * `batch-export view <export_id>`: one export through `ExportsClient.view`, as a summary or as Batch's JSON.
 *
 * @since 0.1.0
 */
import type { Export } from "@batch-export/core"
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ExportsClient } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Flags from "../Flags.js"
import { lazily } from "../internal/lazy.js"
import * as render from "../internal/render/view.js"

/**
 * The human summary of an export: id, scope, status, dates, then one line per file (part, id, size). Server
 * text is sanitized: it goes to a terminal.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderExport: (exp: Export.Export) => ReadonlyArray<string> = render.renderExport

const exportId = Args.text({ name: "export_id" }).pipe(Args.withDescription("The export (export_…)"))

/**
 * `batch-export view <export_id> [--json] [--base-url URL] [--api-version V]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "view",
  { exportId, json: Flags.json, baseUrl: Flags.baseUrl, apiVersion: Flags.apiVersion },
  (config) =>
    lazily(
      () => import("../internal/handlers/view.js"),
      (handler) => handler.view(config)
    )
).pipe(Command.withDescription("Show an export: status, dates and files (or the JSON Batch returned, with --json)."))
