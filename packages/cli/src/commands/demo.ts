/**
 * `batch-export demo`: the whole download path against an in-process emulator. The client is built with
 * `ExportsClient.layer(...)` exactly as a user's program builds it; only the base URL points at the emulator.
 *
 * @since 0.1.0
 */
// The next two imports only let declaration emit name the error types inside the inferred command types.
import type { ApiError, ClientError, ExportError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { ExportsClient } from "@batch-export/node"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { sampleExports } from "../internal/sampleExports.js"
import * as Progress from "../Progress.js"

/**
 * One file the demo saved.
 *
 * @since 0.1.0
 * @category models
 */
export interface SavedFile {
  readonly exportId: string
  readonly part: number
  readonly path: string
  readonly bytes: number
  /** non-empty lines */
  readonly records: number
}

/**
 * What the demo did.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly directory: string
  readonly files: ReadonlyArray<SavedFile>
  readonly bytes: number
  readonly records: number
  readonly millis: number
}

/** The non-empty lines of a file, read as a stream. */
const countRecords = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.stream(path).pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.filter((line) => line.trim() !== ""),
      Stream.runCount
    )
  )

/**
 * Lists every export through the API and downloads every file of every SUCCESS one into `directory`
 * (`ExportsClient.downloadAll`: atomic writes, sizes checked against Batch's), one file at a time with the
 * progress display.
 *
 * @since 0.1.0
 * @category programs
 */
export const downloadEverything = (directory: string) =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    const exports = yield* Stream.runCollect(client.listAll())
    const saved: Array<SavedFile> = []
    for (const exp of exports) {
      if (exp.status !== "SUCCESS") {
        yield* Console.log(`skipping ${exp.id}: ${exp.status}, not SUCCESS`)
        continue
      }
      yield* Console.log(`downloading ${exp.id} (${exp.parts.length} file${exp.parts.length === 1 ? "" : "s"})`)
      // files go one at a time (concurrency 1): progress for a new file means the previous one is done
      let current: { readonly fileId: string; readonly tracker: Progress.Tracker } | undefined
      const closeCurrent = Effect.suspend(() => {
        const done = current
        current = undefined
        return done === undefined ? Effect.void : done.tracker.close
      })
      const trackerFor = (fileId: string, part: number) =>
        Effect.suspend(() =>
          current?.fileId === fileId
            ? Effect.succeed(current.tracker)
            : Effect.zipRight(
                closeCurrent,
                Effect.tap(Progress.make(`  part ${part}/${exp.parts.length} ${fileId}`), (tracker) =>
                  Effect.sync(() => {
                    current = { fileId, tracker }
                  })
                )
              )
        )
      const manifest = yield* client
        .downloadAll(exp.id, directory, {
          concurrency: 1,
          onProgress: (p) => Effect.flatMap(trackerFor(p.fileId, p.part), (tracker) => tracker.update(p))
        })
        .pipe(Effect.ensuring(closeCurrent))
      for (const file of manifest.files) {
        saved.push({ ...file, exportId: exp.id, records: yield* countRecords(file.path) })
      }
    }
    return saved
  })

/**
 * The report printed at the end of the demo.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderSummary = (summary: Summary): ReadonlyArray<string> => [
  `saved ${summary.files.length} files to ${summary.directory}:`,
  ...summary.files.map((f) => `  ${f.path}  ${f.bytes} bytes  ${f.records} records`),
  `summary: ${summary.files.length} files, ${summary.bytes} bytes, ${summary.records} records in ${(
    summary.millis / 1000
  ).toFixed(2)} s`
]

const outDir = Options.text("out-dir").pipe(
  // text, not Options.directory: its existence check dies (a defect) on paths like a-file/sub
  Options.withPseudoName("DIR"),
  Options.withDescription("Where to save the files (created if missing)"),
  Options.withDefault("batch-export-demo")
)

/**
 * `batch-export demo [--out-dir DIR]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("demo", { outDir }, ({ outDir }) =>
  Effect.scoped(
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const directory = (yield* Path.Path).resolve(outDir)
      const emulator = yield* Emulator.make({ exports: sampleExports })
      yield* Console.log(`started a Batch export API emulator at ${emulator.apiUrl} (storage ${emulator.storageUrl})`)
      const client = ExportsClient.layer({
        restApiKey: emulator.restApiKey,
        projectKey: emulator.projectKey,
        baseUrl: emulator.apiUrl
      })
      const files = yield* Effect.provide(downloadEverything(directory), client)
      const summary: Summary = {
        directory,
        files,
        bytes: files.reduce((n, f) => n + f.bytes, 0),
        records: files.reduce((n, f) => n + f.records, 0),
        millis: (yield* Clock.currentTimeMillis) - started
      }
      yield* Console.log(renderSummary(summary).join("\n"))
    })
  )
).pipe(
  Command.withDescription(
    "Start an emulator in-process and download every file of every SUCCESS export with the real client."
  )
)
