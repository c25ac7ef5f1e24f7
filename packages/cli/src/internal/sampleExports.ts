import type { Emulator } from "@batch-export/emulator"

/**
 * What the `emulator` command serves: two finished exports (one in two parts) and one still
 * running, whose files answer 409 until it is done.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export const sampleExports: ReadonlyArray<Emulator.SeedExport> = [
  { status: "SUCCESS", exportType: "ATTRIBUTES", parts: 2, recordsPerPart: 500 },
  { status: "SUCCESS", exportType: "EVENTS", parts: 1, recordsPerPart: 300 },
  { status: "RUNNING", exportType: "ATTRIBUTES", parts: 1 }
]
