import { Cli } from "@batch-export/cli"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import type * as Logger from "effect/Logger"
import { captureConsole } from "./support/harness.js"

const logged = (effect: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    yield* effect.pipe(
      Effect.locally(FiberRef.currentLoggers, HashSet.make<Array<Logger.Logger<unknown, unknown>>>(Cli.stderrLogger)),
      Effect.withConsole(captureConsole(stdout, stderr))
    )
    return { stdout, stderr }
  })

describe("the CLI's logger", () => {
  it.effect("writes to stderr only, one sanitized line with its level (e.g. the client's long Retry-After wait)", () =>
    Effect.gen(function* () {
      const { stderr, stdout } = yield* logged(
        Effect.logWarning("waiting 2m (Retry-After, capped) before retrying GET /exports/view\x1b[2J")
      )
      assert.deepStrictEqual(stdout, [])
      assert.deepStrictEqual(stderr, ["warn: waiting 2m (Retry-After, capped) before retrying GET /exports/view[2J"])
    })
  )
})
