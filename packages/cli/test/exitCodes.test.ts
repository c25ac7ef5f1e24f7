import { Emulator } from "@batch-export/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { envFor } from "./support/harness.js"
import { built, run } from "./support/process.js"

describe.skipIf(!built)("exit codes of the built executable", () => {
  // bad input the client catches (InvalidArgument) is a usage error, like a command line that does not parse
  const refused: ReadonlyArray<readonly [string, ReadonlyArray<string>, string]> = [
    ["`create attributes` with no flags", ["create", "attributes"], "--attribute/--identifier"],
    ["`create events --from yesterday`", ["create", "events", "--from", "yesterday"], "--from"],
    ["`view foo`", ["view", "foo"], "exportId"],
    ["`records foo`", ["records", "foo"], "invalid id"]
  ]
  for (const [what, args, named] of refused) {
    it.scopedLive(`${what}: InvalidArgument, exit 2, no request`, () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make()
        const finished = yield* run(args, envFor(emulator))
        assert.strictEqual(finished.code, 2, finished.stderr)
        assert.match(finished.stderr, /^error: InvalidArgument: .+\n$/)
        assert.include(finished.stderr, named)
        assert.deepStrictEqual(yield* emulator.requests, [])
      })
    )
  }

  it.scopedLive("a failure that is not the command line's (an unknown export) still exits 1", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const finished = yield* run(["view", "export_nosuchexport00000000000000000"], envFor(emulator))
      assert.strictEqual(finished.code, 1, finished.stderr)
      assert.match(finished.stderr, /^error: NotFound/)
    })
  )

  it.scopedLive("--json: the error object carries exitCode 2", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const finished = yield* run(["view", "foo", "--json"], envFor(emulator))
      assert.strictEqual(finished.code, 2, finished.stderr)
      assert.include(finished.stderr, `"exitCode":2`)
    })
  )
})
