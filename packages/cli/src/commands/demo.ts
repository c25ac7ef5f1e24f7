/**
 * `batch-export demo`: the whole workflow against an in-process emulator, with the real client built by
 * `BatchExport.layer(...)` exactly as a user's program builds it (only the base URL points at the emulator):
 * create an ATTRIBUTES export, wait for it showing its status, download every part with progress, count its
 * records by streaming them, and summarise; then sync two emulated projects with `@batch-export/sync` into
 * `<out-dir>/batch-export.db` and print one line per run.
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ApiError, ClientError, ExportError, Records } from "@batch-export/core"
import type { Emulator } from "@batch-export/emulator"
import type { ExportFiles, ExportsClient } from "@batch-export/node"
import type { SinkError, SyncCluster, SyncConfig } from "@batch-export/sync"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Flags from "../Flags.js"
import * as setup from "../internal/demo.js"
import { lazily } from "../internal/lazy.js"

const load = () => import("../internal/handlers/demo.js")

/**
 * What the demo did.
 *
 * @since 0.1.0
 * @category models
 */
export type Summary = setup.Summary

/**
 * How the demo's emulator behaves: exports created through it go CREATED → PENDING → RUNNING → SUCCESS, one
 * step per look, in 3 parts of 500 records.
 *
 * @since 0.1.0
 * @category constants
 */
export const emulatorOptions: Emulator.Options = setup.emulatorOptions

/**
 * How often the demo looks at its export: the emulator moves on at each look; the client's floor (1 second, the
 * same for every poll) applies to the demo too.
 *
 * @since 0.1.0
 * @category constants
 */
export const pollInterval: Duration.Duration = setup.pollInterval

/**
 * The request the demo creates.
 *
 * @since 0.1.0
 * @category constants
 */
export const request = setup.request

/**
 * Creates the demo's export, fetches it into `directory` (status changes and progress on stderr), then counts its
 * records through `ExportsClient.records` (streamed: constant memory).
 *
 * @since 0.1.0
 * @category programs
 */
export const workflow = (directory: string, say: (line: string) => Effect.Effect<void> = (line) => Console.log(line)) =>
  lazily(load, (handler) => handler.workflow(directory, say))

/**
 * The report printed at the end of the demo: the manifest, then one summary line.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderSummary: (summary: Summary) => ReadonlyArray<string> = setup.renderSummary

const outDir = Options.text("out-dir").pipe(
  // text, not Options.directory: its existence check dies (a defect) on paths like a-file/sub
  Options.withPseudoName("DIR"),
  Options.withDescription("Where to save the files (created if missing)"),
  Flags.withDefault("batch-export-demo", "batch-export-demo")
)

/**
 * `batch-export demo [--out-dir DIR]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("demo", { outDir, json: Flags.json }, (config) =>
  lazily(load, (handler) => handler.demo(config))
).pipe(
  Command.withDescription(
    "Start an emulator in-process, then create an export with the real client, wait for it, download its parts " +
      "and count its records; then sync two emulated projects into DIR/batch-export.db and print the runs."
  )
)
