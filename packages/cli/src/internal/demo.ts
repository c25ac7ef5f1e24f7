/**
 * What `demo` runs and prints (see `DemoCommand`), used by the command module and its handler alike.
 *
 * @internal
 * @since 0.1.0
 */
import type { Emulator } from "@batch-export/emulator"
import type { ExportFiles } from "@batch-export/node"
import * as Duration from "effect/Duration"

/**
 * What the demo did.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly exportId: string
  readonly directory: string
  readonly files: ReadonlyArray<ExportFiles.ManifestEntry>
  readonly bytes: number
  readonly records: number
  readonly millis: number
}

/**
 * How the demo's emulator behaves: exports created through it go CREATED → PENDING → RUNNING → SUCCESS, one
 * step per look, in 3 parts of 500 records.
 *
 * @internal
 * @since 0.1.0
 * @category constants
 */
export const emulatorOptions: Emulator.Options = {
  exports: [],
  pollsPerStatus: 1,
  partsPerExport: 3,
  recordsPerPart: 500
}

/**
 * How often the demo looks at its export: the emulator moves on at each look; the client's floor (1 second, the
 * same for every poll) applies to the demo too.
 *
 * @internal
 * @since 0.1.0
 * @category constants
 */
export const pollInterval: Duration.Duration = Duration.seconds(1)

/**
 * The request the demo creates.
 *
 * @internal
 * @since 0.1.0
 * @category constants
 */
export const request = {
  export_type: "ATTRIBUTES",
  attributes: ["$language", "$region", "plan", "lifetime_value"],
  identifiers: ["custom_id", "installation_ids"]
} as const

/**
 * The report printed at the end of the demo: the manifest, then one summary line.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const renderSummary = (summary: Summary): ReadonlyArray<string> => [
  `saved ${summary.files.length} files to ${summary.directory}:`,
  ...summary.files.map((file) => `  part ${file.part}  ${file.path}  ${file.bytes} bytes`),
  `summary: ${summary.exportId}: ${summary.files.length} files, ${summary.bytes} bytes, ${summary.records} records ` +
    `in ${(summary.millis / 1000).toFixed(2)} s`
]
