/**
 * The sync as a process, for the kill tests: runs one `ExportSync` execution of project "shop", definition
 * "profiles", slot `SYNC_SLOT`, against the emulator at `BATCH_API_URL`, and prints one line per sink call it
 * makes (`recordRun`, `recordExport`, `loadedPart 1`, `loadPart 1 start`, `loadPart 1 done`, `publish`,
 * `finishRun`) and `result {…}` at the end.
 *
 * The engine and the sink are two SQLite files in `SYNC_DIR`, or, with `SYNC_PG_HOST` (a socket dir),
 * `SYNC_PG_PORT` and `SYNC_PG_DATABASE`, one Postgres database for both.
 *
 * `SYNC_PAUSE` stops it forever (it prints `paused <point>` first), for the test to kill it there:
 * - `after-start`: the run row written, the start step not yet stored;
 * - `after-post`: Batch created the export, its id not yet recorded (the answer is lost with the process);
 * - `before-load-<n>`: part n-1's step stored, part n not started;
 * - `mid-part-<n>`: part n's transaction open, `SYNC_MID_PART` records of it streamed (default 700: one
 *   batch of 500 inserted, the next one filling);
 * - `after-load-<n>`: part n committed, its step not yet stored;
 * - `after-publish`: published, the step not yet stored;
 * - `after-finish`: the run row finished, the step (and the execution) not yet stored.
 *
 * `SYNC_POLL_INTERVAL_MS` (default 1000) and `SYNC_IN_MEMORY_THRESHOLD_MS` (default: DurableClock's) tune
 * the waits between looks at the export.
 *
 * Run with `node --conditions=@batch-export/source --import tsx`.
 */
import { CreateExport } from "@batch-export/core"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Database from "../../src/Database.js"
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

const midPart = Number(process.env["SYNC_MID_PART"] ?? "700")

/** The records of part `part`, stopping forever after `midPart` of them when the pause is in that part. */
const pausedIn = <E, R>(part: number, records: Stream.Stream<unknown, E, R>): Stream.Stream<unknown, E, R> =>
  pause === `mid-part-${part}`
    ? Stream.concat(Stream.take(records, midPart), Stream.fromEffect(at(`mid-part-${part}`)).pipe(Stream.drain))
    : records

const traced = (sink: Sink.Service): Sink.Service => ({
  ...sink,
  recordRun: (run) => Effect.zipLeft(Effect.zipRight(say("recordRun"), sink.recordRun(run)), at("after-start")),
  recordExport: (runId, exportId) =>
    Effect.zipRight(at("after-post"), Effect.zipRight(say(`recordExport`), sink.recordExport(runId, exportId))),
  loadedPart: (key) => Effect.zipRight(say(`loadedPart ${key.part}`), sink.loadedPart(key)),
  loadPart: (key, records) =>
    Effect.gen(function* () {
      yield* at(`before-load-${key.part}`)
      yield* say(`loadPart ${key.part} start`)
      const loaded = yield* sink.loadPart(key, pausedIn(key.part, records))
      yield* say(`loadPart ${key.part} done`)
      yield* at(`after-load-${key.part}`)
      return loaded
    }),
  publishSnapshot: (key) =>
    Effect.zipLeft(Effect.zipRight(say("publish"), sink.publishSnapshot(key)), at("after-publish")),
  finishRun: (runId, end) =>
    Effect.zipLeft(Effect.zipRight(say("finishRun"), sink.finishRun(runId, end)), at("after-finish"))
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

const millis = (value: string | undefined) => (value === undefined ? undefined : Duration.millis(Number(value)))

const pgHost = process.env["SYNC_PG_HOST"]

program.pipe(
  Effect.provide(
    Sync.layer(
      {
        dir: env("SYNC_DIR"),
        apiUrl: env("BATCH_API_URL"),
        restApiKey: env("BATCH_REST_API_KEY"),
        projectKey: env("BATCH_PROJECT_KEY")
      },
      {
        sync: {
          pollInterval: Duration.millis(Number(process.env["SYNC_POLL_INTERVAL_MS"] ?? "1000")),
          inMemoryThreshold: millis(process.env["SYNC_IN_MEMORY_THRESHOLD_MS"])
        },
        decorate: traced,
        database:
          pgHost === undefined
            ? undefined
            : Database.layerPg({
                host: pgHost,
                port: Number(env("SYNC_PG_PORT")),
                database: env("SYNC_PG_DATABASE"),
                username: "postgres"
              })
      }
    )
  ),
  NodeRuntime.runMain
)
