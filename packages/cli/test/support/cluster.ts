/**
 * For the cluster tests: emulated Batch projects (one emulator each, each its own keys), a throw-away Postgres,
 * a sync configuration naming them in the test's temp dir, `batch-export runner` processes, and what landed in
 * the database and on each emulator.
 */
import { Emulator } from "@batch-export/emulator"
import { assert } from "@effect/vitest"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { execFile } from "node:child_process"
import * as Path from "node:path"
import * as Postgres from "../../../sync/test/support/postgres.js"
import * as Child from "./process.js"
import { posts, stored, waitUntil } from "./sync.js"

/** One emulated project: its name in the configuration, its emulator, the variable holding its REST key. */
export interface Project {
  readonly name: string
  readonly emulator: Emulator.Service
  readonly keyEnv: string
}

export interface Fleet {
  readonly db: Postgres.Cluster
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` */
  readonly url: string
  readonly dir: string
  readonly config: string
  readonly projects: ReadonlyArray<Project>
  /** every project's REST key, by its variable's name: the runners' environment */
  readonly env: Record<string, string>
}

/** The two definitions every project runs: a snapshot of profiles and a window of events. */
export const definitions = ["profiles", "events"] as const

/**
 * `count` projects (`p1`…), each on its own emulator (`options(i)`, seeds and keys of its own), running both
 * {@link definitions}, into a fresh Postgres; the configuration file is in a temp dir of the test's scope.
 */
export const fleet = (
  count: number,
  options: (index: number) => Emulator.Options,
  extra: Record<string, unknown> = {}
) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const db = yield* Postgres.start
    const dir = yield* fs.makeTempDirectoryScoped()
    const projects: Array<Project> = []
    for (let i = 1; i <= count; i++) {
      const emulator = yield* Emulator.make({
        seed: i,
        restApiKey: `rest-Key-${i}-${"k".repeat(24)}`,
        projectKey: `project_${i}${"p".repeat(30)}`,
        ...options(i)
      })
      projects.push({ name: `p${i}`, emulator, keyEnv: `P${i}_REST_KEY` })
    }
    const config = Path.join(dir, "sync.json")
    yield* fs.writeFileString(
      config,
      JSON.stringify({
        projects: projects.map((p) => ({
          name: p.name,
          projectKey: p.emulator.projectKey,
          restKeyEnv: p.keyEnv,
          api: p.emulator.apiUrl,
          // the emulators have no rate limit; Batch's 1/s would make these tests about the pacer's queue
          requestsPerSecond: 20,
          exports: definitions
        })),
        exports: [
          { name: "profiles", type: "ATTRIBUTES", attributes: ["$email_address"], identifiers: ["custom_id"] },
          { name: "events", type: "EVENTS", events: ["purchase"], lookBackDays: 1 }
        ],
        ...extra
      })
    )
    const env = Object.fromEntries(projects.map((p) => [p.keyEnv, p.emulator.restApiKey]))
    const url = `postgres://postgres:${db.password}@127.0.0.1:${db.port}/postgres`
    return { db, url, dir, config, projects, env } satisfies Fleet
  })

/** A `batch-export runner` process of the fleet. */
export interface Runner {
  readonly name: string
  /** where it said the others reach it (`host:port`) */
  readonly address: string
  readonly process: Child.Running
  /** the executions (`project/definition slot`) it logged `running` for, in order */
  readonly ran: () => ReadonlyArray<string>
}

const runningLine = /^(\S+\/\S+ \S+): running$/gm

/** The executions a runner's stderr says started running there. */
export const ranIn = (stderr: string): ReadonlyArray<string> => Array.from(stderr.matchAll(runningLine), (m) => m[1]!)

/**
 * Starts `batch-export runner` on the fleet's config and database (REST keys in its environment only), and
 * waits until it says where it listens.
 */
export const startRunner = (fleet: Fleet, name: string, args: ReadonlyArray<string> = []) =>
  Effect.gen(function* () {
    const process = yield* Child.start(
      ["runner", "--config", fleet.config, "--database", fleet.url, "--poll-interval", "1", ...args],
      fleet.env
    )
    const exited = () => process.child.exitCode !== null || process.child.signalCode !== null
    const listening = () => /^runner listening on \S+ \(advertised as (\S+)\)$/m.exec(process.stderrSoFar())
    yield* waitUntil(
      Effect.sync(() => exited() || listening() !== null),
      `runner ${name} to listen`,
      30
    ).pipe(Effect.mapError((error) => new Error(`${error.message}; its stderr: ${process.stderrSoFar()}`)))
    if (exited()) return yield* Effect.fail(new Error(`runner ${name} exited at start: ${process.stderrSoFar()}`))
    const address = listening()![1]!
    return { name, address, process, ran: () => ranIn(process.stderrSoFar()) } satisfies Runner
  })

/** The addresses of the runners registered as healthy in the cluster's table. */
export const registered = (fleet: Fleet) =>
  Effect.map(rows(fleet, "SELECT address FROM cluster_runners WHERE healthy"), (found) =>
    found.map(([address]) => address!)
  )

/** Starts `count` runners and waits until all of them are registered (so that the shards are spread over them). */
export const startRunners = (fleet: Fleet, count: number, prefix = "r") =>
  Effect.gen(function* () {
    const runners: Array<Runner> = []
    for (let i = 1; i <= count; i++) runners.push(yield* startRunner(fleet, `${prefix}${i}`))
    yield* waitUntil(
      Effect.map(registered(fleet), (found) => runners.every((runner) => found.includes(runner.address))),
      `runners ${runners.map((runner) => runner.address).join(", ")} registered in cluster_runners`,
      30
    )
    return runners
  })

/** The runners whose log says `label` started running there (last one last). */
export const runnersOf = (runners: ReadonlyArray<Runner>, label: string) =>
  runners.filter((runner) => runner.ran().includes(label))

/** Every line a running or finished process wrote so far. */
export const outputOf = (process: Child.Running) =>
  `${Buffer.concat(process.stdout()).toString("utf8")}\n${process.stderrSoFar()}`

/** Rows of a `psql -At` query (`|`-separated columns). */
export const rows = (fleet: Fleet, query: string) =>
  Effect.map(fleet.db.psql("postgres", query), (out) =>
    out
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => line.split("|"))
  )

/**
 * What the emulator generated for its exports of `type`: its records (lines of its files), and the distinct
 * profiles among them (a profile is its custom id, else its smallest installation id: a snapshot holds each once).
 */
export const generated = (emulator: Emulator.Service, type: "ATTRIBUTES" | "EVENTS") =>
  Effect.gen(function* () {
    let records = 0
    const profiles = new Set<string>()
    for (const exp of yield* emulator.exports) {
      if (exp.exportType !== type) continue
      for (const file of exp.files) {
        const text = Buffer.from(yield* Effect.orDie(emulator.fileBytes(file.id))).toString("utf8")
        for (const line of text.split("\n")) {
          if (line === "") continue
          records++
          if (type !== "ATTRIBUTES") continue
          const ids: { custom_id?: string; installation_ids?: Array<string> } = JSON.parse(line).identifiers ?? {}
          const installation = [...(ids.installation_ids ?? [])].sort()[0]
          profiles.add(ids.custom_id ? `c:${ids.custom_id}` : installation ? `i:${installation}` : `r:${records}`)
        }
      }
    }
    return { records, profiles: profiles.size }
  })

/** The slot of a daily definition today (00:00 UTC), as the runners log it in `project/definition slot`. */
export const today = () => {
  const slot = new Date()
  slot.setUTCHours(0, 0, 0, 0)
  return slot.toISOString()
}

/**
 * What a finished sync of the fleet must have left, however often its runners were killed: one successful run row
 * per (project, definition), every generated profile and event once, one export created per definition on each
 * emulator.
 */
export const assertLandedOnce = (fleet: Fleet) =>
  Effect.gen(function* () {
    const after = yield* stored({ url: Redacted.make(fleet.url) })
    const expected = fleet.projects.flatMap((p) => definitions.map((d) => [p.name, d, "success"].join(" "))).sort()
    assert.deepStrictEqual(
      after.runs.map((run) => [run.project, run.definition, run.outcome].join(" ")).sort(),
      expected,
      "one successful run row per execution"
    )
    const profiles = new Map(
      (yield* rows(fleet, "SELECT project, count(*) FROM batch_profiles GROUP BY project")).map(([project, n]) => [
        project!,
        Number(n)
      ])
    )
    const events = new Map(
      (yield* rows(
        fleet,
        "SELECT project, count(*), count(DISTINCT (export_id, part, line)) FROM batch_events GROUP BY project"
      )).map(([project, n, distinct]) => [project!, { n: Number(n), distinct: Number(distinct) }])
    )
    for (const project of fleet.projects) {
      const exports = yield* project.emulator.exports
      assert.strictEqual(
        yield* posts(project.emulator),
        definitions.length,
        `${project.name}: one export per definition; its exports: ${exports.map((e) => `${e.id} ${e.exportType} ${e.status}`).join(", ")}`
      )
      const wantProfiles = (yield* generated(project.emulator, "ATTRIBUTES")).profiles
      const wantEvents = (yield* generated(project.emulator, "EVENTS")).records
      assert.isAbove(wantProfiles, 0)
      assert.isAbove(wantEvents, 0)
      assert.deepStrictEqual(profiles.get(project.name), wantProfiles, `${project.name}: every profile once`)
      assert.deepStrictEqual(
        events.get(project.name),
        { n: wantEvents, distinct: wantEvents },
        `${project.name}: every event once`
      )
    }
  })

/** What the runners and the database say, for a failure's message. */
export const diagnose = (fleet: Fleet, runners: ReadonlyArray<Runner>) =>
  Effect.gen(function* () {
    const runs = yield* rows(fleet, "SELECT project, definition, outcome, parts, records FROM batch_runs ORDER BY 1, 2")
    return [
      ...runners.map(
        (runner) => `--- runner ${runner.name}:\n${runner.process.stderrSoFar().split("\n").slice(-40).join("\n")}`
      ),
      `--- runs:\n${runs.map((row) => row.join(" ")).join("\n")}`
    ].join("\n")
  })

/** `effect`, its failure (or failed assertion) followed by {@link diagnose}. */
export const explained = <A, E, R>(fleet: Fleet, runners: ReadonlyArray<Runner>, effect: Effect.Effect<A, E, R>) =>
  Effect.catchAllCause(effect, (cause) =>
    Effect.flatMap(diagnose(fleet, runners), (more) => Effect.fail(new Error(`${Cause.pretty(cause)}\n${more}`)))
  )

/** The parts the database recorded as loaded: `[project, export id, part]`. */
export const loadedParts = (fleet: Fleet) => rows(fleet, "SELECT project, export_id, part FROM batch_parts")

/** Each part in `loaded` (parts loaded at some point) was downloaded once, ever. */
export const assertNotDownloadedAgain = (fleet: Fleet, loaded: ReadonlyArray<ReadonlyArray<string>>) =>
  Effect.gen(function* () {
    for (const [project, exportId, part] of loaded) {
      const emulator = fleet.projects.find((p) => p.name === project)!.emulator
      const file = (yield* emulator.exports)
        .find((exp) => exp.id === exportId)!
        .files.find((file) => file.part === Number(part))!
      const requests = (yield* emulator.requests).filter(
        (r) => r.origin === "storage" && r.path.endsWith(`/${file.id}`)
      )
      assert.strictEqual(requests.length, 1, `${project} ${exportId} part ${part}, loaded, downloaded once`)
    }
  })

/** The whole database as SQL (`pg_dump`: every table's rows, the cluster's messages and replies included). */
export const dump = (fleet: Fleet) =>
  Effect.async<string>((resume) => {
    execFile(
      Path.join(Postgres.binDir, "pg_dump"),
      ["-h", "127.0.0.1", "-p", String(fleet.db.port), "-U", "postgres", "-d", "postgres"],
      { env: { PGPASSWORD: fleet.db.password }, encoding: "utf8", maxBuffer: 1024 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resume(error === null ? Effect.succeed(stdout) : Effect.die(new Error(`pg_dump failed: ${stderr}`)))
    )
  })

/**
 * No REST key of the fleet and not the database's password appears in the database (all of it) nor in `texts`
 * (what the processes wrote).
 */
export const assertNoSecret = (fleet: Fleet, texts: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const all = yield* dump(fleet)
    // what the search runs over: the runs, the synced rows, the cluster's messages
    for (const table of ["batch_runs", "batch_profiles", "batch_events", "cluster_messages", "cluster_replies"]) {
      assert.include(all, `COPY public.${table} `)
    }
    const secrets = [...Object.values(fleet.env), fleet.db.password]
    for (const secret of secrets) {
      assert.notInclude(all, secret, "a secret in the database")
      for (const text of texts) assert.notInclude(text, secret, "a secret in a process's output")
    }
  })
