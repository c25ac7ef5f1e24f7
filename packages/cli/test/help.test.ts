import { Cli } from "@batch-export/cli"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { runCli } from "./support/harness.js"
import { built, inTerminal, run } from "./support/process.js"

const COMMANDS: ReadonlyArray<ReadonlyArray<string>> = [
  [],
  ["create"],
  ["create", "attributes"],
  ["create", "events"],
  ["create", "reachability"],
  ["view"],
  ["list"],
  ["fetch"],
  ["records"],
  ["download"],
  ["emulator"],
  ["demo"],
  ["sync"],
  ["sync", "status"]
]

/** Checks what holds for every help at every width, and returns its lines. */
const checked = (help: string | undefined, command: ReadonlyArray<string>, width: number) => {
  assert.isDefined(help)
  const lines = help!.split("\n")
  for (const line of lines) assert.isAtMost(line.length, width, `${command.join(" ")} at ${width}: ${line}`)
  assert.isTrue(lines[0]!.startsWith(["Usage: batch-export", ...command].join(" ")), lines[0])
  for (const noise of ["--wizard", "This setting is optional", "A user-defined piece of text", "$ "]) {
    assert.notInclude(help, noise, command.join(" "))
  }
  return lines
}

describe("--help", () => {
  for (const width of [80, 40]) {
    it(`every command's help fits ${width} columns, starts with its usage, and holds none of @effect/cli's noise`, () => {
      for (const command of COMMANDS) checked(Cli.helpFor([...command, "--help"], width), command, width)
    })
  }

  it("fetch --help fits one screen: its flags, their defaults, one line of global options", () => {
    const lines = checked(Cli.helpFor(["fetch", "--help"], 80), ["fetch"], 80)
    assert.isAtMost(lines.length, 40)
    assert.strictEqual(lines[0], "Usage: batch-export fetch <export_id> [options]")
    const help = lines.join("\n")
    assert.match(help, /--poll-interval DURATION(?:(?!\n {2}-)[\s\S])*\(default 5\)/)
    assert.match(help, /--concurrency N(?:(?!\n {2}-)[\s\S])*\(default 2\)/)
    assert.include(help, "-q, --quiet")
    assert.include(help, "Global options: -h, --help, --version, --log-level LEVEL")
  })

  it("a repeatable flag may be absent: create events does not require --event", () => {
    const lines = checked(Cli.helpFor(["create", "events", "--help"], 80), ["create", "events"], 80)
    assert.strictEqual(lines[0], "Usage: batch-export create events [options]")
    assert.include(lines.join("\n"), "--event NAME ")
  })

  it("a command with flags and subcommands (sync) says both ways to run it", () => {
    const lines = checked(Cli.helpFor(["sync", "--help"], 80), ["sync"], 80)
    assert.deepStrictEqual(lines.slice(0, 2), [
      "Usage: batch-export sync [options]",
      "or: batch-export sync <command> [options]"
    ])
    assert.include(lines.join("\n"), "--config FILE")
  })

  it("the root lists every command with what it does, and the exit codes", () => {
    const help = checked(Cli.helpFor(["--help"], 80), [], 80).join("\n")
    for (const name of ["create attributes", "create events", "create reachability", "view", "list", "fetch"]) {
      assert.match(help, new RegExp(`^  ${name} +\\S`, "m"), name)
    }
    for (const name of ["records", "download", "emulator", "demo", "sync", "sync status"])
      assert.match(help, new RegExp(`^  ${name} +\\S`, "m"), name)
    assert.match(help, /^Exit codes:\n0 {4}success/m)
  })

  it.effect("batch-export alone shows the root's help, exit 0", () =>
    Effect.gen(function* () {
      const alone = yield* runCli([])
      assert.strictEqual(alone.code, 0, alone.output)
      assert.strictEqual(alone.stdout.join("\n"), Cli.helpFor(["--help"]))
      assert.strictEqual(alone.stdout.join("\n").split("\n")[0], "Usage: batch-export <command> [options]")
    })
  )

  it("-h too, after the command's arguments too; never after --", () => {
    assert.strictEqual(Cli.helpFor(["fetch", "export_x", "-h"], 80), Cli.helpFor(["fetch", "--help"], 80))
    assert.isUndefined(Cli.helpFor(["records", "--", "--help"], 80))
    assert.isUndefined(Cli.helpFor(["fetch", "export_x"], 80))
  })
})

/** A terminal's lines: split at CR/LF, escapes removed. */
const screenLines = (screen: string) =>
  screen
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")
    .split(/\r?\n/)
    .filter((line, i, all) => line !== "" || i < all.length - 1)

describe.skipIf(!built)("--help of the built executable", () => {
  for (const columns of [80, 40]) {
    it.effect(
      `in a ${columns}-column terminal: wrapped to its width`,
      () =>
        Effect.gen(function* () {
          for (const command of [[], ["fetch"], ["create", "events"], ["download"]]) {
            const result = yield* inTerminal(columns, [...command, "--help"])
            assert.strictEqual(result.code, 0, result.screen)
            const lines = screenLines(result.screen)
            assert.isTrue(lines[0]!.startsWith(["Usage: batch-export", ...command].join(" ")), lines[0])
            for (const line of lines) assert.isAtMost(line.length, columns, line)
            if (columns === 80 && command[0] === "fetch") assert.isAtMost(lines.length, 40)
          }
        }),
      30_000
    )
  }

  it.effect(
    "without a terminal: 80 columns, on stdout, exit 0",
    () =>
      Effect.gen(function* () {
        const result = yield* run(["fetch", "--help"])
        assert.strictEqual(result.code, 0, result.stderr)
        const lines = result.stdout.toString("utf8").trimEnd().split("\n")
        assert.strictEqual(lines[0], "Usage: batch-export fetch <export_id> [options]")
        for (const line of lines) assert.isAtMost(line.length, 80, line)
        assert.isAtMost(lines.length, 40)
      }),
    30_000
  )
})
