/**
 * What `batch-export download` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
// The next imports only let declaration emit name the error types inside the inferred types.
import type { ApiError, ClientError, ExportError } from "@batch-export/core"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as Console from "effect/Console"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Client from "../../Client.js"
import { awaitFile } from "../../Programs.js"
import * as Progress from "../../Progress.js"
import { printJson, writeStdout } from "../output.js"

/**
 * The parsed command line of `download`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config extends Client.Overrides {
  readonly fileId: string
  readonly out: string
  readonly createDirs: boolean
  readonly force: boolean
  readonly wait: boolean
  readonly pollInterval: Duration.Duration
  readonly timeout: Option.Option<Duration.Duration>
  readonly maxSize: Option.Option<number>
  readonly quiet: boolean
  readonly json: boolean
  readonly idleTimeout: Option.Option<Duration.Duration>
}

/** `--out -`: the bytes on stdout as they arrive; progress (without a total) on stderr. */
const toStdout = (fileId: string, maxBytes: number | undefined, progress: Progress.Tracker) =>
  Effect.flatMap(ExportsClient.ExportsClient, (client) => {
    let bytes = 0
    return client.download(fileId, { maxBytes }).pipe(
      Stream.runForEach((chunk) =>
        Effect.zipRight(
          writeStdout(chunk),
          Effect.suspend(() => {
            bytes += chunk.length
            return progress.update({ bytes, total: Option.none() })
          })
        )
      ),
      Effect.ensuring(progress.close)
    )
  })

/**
 * Downloads the file to `--out` (or stdout) with a progress display, then says where it went. With `--wait`,
 * first waits until Batch gives a link (`awaitFile`). A file is downloaded as `fetch` downloads a part: resumed
 * across runs (its `.partial` and state kept, the same lock), from byte 0 with `--force`.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const download = ({
  createDirs,
  fileId,
  force,
  json,
  maxSize,
  out,
  pollInterval,
  quiet,
  timeout,
  wait,
  ...flags
}: Config) =>
  Effect.gen(function* () {
    if (wait) yield* awaitFile(fileId, { pollInterval, timeout: Option.getOrUndefined(timeout) })
    const maxBytes = Option.getOrUndefined(maxSize)
    const progress = yield* Progress.make(fileId)
    if (out === "-") return yield* toStdout(fileId, maxBytes, progress)
    const files = yield* ExportFiles.ExportFiles
    // the destination rules (an existing directory, a device, a missing parent) are the library's
    const saved = yield* files
      .downloadToFile(fileId, out, {
        onProgress: progress.update,
        createDirectories: createDirs,
        maxBytes,
        resume: !force
      })
      .pipe(Effect.ensuring(progress.close))
    yield* json
      ? printJson({ fileId: saved.fileId, path: saved.path, bytes: saved.bytes })
      : Console.log(`saved ${saved.bytes} bytes to ${saved.path}`)
  }).pipe(Progress.quietly(quiet), Effect.provide(Client.layer(flags)))
