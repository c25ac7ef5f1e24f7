/**
 * `batch-export runner` processes sharing one Postgres (a sync cluster, `@batch-export/sync`'s `SyncCluster`),
 * with `batch-export sync` handing them the executions: real processes of the bundle, one emulator per project,
 * runners killed with SIGKILL. Completion is read in the database and the emulators, with deadlines.
 *
 * Live clocks (`scopedLive`): the emulators date their exports with the test's clock, and a runner adopting an
 * export that a killed runner created looks for one dated after its first attempt (a TestClock dates it 1970).
 */
import { Emulator } from "@batch-export/emulator"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import * as Postgres from "../../sync/test/support/postgres.js"
import * as Cluster from "./support/cluster.js"
import * as Child from "./support/process.js"
import { finishedWithin, posts, waitUntil } from "./support/sync.js"

/** Parts of 512 KiB (a few thousand records), two per export, one status a look. */
const emulatorOptions = { exports: [], pollsPerStatus: 1, partsPerExport: 2, bytesPerPart: 512 * 1024 }

/** For the failover tests: fewer, smaller parts (the kill lands in one of them). */
const smallParts = { ...emulatorOptions, bytesPerPart: 128 * 1024 }

const syncArgs = (fleet: Cluster.Fleet, ...more: ReadonlyArray<string>) => [
  "sync",
  "--config",
  fleet.config,
  "--database",
  fleet.url,
  "--poll-interval",
  "1",
  ...more
]

describe.skipIf(!Child.built || !Postgres.available)("batch-export runner: a cluster of 3", () => {
  it.scopedLive(
    "sync hands 12 projects × 2 exports to 3 runners: every execution completes once, spread over all 3; no secret in the database or the output",
    () =>
      Effect.gen(function* () {
        const fleet = yield* Cluster.fleet(12, () => emulatorOptions)
        const runners = yield* Cluster.startRunners(fleet, 3)
        const sync = yield* Child.start(syncArgs(fleet, "--json"), fleet.env)
        const done = yield* Cluster.explained(
          fleet,
          runners,
          finishedWithin(sync, "sync of 24 executions on 3 runners", 120)
        )
        assert.strictEqual(done.code, 0, done.stderr)
        const outcomes = done.stdout
          .toString("utf8")
          .trimEnd()
          .split("\n")
          .map((line): { project: string; definition: string; outcome: string } => JSON.parse(line))
        assert.deepStrictEqual(
          outcomes.map((o) => `${o.project}/${o.definition} ${o.outcome}`).sort(),
          fleet.projects.flatMap((p) => Cluster.definitions.map((d) => `${p.name}/${d} success`)).sort()
        )
        yield* Cluster.assertLandedOnce(fleet)
        // the sync was a client: the runners ran every execution, each of them some
        const slot = Cluster.today()
        assert.deepStrictEqual(
          [...new Set(runners.flatMap((runner) => runner.ran()))].sort(),
          fleet.projects.flatMap((p) => Cluster.definitions.map((d) => `${p.name}/${d} ${slot}`)).sort(),
          "the runners ran every execution (the sync was a client)"
        )
        for (const runner of runners) {
          assert.isNotEmpty(runner.ran(), `runner ${runner.name} ran some execution: ${runner.process.stderrSoFar()}`)
        }
        yield* Cluster.assertNoSecret(fleet, [
          ...runners.map((runner) => Cluster.outputOf(runner.process)),
          Cluster.outputOf(sync)
        ])
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    180_000
  )
})

/** The emulator's `view` requests for its export of `type`: looks at an export in a wait. */
const views = (emulator: Emulator.Service, type: "ATTRIBUTES" | "EVENTS") =>
  Effect.gen(function* () {
    const ids = (yield* emulator.exports).filter((exp) => exp.exportType === type).map((exp) => exp.id)
    return (yield* emulator.requests).filter(
      (r) => r.path.endsWith("/exports/view") && ids.includes(r.query["id"] ?? "")
    ).length
  })

/** The definition whose export holds the file an emulator's first storage request asked for. */
const firstDownloaded = (emulator: Emulator.Service) =>
  Effect.gen(function* () {
    const first = (yield* emulator.requests).find((r) => r.origin === "storage")
    if (first === undefined) return undefined
    const exp = (yield* emulator.exports).find((exp) => exp.files.some((file) => first.path.endsWith(`/${file.id}`)))
    return exp === undefined ? undefined : exp.exportType === "ATTRIBUTES" ? "profiles" : "events"
  })

/**
 * Starts 3 runners and a sync of the fleet; once `victim` names a definition of p1 (the moment to kill has come),
 * kills (SIGKILL) the runner that logged that execution running. The sync must then finish on the other runners,
 * one of which logged it running, every row landing once, no part loaded before the kill downloaded again.
 */
const killedWhile = (fleet: Cluster.Fleet, victim: Effect.Effect<string | undefined>, what: string) =>
  Effect.gen(function* () {
    const runners = yield* Cluster.startRunners(fleet, 3)
    const sync = yield* Child.start(syncArgs(fleet), fleet.env)
    yield* Cluster.explained(
      fleet,
      runners,
      Effect.gen(function* () {
        let label: string | undefined
        yield* waitUntil(
          Effect.map(victim, (definition) => {
            label = definition === undefined ? undefined : `p1/${definition} ${Cluster.today()}`
            return label !== undefined
          }),
          what
        )
        const held = label!
        let found: Cluster.Runner | undefined
        yield* waitUntil(
          Effect.sync(() => (found = Cluster.runnersOf(runners, held).at(-1)) !== undefined),
          `a runner running ${held}`
        )
        const killed = found!
        killed.process.child.kill("SIGKILL")
        assert.strictEqual((yield* killed.process.finished).signal, "SIGKILL")
        const loaded = yield* Cluster.loadedParts(fleet)
        const others = runners.filter((runner) => runner !== killed)
        const done = yield* finishedWithin(sync, `the sync after runner ${killed.name} was killed`, 90)
        assert.strictEqual(done.code, 0, `${done.stdout.toString("utf8")}\n${done.stderr}`)
        assert.isNotEmpty(
          Cluster.runnersOf(others, held),
          `another runner took ${held} over (${killed.name} was killed)`
        )
        yield* Cluster.assertLandedOnce(fleet)
        yield* Cluster.assertNotDownloadedAgain(fleet, loaded)
      })
    )
  })

describe.skipIf(!Child.built || !Postgres.available)("batch-export runner: a runner killed", () => {
  it.scopedLive(
    "with SIGKILL while an execution waits for Batch: the others finish it, rows once, no second export",
    () =>
      Effect.gen(function* () {
        // p1's exports take 3 looks per status (a second apart): it is waiting for Batch for several seconds
        const fleet = yield* Cluster.fleet(4, (i) => ({ ...smallParts, pollsPerStatus: i === 1 ? 3 : 1 }))
        const p1 = fleet.projects[0]!.emulator
        yield* killedWhile(
          fleet,
          Effect.map(views(p1, "ATTRIBUTES"), (n) => (n >= 1 ? "profiles" : undefined)),
          "p1/profiles waiting for Batch"
        )
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    180_000
  )

  it.scopedLive(
    "with SIGKILL after Batch created its export, before the answer came: the others adopt it, no second export",
    () =>
      Effect.gen(function* () {
        const fleet = yield* Cluster.fleet(4, () => smallParts)
        const p1 = fleet.projects[0]!.emulator
        // p1's first create is done on Batch, but its answer never comes while the runner lives
        yield* p1.script("create", Emulator.Reply.stallAfter(0))
        yield* killedWhile(
          fleet,
          Effect.map(p1.exports, ([first]) =>
            first === undefined ? undefined : first.exportType === "ATTRIBUTES" ? "profiles" : "events"
          ),
          "p1's first export created"
        )
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    180_000
  )

  it.scopedLive(
    "with SIGKILL in the middle of a part: the others download it again and finish, rows once, no second export",
    () =>
      Effect.gen(function* () {
        const fleet = yield* Cluster.fleet(4, () => smallParts)
        const p1 = fleet.projects[0]!.emulator
        // p1's first download sends 100 bytes, then holds the connection until the runner is gone
        yield* p1.script("storage", Emulator.Reply.stallAfter(100))
        yield* killedWhile(fleet, firstDownloaded(p1), "a part of p1 downloading")
        // the held part is loaded again from its start, by another runner
        const first = (yield* p1.requests).find((r) => r.origin === "storage")!
        const again = (yield* p1.requests).filter((r) => r.origin === "storage" && r.path === first.path)
        assert.strictEqual(again.length, 2, "the held part downloaded once more")
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    180_000
  )
})

describe.skipIf(!Child.built || !Postgres.available)("batch-export runner: the whole cluster restarted", () => {
  it.scopedLive(
    "SIGKILL of all 3 runners mid-run, 3 new ones: the sync finishes from where it was",
    () =>
      Effect.gen(function* () {
        // p3 waits long for Batch; p1's first download is served, the next two (its export's part 2, its other
        // export's part 1) are held: at the kill, p3 is in a wait, p1 in the middle of parts with a part loaded
        const fleet = yield* Cluster.fleet(4, (i) => ({ ...smallParts, pollsPerStatus: i === 3 ? 6 : i === 1 ? 2 : 1 }))
        const p1 = fleet.projects[0]!.emulator
        const p3 = fleet.projects[2]!.emulator
        yield* p1.script(
          "storage",
          Emulator.Reply.storage({}),
          Emulator.Reply.stallAfter(100),
          Emulator.Reply.stallAfter(100)
        )
        const first = yield* Cluster.startRunners(fleet, 3, "a")
        const sync = yield* Child.start(syncArgs(fleet), fleet.env)
        // parts loaded for an execution still running: the kill leaves them to the new runners' resume
        const loadedUnfinished = Cluster.rows(
          fleet,
          `SELECT p.project, p.export_id, p.part FROM batch_parts p
           JOIN batch_runs r ON r.project = p.project AND r.export_id = p.export_id WHERE r.finished_at IS NULL`
        )
        yield* Cluster.explained(
          fleet,
          first,
          waitUntil(
            Effect.gen(function* () {
              const held = (yield* p1.requests).filter((r) => r.origin === "storage").length >= 3
              const waiting =
                (yield* views(p3, "ATTRIBUTES")) >= 1 && (yield* p3.exports).every((exp) => exp.status !== "SUCCESS")
              return held && waiting && (yield* loadedUnfinished).length >= 1
            }),
            "a part of p1 loaded, two held, and p3 waiting for Batch",
            40
          )
        )
        for (const runner of first) runner.process.child.kill("SIGKILL")
        for (const runner of first) yield* runner.process.finished
        const before = yield* Cluster.loadedParts(fleet)
        const second = yield* Cluster.startRunners(fleet, 3, "b")
        const runners = [...first, ...second]
        yield* Cluster.explained(
          fleet,
          runners,
          Effect.gen(function* () {
            const done = yield* finishedWithin(sync, "the sync after the cluster restarted", 90)
            assert.strictEqual(done.code, 0, `${done.stdout.toString("utf8")}\n${done.stderr}`)
            yield* Cluster.assertLandedOnce(fleet)
          })
        )
        // the parts loaded before the kill (one of a running execution at least) were not downloaded again
        yield* Cluster.assertNotDownloadedAgain(fleet, before)
        assert.isNotEmpty(
          second.flatMap((runner) => runner.ran()),
          "the new runners ran the rest"
        )
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    180_000
  )
})

describe.skipIf(!Child.built || !Postgres.available)("batch-export runner without its database", () => {
  it.scopedLive("Postgres not listening, or refusing the password: one line naming it, exit 1, no password shown", () =>
    Effect.gen(function* () {
      const fleet = yield* Cluster.fleet(1, () => smallParts)
      const closed = yield* Effect.promise(
        () =>
          new Promise<number>((resolve) => {
            const server = Net.createServer()
            server.listen(0, "127.0.0.1", () => {
              const address = server.address()
              server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
            })
          })
      )
      const password = "Runner-Pw-4417"
      for (const [url, problem] of [
        [`postgres://postgres:${password}@127.0.0.1:${closed}/postgres`, /\(ECONNREFUSED\): .*connect ECONNREFUSED/],
        [
          `postgres://postgres:${password}@127.0.0.1:${fleet.db.port}/postgres`,
          /\(28P01\): .*password authentication failed for user "postgres"$/
        ]
      ] as const) {
        const runner = yield* Child.start(["runner", "--config", fleet.config, "--database", url], fleet.env)
        const ended = yield* finishedWithin(runner, `the runner at ${url.replace(password, "…")}`, 30)
        assert.strictEqual(ended.code, 1, ended.stderr)
        const lines = ended.stderr.trimEnd().split("\n")
        assert.strictEqual(lines.length, 1, ended.stderr)
        assert.match(lines[0]!, /^error: SinkError: database error in connect /)
        assert.match(lines[0]!, problem)
        assert.notInclude(ended.stderr, password)
        assert.notMatch(ended.stderr, /^\s+at /m, "no stack trace")
        assert.strictEqual(ended.stdout.length, 0)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe.skipIf(!Child.built || !Postgres.available)("batch-export sync --watch: two watch nodes", () => {
  it.scopedLive(
    "on the same cron (every 5 s), with a runner: each slot runs once across both, one export per slot",
    () =>
      Effect.gen(function* () {
        const every5s = "*/5 * * * * *"
        const fleet = yield* Cluster.fleet(
          2,
          () => ({ exports: [], pollsPerStatus: 0, partsPerExport: 1, recordsPerPart: 20 }),
          {
            exports: [
              { name: "profiles", type: "ATTRIBUTES", identifiers: ["custom_id"], schedule: every5s },
              { name: "events", type: "EVENTS", events: ["purchase"], lookBackDays: 1, schedule: every5s }
            ]
          }
        )
        const runners = yield* Cluster.startRunners(fleet, 1)
        const watches = [
          yield* Child.start(syncArgs(fleet, "--watch", "--json"), fleet.env),
          yield* Child.start(syncArgs(fleet, "--watch", "--json"), fleet.env)
        ]
        type Outcome = {
          readonly project: string
          readonly definition: string
          readonly slot: string
          readonly outcome: string
        }
        const outcomesOf = (watch: Child.Running) =>
          Buffer.concat(watch.stdout())
            .toString("utf8")
            .split("\n")
            .filter((line) => line !== "")
            .map((line): Outcome => JSON.parse(line))
        const pairs = fleet.projects.flatMap((p) => Cluster.definitions.map((d) => `${p.name}/${d}`))
        // each node first runs what is due at its start and prints those ends together (both may print the same
        // slot: they join one execution); after them, each line is a cron occurrence that fired on that node
        const fired = () => watches.flatMap((watch) => outcomesOf(watch).slice(pairs.length))
        yield* Cluster.explained(
          fleet,
          runners,
          waitUntil(
            Effect.sync(() =>
              pairs.every(
                (pair) =>
                  new Set(
                    fired()
                      .filter((o) => `${o.project}/${o.definition}` === pair)
                      .map((o) => o.slot)
                  ).size >= 3
              )
            ),
            "3 cron occurrences of every (project, definition)",
            45
          ).pipe(
            Effect.mapError(
              (error) => new Error(`${error.message}; outputs: ${watches.map(Cluster.outputOf).join("\n---\n")}`)
            )
          )
        )
        for (const watch of watches) watch.child.kill("SIGTERM")
        for (const watch of watches) {
          const ended = yield* finishedWithin(watch, "a watch node after SIGTERM", 20)
          assert.strictEqual(ended.code, 143, ended.stderr)
        }
        const occurrences = fired().map((o) => `${o.project}/${o.definition} ${o.slot}`)
        assert.deepStrictEqual(
          occurrences.filter((occurrence, i) => occurrences.indexOf(occurrence) !== i),
          [],
          "an occurrence fired on both nodes"
        )
        assert.deepStrictEqual(
          fired().filter((o) => o.outcome !== "success"),
          []
        )
        for (const o of fired()) assert.strictEqual(new Date(o.slot).getUTCSeconds() % 5, 0, o.slot)
        // one export per execution (run row), whichever node ran it
        const runs = yield* Cluster.rows(fleet, "SELECT project, count(*) FROM batch_runs GROUP BY project ORDER BY 1")
        for (const [project, n] of runs) {
          const emulator = fleet.projects.find((p) => p.name === project)!.emulator
          assert.strictEqual(yield* posts(emulator), Number(n), `${project}: one export per run`)
        }
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    120_000
  )
})
