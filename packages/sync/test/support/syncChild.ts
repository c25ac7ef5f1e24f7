/**
 * The sync as a process, for the kill tests: runs one `ExportSync` execution of project "shop", definition
 * "profiles", slot `SYNC_SLOT`, against the emulator at `BATCH_API_URL`, with the engine and the sink in
 * `SYNC_DIR`, and prints one line per sink call it makes (`loadedPart 1`, `loadPart 1 start`,
 * `loadPart 1 done`) and `result {…}` at the end. `SYNC_PAUSE` stops it forever at a step boundary, for the
 * test to kill it there: `after-post` (Batch created the export, its id not yet recorded: the answer is lost
 * with the process), `after-load-1` (part 1 committed, its step not yet finished) or `before-load-2` (part 1's
 * step finished, part 2 not started).
 *
 * Run with `node --conditions=@batch-export/source --import tsx`.
 */
import { CreateExport } from "@batch-export/core"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ExportSync } from "../../src/ExportSync.js"
import type * as Sink from "../../src/Sink.js"
import * as Sync from "./sync.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

const pause = process.env["SYNC_PAUSE"] ?? ""

const at = (point: string) => (pause === point ? Effect.zipRight(say(`paused ${point}`), Effect.never) : Effect.void)

const traced = (sink: Sink.Service): Sink.Service => ({
  ...sink,
  recordExport: (runId, exportId) =>
    Effect.zipRight(at("after-post"), Effect.zipRight(say(`recordExport`), sink.recordExport(runId, exportId))),
  loadedPart: (key) => Effect.zipRight(say(`loadedPart ${key.part}`), sink.loadedPart(key)),
  loadPart: (key, records) =>
    Effect.gen(function* () {
      if (key.part === 2) yield* at("before-load-2")
      yield* say(`loadPart ${key.part} start`)
      const loaded = yield* sink.loadPart(key, records)
      yield* say(`loadPart ${key.part} done`)
      if (key.part === 1) yield* at("after-load-1")
      return loaded
    })
})

const program = Effect.gen(function* () {
  const request = yield* Schema.decodeUnknown(CreateExport.CreateExportRequest)({
    export_type: "ATTRIBUTES",
    attributes: ["$email_address"],
    identifiers: ["custom_id"]
  })
  const result = yield* ExportSync.execute({
    project: "shop",
    definition: "profiles",
    slot: env("SYNC_SLOT"),
    request
  })
  yield* say(`result ${JSON.stringify(result)}`)
})

program.pipe(
  Effect.provide(
    Sync.layer(
      {
        dir: env("SYNC_DIR"),
        apiUrl: env("BATCH_API_URL"),
        restApiKey: env("BATCH_REST_API_KEY"),
        projectKey: env("BATCH_PROJECT_KEY")
      },
      // the emulator moves one status per look: three looks, a second apart
      { sync: { pollInterval: "1 second" }, decorate: traced }
    )
  ),
  NodeRuntime.runMain
)
