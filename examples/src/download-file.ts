/**
 * Example: download one export file to disk.
 *
 *   pnpm example:download [file_id] [path]
 *
 * Without a file id, the first file of the most recent SUCCESS export is used.
 *
 * @since 0.1.0
 */
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Backend from "./support/Backend.js"

/**
 * @since 0.1.0
 * @category programs
 */
export const program = (
  fileId: Option.Option<string>,
  path: string
): Effect.Effect<
  ExportFiles.DownloadedFile,
  ExportsClient.ApiCallError | ExportFiles.DownloadToFileError | Cause.NoSuchElementException,
  ExportsClient.ExportsClient | ExportFiles.ExportFiles
> =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    const id = yield* Option.match(fileId, {
      onSome: Effect.succeed,
      onNone: () =>
        client.listAll().pipe(
          Stream.filter((exp) => exp.status === "SUCCESS" && exp.files.length > 0),
          Stream.runHead,
          Effect.flatten,
          Effect.map((exp) => exp.parts[0]!.id)
        )
    })
    const done = yield* (yield* ExportFiles.ExportFiles).downloadToFile(id, path)
    yield* Console.log(`saved ${done.bytes} bytes of ${done.fileId} to ${done.path}`)
    return done
  })

if (import.meta.url === `file://${process.argv[1]}`) {
  const [fileId, path = "export-file.json"] = process.argv.slice(2)
  program(Option.fromNullable(fileId), path).pipe(Effect.provide(Backend.layer), NodeRuntime.runMain)
}
