import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { runCli } from "./support/harness.js"

describe("command line usage", () => {
  it.effect("--help lists the three commands, exit 0", () =>
    Effect.gen(function* () {
      const run = yield* runCli(["--help"])
      assert.strictEqual(run.code, 0, run.output)
      const help = run.stdout.join("\n")
      for (const text of ["download", "--out PATH", "--base-url URL", "--idle-timeout SECONDS", "emulator", "demo"]) {
        assert.include(help, text)
      }
    })
  )

  it.effect("--version", () =>
    Effect.gen(function* () {
      const run = yield* runCli(["--version"])
      assert.strictEqual(run.code, 0)
      assert.include(run.stdout.join("\n"), "0.1.0")
    })
  )

  for (const args of [["download"], ["download", "file_abc"], ["download", "--out", "x.json"], ["nope"]]) {
    it.effect(`\`${args.join(" ")}\`: @effect/cli's message only, exit 2`, () =>
      Effect.gen(function* () {
        const run = yield* runCli(args, {
          BATCH_REST_API_KEY: "rest_key_never_printed",
          BATCH_PROJECT_KEY: "project_x"
        })
        assert.strictEqual(run.code, 2, run.output)
        assert.deepStrictEqual(run.stdout, [])
        assert.isAbove(run.stderr.join("").trim().length, 0)
        assert.notMatch(run.output, /^error: /m) // no second report of our own
        for (const dump of ["_tag", "ValidationError", '"error"', "    at "]) assert.notInclude(run.output, dump)
        assert.notInclude(run.output, "rest_key_never_printed")
      })
    )
  }

  it.effect("--idle-timeout must be positive", () =>
    Effect.gen(function* () {
      const run = yield* runCli(["download", "file_abc", "--out", "x.json", "--idle-timeout", "0"])
      assert.strictEqual(run.code, 2, run.output)
      assert.include(run.stderr.join("\n"), "--idle-timeout must be a positive number of seconds")
    })
  )
})
