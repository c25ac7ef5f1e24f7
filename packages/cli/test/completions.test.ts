import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { built, shell } from "./support/process.js"

// `batch-export --completions bash`, loaded into a real bash and asked what it completes, word by word, as
// bash asks it when Tab is pressed (COMP_WORDS / COMP_CWORD, then COMPREPLY).

/** What the script completes for each command line (the last word being completed), one line each. */
const completing = (lines: ReadonlyArray<ReadonlyArray<string>>) =>
  shell(
    [
      'source <("$NODE" "$BIN" --completions bash) || exit 1',
      "complete -p batch-export || exit 1",
      'line() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _batch_export; echo "${COMPREPLY[*]}"; }',
      ...lines.map((words) => `line ${words.map((word) => `'${word}'`).join(" ")}`)
    ].join("\n")
  )

describe.skipIf(!built)("batch-export --completions bash", () => {
  it.live("completes subcommands, and each subcommand's own flags", () =>
    Effect.gen(function* () {
      const result = yield* completing([
        ["batch-export", "cr"],
        ["batch-export", "create", "ev"],
        ["batch-export", "create", "events", "--ev"],
        ["batch-export", "fetch", "export_x", "--out"],
        ["batch-export", "--log-level", "debug", "records", "export_x", "--wa"],
        ["batch-export", "download", "file_x", "--f"],
        ["batch-export", "list", "--"]
      ])
      assert.strictEqual(result.code, 0, result.stderr)
      const [registration, ...answers] = result.stdout.split("\n")
      assert.strictEqual(registration, "complete -o default -F _batch_export batch-export")
      assert.deepStrictEqual(answers.slice(0, 6), ["create", "events", "--event", "--out-dir", "--wait", "--force"])
      // a subcommand's flags and the global ones; never @effect/cli's --wizard or --completions
      assert.deepStrictEqual(answers[6]?.split(" "), [
        "--limit",
        "--from",
        "--all",
        "--json",
        "--base-url",
        "--api-version",
        "--help",
        "--version",
        "--log-level"
      ])
    })
  )

  it.live("a command with flags and subcommands (sync): its own flags, and their values left to file names", () =>
    Effect.gen(function* () {
      const result = yield* completing([
        ["batch-export", "sy"],
        ["batch-export", "sync", "--con"],
        ["batch-export", "sync", "--project", ""],
        ["batch-export", "sync", "st"]
      ])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.deepStrictEqual(result.stdout.split("\n").slice(1, 5), ["sync", "--config", "", "status"])
    })
  )

  it.live("a flag's value and a command's argument are left to bash's file names", () =>
    Effect.gen(function* () {
      const result = yield* completing([
        ["batch-export", "fetch", "export_x", "--out-dir", ""],
        ["batch-export", "download", "file_x", "-o", "pa"],
        ["batch-export", "view", ""],
        // a value where a subcommand could be: not the subcommands
        ["batch-export", "--log-level", ""]
      ])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.deepStrictEqual(result.stdout.split("\n").slice(1), ["", "", "", "", ""])
    })
  )

  it.live("another shell is a usage error (exit 2)", () =>
    Effect.gen(function* () {
      const result = yield* shell('"$NODE" "$BIN" --completions fish')
      assert.strictEqual(result.code, 2)
      assert.strictEqual(result.stdout, "")
      assert.include(result.stderr, "--completions bash")
    })
  )
})
