/**
 * What `emulator` prints once listening (see `EmulatorCommand`), used by the command module and its handler
 * alike.
 *
 * @internal
 * @since 0.1.0
 */
import type { Emulator } from "@batch-export/emulator"
import * as Effect from "effect/Effect"

/**
 * The lines the `emulator` command prints once listening: URLs, `export …` lines for a shell, the exports and
 * their file ids, and a command to try. The credentials are the emulator's own fake ones, printed on purpose.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const banner = (emulator: Emulator.Service): Effect.Effect<ReadonlyArray<string>> =>
  Effect.map(emulator.exports, (exports) => {
    const lines = [
      "Batch export API emulator running (Ctrl-C to stop)",
      `  API:     ${emulator.apiUrl}`,
      `  storage: ${emulator.storageUrl}`,
      "",
      "# in another shell:",
      `export BATCH_REST_API_KEY=${emulator.restApiKey}`,
      `export BATCH_PROJECT_KEY=${emulator.projectKey}`,
      `export BATCH_API_URL=${emulator.apiUrl}`,
      "",
      "exports:"
    ]
    for (const exp of exports) {
      lines.push(`  ${exp.id}  ${exp.status}  ${exp.exportType}`)
      for (const file of exp.files) {
        lines.push(`    ${file.id}  part ${file.part}  ${file.size} bytes`)
      }
    }
    const first = exports.find((exp) => exp.status === "SUCCESS")?.files[0]
    if (first !== undefined) {
      lines.push("", `try: batch-export download ${first.id} --out part-${first.part}.json`)
    }
    return lines
  })

/**
 * The banner's facts as one JSON object (`--json`): where the emulator listens, the environment a client needs,
 * and every export with its files. For scripts that start the emulator and read where it is.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const bannerJson = (emulator: Emulator.Service): Effect.Effect<unknown> =>
  Effect.map(emulator.exports, (exports) => ({
    apiUrl: emulator.apiUrl,
    storageUrl: emulator.storageUrl,
    environment: {
      BATCH_REST_API_KEY: emulator.restApiKey,
      BATCH_PROJECT_KEY: emulator.projectKey,
      BATCH_API_URL: emulator.apiUrl
    },
    exports: exports.map((exp) => ({
      id: exp.id,
      status: exp.status,
      exportType: exp.exportType,
      files: exp.files.map((file) => ({ id: file.id, part: file.part, size: file.size }))
    }))
  }))
