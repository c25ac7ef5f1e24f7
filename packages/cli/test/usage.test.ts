import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { runCli } from "./support/harness.js"

describe("command line usage", () => {
  it.effect("--help lists every command, exit 0; a command's --help lists its flags", () =>
    Effect.gen(function* () {
      const run = yield* runCli(["--help"])
      assert.strictEqual(run.code, 0, run.output)
      const help = run.stdout.join("\n")
      for (const text of ["create attributes", "view", "list", "fetch", "records", "download", "emulator", "demo"]) {
        assert.include(help, text)
      }
      const flags: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [
        [
          ["create", "attributes"],
          ["--attribute NAME", "--identifier NAME", "--segment CODE", "--json"]
        ],
        [["list"], ["--limit N", "--base-url URL", "--api-version V"]],
        [["fetch"], ["--out-dir DIR", "--poll-interval DURATION", "--timeout DURATION", "--concurrency N"]],
        [["records"], ["<export_id|file_id>", "--idle-timeout DURATION"]],
        [["download"], ["--out PATH"]]
      ]
      for (const [command, expected] of flags) {
        const shown = (yield* runCli([...command, "--help"])).stdout.join("\n")
        for (const text of expected) assert.include(shown, text, command.join(" "))
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

  for (const args of [
    ["download"],
    ["download", "file_abc"],
    ["download", "--out", "x.json"],
    ["nope"],
    ["view"],
    ["records"],
    ["fetch", "--out-dir", "x"],
    ["create", "attributes", "--attribute", "x", "--segment"],
    ["create", "events", "--attribute", "x"],
    ["list", "extra"]
  ]) {
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
      assert.include(run.stderr.join("\n"), "--idle-timeout must be a positive duration")
    })
  )
})

describe("numeric flags are checked by the parser (exit 2, the rule named)", () => {
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [["list", "--limit", "0"], "--limit must be a whole number from 1 to 100"],
    [["list", "--limit", "101"], "--limit must be a whole number from 1 to 100"],
    [["list", "--limit", "-3"], "--limit must be a whole number from 1 to 100"],
    [["list", "--limit", "ten"], "--limit must be a whole number from 1 to 100, in decimal digits"],
    [["list", "--limit", "2.5"], "--limit must be a whole number from 1 to 100, in decimal digits"],
    [["list", "--limit", "0x10"], "--limit must be a whole number from 1 to 100, in decimal digits"],
    [["list", "--limit", "1e1"], "--limit must be a whole number from 1 to 100, in decimal digits"],
    [["records", "export_abc", "--limit", "0"], "--limit must be a whole number of at least 1"],
    [["records", "export_abc", "--limit", "x"], "--limit must be a whole number of at least 1"],
    [["fetch", "export_abc", "--out-dir", "d", "--poll-interval", "0"], "--poll-interval must be at least 1s"],
    [["fetch", "export_abc", "--out-dir", "d", "--poll-interval", "0.5"], "--poll-interval must be at least 1s"],
    [
      ["fetch", "export_abc", "--out-dir", "d", "--poll-interval", "-1"],
      "--poll-interval must be a number of seconds (30, 0.5) or a duration with a unit"
    ],
    [
      ["fetch", "export_abc", "--out-dir", "d", "--poll-interval", "1e-9"],
      "--poll-interval must be a number of seconds (30, 0.5) or a duration with a unit"
    ],
    [
      ["fetch", "export_abc", "--out-dir", "d", "--poll-interval", "soon"],
      "--poll-interval must be a number of seconds (30, 0.5) or a duration with a unit"
    ],
    [["fetch", "export_abc", "--out-dir", "d", "--timeout", "0"], "--timeout must be a positive duration"],
    [
      ["fetch", "export_abc", "--out-dir", "d", "--concurrency", "0"],
      "--concurrency must be a whole number from 1 to 64"
    ],
    [
      ["fetch", "export_abc", "--out-dir", "d", "--concurrency", "65"],
      "--concurrency must be a whole number from 1 to 64"
    ],
    [["fetch", "export_abc", "--out-dir", "d", "--idle-timeout", "0"], "--idle-timeout must be a positive duration"],
    [
      ["records", "export_abc", "--idle-timeout", "-1"],
      "--idle-timeout must be a number of seconds (30, 0.5) or a duration with a unit"
    ]
  ]
  for (const [args, message] of cases) {
    it.effect(`\`${args.join(" ")}\``, () =>
      Effect.gen(function* () {
        const run = yield* runCli(args, {
          BATCH_REST_API_KEY: "rest_key_never_printed",
          BATCH_PROJECT_KEY: "project_x"
        })
        assert.strictEqual(run.code, 2, run.output)
        assert.deepStrictEqual(run.stdout, [])
        assert.include(run.stderr.join("\n"), message)
        assert.notMatch(run.output, /^error: /m)
      })
    )
  }
})
