import { Emulator } from "@batch-export/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { assertOneLineFailure, envFor, runCli } from "./support/harness.js"

const layer = Emulator.layer({
  seed: 5,
  exports: [
    { status: "SUCCESS", parts: 2, recordsPerPart: 20 },
    { status: "SUCCESS", exportType: "EVENTS", parts: 1, recordsPerPart: 20 },
    { status: "RUNNING", parts: 1 },
    { status: "ERROR", parts: 0 }
  ]
})

describe("batch-export list", () => {
  it.layer(layer)((it) => {
    it.effect("a table: id, status, scope, request date, files, most recent first", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const exports = yield* emulator.exports
        const run = yield* runCli(["list"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(run.stderr, [])
        const [header, ...rows] = run.stdout.join("\n").split("\n")
        assert.match(header!, /^ID +STATUS +SCOPE +REQUESTED +FILES$/)
        assert.strictEqual(rows.length, exports.length)
        const newestFirst = [...exports].reverse()
        rows.forEach((row, i) => {
          const exp = newestFirst[i]!
          const files = exp.status === "SUCCESS" ? exp.files.length : 0
          assert.match(row, new RegExp(`^${exp.id} +${exp.status} +PROFILE_\\w+ +\\d{4}-[\\d:.T-]+Z +${files}$`))
        })
        // columns line up
        const at = header!.indexOf("STATUS")
        for (const row of rows) assert.match(row.slice(at), /^(SUCCESS|RUNNING|ERROR)/)
      })
    )

    it.effect("--limit N: one page of N, and a hint on stderr that there are more", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        yield* emulator.clearRequests
        const run = yield* runCli(["list", "--limit", "2"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.strictEqual(run.stdout.join("\n").split("\n").length, 3, run.output)
        assert.strictEqual(run.stderr.length, 1, run.output)
        assert.match(run.stderr[0]!, /^more exports exist: --from \S+ \(or --all\)$/)
        const [request] = yield* emulator.requests
        assert.strictEqual(request?.path, "/2.10/exports/list")
        assert.deepStrictEqual(request?.query, { limit: "2" })
      })
    )

    it.effect("--json: Batch's page, with its field names", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const exports = yield* emulator.exports
        const run = yield* runCli(["list", "--json", "--limit", "100"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        const page = JSON.parse(run.stdout.join("\n"))
        assert.strictEqual(page.has_more, false)
        assert.strictEqual(page.count, exports.length)
        assert.deepStrictEqual(
          page.exports.map((exp: { id: string }) => exp.id),
          [...exports].reverse().map((exp) => exp.id)
        )
        const [first] = page.exports
        assert.property(first, "request_date")
        assert.notProperty(first, "requestDate")
      })
    )

    it.effect("500 from Batch: one line", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        yield* emulator.script("list", Emulator.Reply.status(500, { body: "<html>oops</html>" }))
        const run = yield* runCli(["list"], envFor(emulator))
        const line = assertOneLineFailure(run, "InternalServerError", "HTTP 500")
        assert.notInclude(line, "<html>")
      })
    )

    it.effect("a missing variable is named", () =>
      Effect.gen(function* () {
        const run = yield* runCli(["list"], { BATCH_PROJECT_KEY: "project_x" })
        assertOneLineFailure(run, "ConfigError", "BATCH_REST_API_KEY is not set")
      })
    )
  })

  it.scoped("an empty project: says so", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ exports: [] })
      const run = yield* runCli(["list"], envFor(emulator))
      assert.strictEqual(run.code, 0, run.output)
      assert.deepStrictEqual(run.stdout, ["no exports"])
    })
  )
})
