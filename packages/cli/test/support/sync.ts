/**
 * For the `batch-export sync` tests: two emulated Batch projects, a configuration file naming them in the
 * test's temp dir, and what landed in the database, read with a client of the test's own.
 */
import { Emulator } from "@batch-export/emulator"
import { Database, Sink } from "@batch-export/sync"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert } from "@effect/vitest"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Path from "node:path"
import * as Child from "./process.js"

/** The emulator's answers: one status a look, 2 parts of 25 records (different profiles in every part). */
export const emulatorOptions: Emulator.Options = {
  exports: [],
  pollsPerStatus: 1,
  partsPerExport: 2,
  recordsPerPart: 25
}

export interface Projects {
  readonly shop: Emulator.Service
  readonly app: Emulator.Service
  /** the temp dir holding `sync.json` (and the default database, `batch-export.db`) */
  readonly dir: string
  readonly config: string
  /** the environment holding both REST keys */
  readonly env: Record<string, string>
}

/**
 * The configuration of two projects, each running the ATTRIBUTES definition `profiles`. The emulator sets no rate
 * limit: the projects' pace is 20 requests a second rather than Batch's 1, which would only slow the tests.
 */
export const configFor = (shop: Emulator.Service, app: Emulator.Service, extra: Record<string, unknown> = {}) => ({
  projects: [
    {
      name: "shop",
      projectKey: shop.projectKey,
      restKeyEnv: "SHOP_REST_KEY",
      api: shop.apiUrl,
      requestsPerSecond: 20,
      exports: ["profiles"]
    },
    {
      name: "app",
      projectKey: app.projectKey,
      restKeyEnv: "APP_REST_KEY",
      api: app.apiUrl,
      requestsPerSecond: 20,
      exports: ["profiles"]
    }
  ],
  exports: [{ name: "profiles", type: "ATTRIBUTES", attributes: ["$email_address"], identifiers: ["custom_id"] }],
  ...extra
})

/** Two emulators and the configuration naming them, in a temp dir of the test's scope. */
export const twoProjects = (options: Emulator.Options = emulatorOptions, extra: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const shop = yield* Emulator.make(options)
    const app = yield* Emulator.make({ ...options, seed: 2 })
    const config = Path.join(dir, "sync.json")
    yield* fs.writeFileString(config, JSON.stringify(configFor(shop, app, extra)))
    const env = { SHOP_REST_KEY: shop.restApiKey, APP_REST_KEY: app.restApiKey }
    return { shop, app, dir, config, env } satisfies Projects
  })

/** The exports created on an emulator (its POSTs to /profiles/export). */
export const posts = (emulator: Emulator.Service) =>
  Effect.map(
    emulator.requests,
    (requests) => requests.filter((r) => r.method === "POST" && r.path.endsWith("/profiles/export")).length
  )

/** The storage requests of each file of the emulator's exports. */
export const downloads = (emulator: Emulator.Service) =>
  Effect.gen(function* () {
    const files = (yield* emulator.exports).flatMap((exp) => exp.files)
    const requests = (yield* emulator.requests).filter((r) => r.origin === "storage")
    return files.map((file) => requests.filter((r) => r.path.endsWith(`/${file.id}`)).length)
  })

/** Where the database is: a SQLite file or a Postgres URL. */
export type Where = { readonly filename: string } | { readonly url: Redacted.Redacted }

/** What the database holds: profiles per project (rows, distinct ids) and the runs. */
export const stored = (where: Where) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const sink = yield* Sink.Sink
    const profiles = yield* sql<{ project: string; n: number; distinct_ids: number }>`
      SELECT project, COUNT(*) AS n, COUNT(DISTINCT custom_id) AS distinct_ids
      FROM batch_profiles GROUP BY project ORDER BY project`
    return {
      profiles: profiles.map((row) => ({ project: row.project, n: Number(row.n), distinct: Number(row.distinct_ids) })),
      runs: yield* sink.runs()
    }
  }).pipe(
    Effect.provide(
      Layer.provideMerge(
        Sink.layer,
        "filename" in where ? Database.layerSqlite({ filename: where.filename }) : Database.layerPg({ url: where.url })
      )
    ),
    Effect.orDie
  )

/**
 * Looks (every 50 ms of real time, whatever the test's clock) until `condition` holds; fails naming `what`
 * after `seconds`.
 */
export const waitUntil = <E, R>(condition: Effect.Effect<boolean, E, R>, what: string, seconds = 20) =>
  Effect.gen(function* () {
    for (let i = 0; i < seconds * 20; i++) {
      if (yield* condition) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
    }
    return yield* Effect.fail(new Error(`timed out after ${seconds} s waiting for ${what}`))
  })

/** The storage requests an emulator received. */
export const storageRequests = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (requests) => requests.filter((r) => r.origin === "storage").length)

/** Runs `running` to its end, failing with what it wrote so far when it takes more than `seconds`. */
export const finishedWithin = (running: Child.Running, what: string, seconds = 40) =>
  Effect.gen(function* () {
    let done: Child.Finished | undefined
    const fiber = yield* Effect.fork(Effect.tap(running.finished, (finished) => (done = finished)))
    const ended = yield* Effect.either(
      waitUntil(
        Effect.sync(() => done !== undefined),
        what,
        seconds
      )
    )
    if (done === undefined || ended._tag === "Left") {
      return yield* Effect.fail(
        new Error(`${what}: not finished after ${seconds} s; stderr so far:\n${running.stderrSoFar()}`)
      )
    }
    yield* fiber.await
    return done
  })

/**
 * What a finished sync of `twoProjects` must have left, however often it was stopped: every profile once per
 * project, one successful run row per export, one export created on each Batch.
 */
export const assertLandedOnce = (where: Where, shop: Emulator.Service, app: Emulator.Service) =>
  Effect.gen(function* () {
    const after = yield* stored(where)
    assert.deepStrictEqual(after.profiles, [
      { project: "app", n: 50, distinct: 50 },
      { project: "shop", n: 50, distinct: 50 }
    ])
    assert.deepStrictEqual(
      after.runs.map((run) => [run.project, run.outcome, run.records]).sort(),
      [
        ["app", "success", 50],
        ["shop", "success", 50]
      ],
      "one run row per export"
    )
    assert.strictEqual(yield* posts(shop), 1, "no second export created on Batch")
    assert.strictEqual(yield* posts(app), 1, "no second export created on Batch")
  })
