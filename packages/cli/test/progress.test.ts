import { Progress } from "@batch-export/cli"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { captureConsole } from "./support/harness.js"

const draw = (updates: ReadonlyArray<Progress.Update>) =>
  Effect.gen(function* () {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    yield* Effect.gen(function* () {
      const tracker = yield* Progress.make("file_x")
      for (const update of updates) yield* tracker.update(update)
      yield* tracker.close
    }).pipe(Effect.provideService(Progress.ProgressStyle, "lines"), Effect.withConsole(captureConsole(stdout, stderr)))
    assert.deepStrictEqual(stdout, [])
    return stderr
  })

describe("Progress", () => {
  it("renders a percentage with the total, bytes without", () => {
    assert.strictEqual(
      Progress.render("file_x", { bytes: 512, total: Option.some(2048) }),
      "file_x [#####...............]  25% 512/2048 bytes"
    )
    assert.strictEqual(Progress.render("file_x", { bytes: 512, total: Option.none() }), "file_x 512 bytes")
    assert.strictEqual(Progress.percent(0, 0), 100)
  })

  it.effect("draws a line only when the percentage changes by at least 1%", () =>
    Effect.gen(function* () {
      const total = Option.some(1000)
      const lines = yield* draw([1, 5, 9, 10, 11, 19, 20, 500, 999, 1000].map((bytes) => ({ bytes, total })))
      assert.deepStrictEqual(
        lines.map((line) => /(\d+)% (\d+)/.exec(line)!.slice(1).join(" ")),
        ["0 1", "1 10", "2 20", "50 500", "99 999", "100 1000"]
      )
    })
  )

  it.effect("without a total: every MiB, and the final count on close", () =>
    Effect.gen(function* () {
      const mib = 1024 * 1024
      const lines = yield* draw(
        [1, 1000, mib - 1, mib, mib + 5, 2 * mib + 1, 2 * mib + 7].map((bytes) => ({ bytes, total: Option.none() }))
      )
      assert.deepStrictEqual(lines, [
        "file_x 1 bytes",
        `file_x ${mib} bytes`,
        `file_x ${2 * mib + 1} bytes`,
        `file_x ${2 * mib + 7} bytes`
      ])
    })
  )

  it.effect("several files: one line, the bytes of all of them out of the sum of their sizes", () =>
    Effect.gen(function* () {
      const stdout: Array<string> = []
      const stderr: Array<string> = []
      yield* Effect.gen(function* () {
        const tracker = yield* Progress.forFiles("export_x (2 files)", [
          { id: "file_a", size: 600 },
          { id: "file_b", size: 400 }
        ])
        yield* tracker.update({ fileId: "file_a", bytes: 100 })
        yield* tracker.update({ fileId: "file_b", bytes: 200 })
        yield* tracker.update({ fileId: "file_a", bytes: 50 }) // file_a started over
        yield* tracker.update({ fileId: "file_a", bytes: 600 })
        yield* tracker.update({ fileId: "file_b", bytes: 400 })
        yield* tracker.close
      }).pipe(
        Effect.provideService(Progress.ProgressStyle, "lines"),
        Effect.withConsole(captureConsole(stdout, stderr))
      )
      assert.deepStrictEqual(stdout, [])
      assert.deepStrictEqual(
        stderr.map((line) => /(\d+)% (\d+)\/(\d+)/.exec(line)!.slice(1).join(" ")),
        ["10 100 1000", "30 300 1000", "25 250 1000", "80 800 1000", "100 1000 1000"]
      )
      assert.match(stderr[0]!, /^export_x \(2 files\) \[/)
    })
  )
})
