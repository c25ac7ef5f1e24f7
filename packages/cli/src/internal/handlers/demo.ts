/**
 * What `batch-export demo` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
// The next imports only let declaration emit name the error types inside the inferred types.
import type { ApiError, ClientError, ExportError, Records } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchExport, type ExportFiles, ExportsClient } from "@batch-export/node"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { type SinkError, Sync, type SyncCluster, type SyncConfig } from "@batch-export/sync"
import { fetchExport } from "../../Programs.js"
import { emulatorOptions, pollInterval, renderSummary, request, type Summary } from "../demo.js"
import { printJson } from "../output.js"
import * as Render from "../render/sync.js"

/**
 * See `DemoCommand.workflow`.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const workflow = (directory: string, say: (line: string) => Effect.Effect<void>) =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const client = yield* ExportsClient.ExportsClient
    const exportId = yield* client.create(request)
    yield* say(`created ${exportId}`)
    const manifest = yield* fetchExport(exportId, directory, { pollInterval, concurrency: 2 })
    const records = yield* Stream.runCount(client.records(exportId))
    const summary: Summary = {
      exportId,
      directory,
      files: manifest.files,
      bytes: manifest.files.reduce((n, file) => n + file.bytes, 0),
      records,
      millis: (yield* Clock.currentTimeMillis) - started
    }
    return summary
  })

/**
 * The sync part of the demo: two emulated projects (an emulator each) synced by `@batch-export/sync` into the
 * SQLite file `database`, as a configuration with one ATTRIBUTES definition would. Runs on the real clock
 * whatever the caller's: the workflow engine's runner polls its storage and sleeps durably in real time.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const syncTwoProjects = (database: string, say: (line: string) => Effect.Effect<void>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const shop = yield* Emulator.make({ ...emulatorOptions, seed: 11 })
      const app = yield* Emulator.make({ ...emulatorOptions, seed: 12 })
      const project = (name: string, emulator: Emulator.Service) => ({
        name,
        projectKey: emulator.projectKey,
        restApiKey: Redacted.make(emulator.restApiKey),
        api: emulator.apiUrl,
        // the emulator sets no rate limit: the demo is not slowed to Batch's pace
        requestsPerSecond: 50,
        exports: ["profiles"]
      })
      const config: SyncConfig.SyncConfig = {
        file: "demo",
        database: { _tag: "Sqlite", filename: database },
        projects: [project("shop", shop), project("app", app)],
        definitions: new Map([
          [
            "profiles",
            { name: "profiles", type: "ATTRIBUTES", attributes: request.attributes, identifiers: request.identifiers }
          ]
        ])
      }
      yield* say(`syncing two emulated projects (shop, app) into ${database}`)
      return yield* Sync.runDue(config).pipe(Effect.provide(Sync.layer(config, { sync: { pollInterval } })))
    })
  ).pipe(Effect.withClock(Clock.make()))

/**
 * The parsed command line of `demo`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly outDir: string
  readonly json: boolean
}

/**
 * Starts the emulator, runs the workflow against it with the real client, prints the summary.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const demo = ({ json, outDir }: Config) =>
  Effect.scoped(
    Effect.gen(function* () {
      const directory = (yield* Path.Path).resolve(outDir)
      const emulator = yield* Emulator.make(emulatorOptions)
      // under --json, stdout carries only the summary object
      const say = (line: string) => (json ? Effect.void : Console.log(line))
      yield* say(`started a Batch export API emulator at ${emulator.apiUrl} (storage ${emulator.storageUrl})`)
      const client = BatchExport.layer({
        restApiKey: emulator.restApiKey,
        projectKey: emulator.projectKey,
        baseUrl: emulator.apiUrl
      })
      const summary = yield* Effect.provide(workflow(directory, say), client)
      // better-sqlite3 is an optional dependency of the CLI: without it the demo shows the export workflow only
      const sqlite = yield* Effect.either(Effect.tryPromise(() => import("@effect/sql-sqlite-node/SqliteClient")))
      const outcomes = Either.isRight(sqlite)
        ? yield* syncTwoProjects((yield* Path.Path).join(directory, "batch-export.db"), say)
        : undefined
      const skipped = "sync skipped: its SQLite driver, better-sqlite3 (an optional dependency), is not installed"
      yield* json
        ? printJson({
            ...summary,
            seconds: summary.millis / 1000,
            sync: outcomes === undefined ? null : outcomes.map(Render.outcomeJson),
            ...(outcomes === undefined ? { syncSkipped: skipped } : {})
          })
        : Console.log(
            [...renderSummary(summary), ...(outcomes === undefined ? [skipped] : Render.outcomesTable(outcomes))].join(
              "\n"
            )
          )
    })
  )
