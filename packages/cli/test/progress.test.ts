import { Progress } from "@batch-export/cli"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { captureConsole } from "./support/harness.js"

const MiB = 1024 * 1024

/** Runs `body` with a tracker in the given style and returns what it printed on stderr. */
const drawn = (
  style: Progress.Style,
  body: (tracker: Progress.Tracker) => Effect.Effect<void>
): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    yield* Effect.flatMap(Progress.make("file_x"), (tracker) => Effect.zipRight(body(tracker), tracker.close)).pipe(
      Effect.provideService(Progress.ProgressStyle, style),
      Effect.withConsole(captureConsole(stdout, stderr))
    )
    assert.deepStrictEqual(stdout, [])
    return stderr
  })

describe("Progress", () => {
  it("human units, speed and time left", () => {
    assert.strictEqual(Progress.formatBytes(512), "512 B")
    assert.strictEqual(Progress.formatBytes(1536), "1.5 KiB")
    assert.strictEqual(Progress.formatBytes(200 * MiB), "200 MiB")
    assert.strictEqual(Progress.formatSeconds(65), "1m05s")
    assert.strictEqual(
      Progress.render("file_x", { bytes: 50 * MiB, total: Option.some(200 * MiB), elapsedMillis: 10_000 }),
      "25% 50.0 MiB/200 MiB 5.0 MiB/s ETA 30s [#####...............] file_x"
    )
    assert.strictEqual(
      Progress.render("file_x", { bytes: 3 * MiB, total: Option.none(), elapsedMillis: 2_000 }),
      "3.0 MiB 1.5 MiB/s file_x"
    )
  })

  it("a line never exceeds the width it is given and starts with the numbers, whatever the label and figures", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.string({ maxLength: 120 }),
        FastCheck.nat({ max: 2 ** 40 }),
        FastCheck.option(FastCheck.nat({ max: 2 ** 40 }), { nil: undefined }),
        FastCheck.nat({ max: 10_000_000 }),
        FastCheck.integer({ min: 1, max: 300 }),
        (label, bytes, total, elapsedMillis, width) => {
          const line = Progress.render(label, { bytes, total: Option.fromNullable(total), elapsedMillis }, width)
          assert.isAtMost(line.length, width, line)
          if (total !== undefined && width >= 4) assert.match(line, /^\d{1,3}%/, line)
          else if (total === undefined && width >= 9) assert.match(line, /^\d/, line)
        }
      )
    )
  })

  it("on a narrow terminal the bar goes first, then the label is shortened in its middle; the numbers stay", () => {
    const snapshot = { bytes: 50 * MiB, total: Option.some(200 * MiB), elapsedMillis: 10_000 }
    const label = "export_0123456789abcdef0123456789abcdef (3 files)"
    const figures = "25% 50.0 MiB/200 MiB 5.0 MiB/s ETA 30s"
    assert.include(Progress.render(label, snapshot, 120), "[")
    const wide = Progress.render(label, snapshot, 79)
    assert.notInclude(wide, "[")
    assert.strictEqual(wide, `${figures} export_0123456789abc…789abcdef (3 files)`)
    const narrow = Progress.render(label, snapshot, 39)
    assert.strictEqual(narrow, "25% 50.0 MiB/200 MiB 5.0 MiB/s ETA 30s")
    // narrower than the figures: the speed goes, then the time left; the percentage and the bytes stay
    assert.strictEqual(Progress.render(label, snapshot, 30), "25% 50.0 MiB/200 MiB ETA 30s")
    assert.strictEqual(Progress.render(label, snapshot, 24), "25% 50.0 MiB/200 MiB")
    assert.strictEqual(Progress.render(label, snapshot, 6), "25%")
  })

  it.effect("without a terminal: a line every 25 %, and the final one", () =>
    Effect.gen(function* () {
      const total = Option.some(1000)
      const lines = yield* drawn("lines", (tracker) =>
        Effect.forEach([1, 100, 240, 250, 260, 499, 500, 740, 999, 1000], (bytes) => tracker.update({ bytes, total }))
      )
      assert.deepStrictEqual(
        lines.map((line) => /(\d+)% (\d+) B/.exec(line)!.slice(1).join(" ")),
        ["0 1", "25 250", "50 500", "99 999", "100 1000"]
      )
    })
  )

  it.effect("without a terminal: at least a line every 10 seconds, even when the percentage barely moves", () =>
    Effect.gen(function* () {
      const total = Option.some(100 * MiB)
      const lines = yield* drawn("lines", (tracker) =>
        Effect.forEach([1, 2, 3, 4, 5], (mib) =>
          Effect.zipRight(tracker.update({ bytes: mib * MiB, total }), TestClock.adjust("6 seconds"))
        )
      )
      // 0 s, 12 s, 24 s (every other update, 6 s apart), then the final state on close
      assert.deepStrictEqual(
        lines.map((line) => /(\d+)%/.exec(line)![1]),
        ["1", "3", "5"]
      )
      assert.include(lines[1], "ETA")
    })
  )

  it.effect("--quiet: nothing at all", () =>
    Effect.gen(function* () {
      const lines = yield* drawn("off", (tracker) =>
        Effect.forEach([0, 500, 1000], (bytes) => tracker.update({ bytes, total: Option.some(1000) }))
      )
      assert.deepStrictEqual(lines, [])
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
        stderr.map((line) => /(\d+)% (\d+) B\/(\d+) B/.exec(line)!.slice(1).join(" ")),
        ["10 100 1000", "30 300 1000", "80 800 1000", "100 1000 1000"]
      )
      assert.match(stderr[0]!, /^10% .* \[#+\.+\] export_x \(2 files\)$/)
    })
  )
})
