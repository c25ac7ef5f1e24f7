/**
 * `batch-export runner` processes sharing one Postgres (a sync cluster, `@batch-export/sync`'s `SyncCluster`),
 * with `batch-export sync` handing them the executions: real processes of the bundle, one emulator per project,
 * runners killed with SIGKILL. Completion is read in the database and the emulators, with deadlines.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Postgres from "../../sync/test/support/postgres.js"
import * as Cluster from "./support/cluster.js"
import * as Child from "./support/process.js"
import { finishedWithin } from "./support/sync.js"

/** Parts of 512 KiB (a few thousand records), two per export, one status a look. */
const emulatorOptions = { pollsPerStatus: 1, partsPerExport: 2, bytesPerPart: 512 * 1024 }

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
  it.scoped(
    "sync hands 12 projects × 2 exports to 3 runners: every execution completes once, spread over all 3",
    () =>
      Effect.gen(function* () {
        const fleet = yield* Cluster.fleet(12, () => emulatorOptions)
        const runners = yield* Cluster.startRunners(fleet, 3)
        const sync = yield* Child.start(syncArgs(fleet, "--json"), fleet.env)
        const done = yield* Cluster.explained(
          fleet,
          runners,
          finishedWithin(sync, "sync of 24 executions on 3 runners", 60)
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
        for (const runner of runners) {
          assert.isNotEmpty(runner.ran(), `runner ${runner.name} ran some execution: ${runner.process.stderrSoFar()}`)
        }
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    180_000
  )
})
