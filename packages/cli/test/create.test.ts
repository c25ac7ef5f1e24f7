import { Emulator } from "@batch-export/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { assertOneLineFailure, envFor, runCli } from "./support/harness.js"

const apiRequests = Effect.flatMap(Emulator.Emulator, (emulator) =>
  Effect.map(emulator.requests, (requests) => requests.filter((r) => r.origin === "api"))
)

describe("batch-export create attributes", () => {
  it.layer(Emulator.layer({ exports: [] }))((it) => {
    it.effect("prints the new export's id, and only it, on stdout", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        yield* emulator.clearRequests
        const args = ["create", "attributes", "--attribute", "$language", "--attribute", "plan"]
        const run = yield* runCli([...args, "--identifier", "custom_id", "--segment", "VIP"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(run.stderr, [])
        assert.strictEqual(run.stdout.length, 1, run.output)
        const [id] = run.stdout
        assert.match(id!, /^export_[a-z0-9]+$/)
        const created = (yield* emulator.exports).find((exp) => exp.id === id)
        assert.strictEqual(created?.exportType, "ATTRIBUTES")
        const [post] = yield* apiRequests
        assert.strictEqual(post?.method, "POST")
        assert.strictEqual(post?.path, "/2.10/profiles/export")
        assert.notInclude(run.output, emulator.restApiKey)

        // Batch echoes the creation body back: the flags became exactly this request
        const view = yield* runCli(["view", id!, "--json"], envFor(emulator))
        assert.strictEqual(view.code, 0, view.output)
        assert.deepStrictEqual(JSON.parse(view.stdout.join("\n")).request, {
          export_type: "ATTRIBUTES",
          attributes: ["$language", "plan"],
          identifiers: ["custom_id"],
          filter: { segment: "VIP" }
        })
      })
    )

    it.effect("identifiers alone are enough; --base-url and --api-version override the environment", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        yield* emulator.clearRequests
        const env = { ...envFor(emulator), BATCH_API_URL: "http://127.0.0.1:1" }
        const args = ["create", "attributes", "--identifier", "custom_id", "--base-url", emulator.apiUrl]
        const run = yield* runCli([...args, "--api-version", "2.4"], env)
        assert.strictEqual(run.code, 0, run.output)
        assert.match(run.stdout[0]!, /^export_/)
        const [post] = yield* apiRequests
        assert.strictEqual(post?.path, "/2.4/profiles/export")
      })
    )

    const rejected: ReadonlyArray<readonly [string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
      ["neither --attribute nor --identifier", [], ["--attribute/--identifier", "at least one"]],
      ["only a segment", ["--segment", "VIP"], ["--attribute/--identifier"]],
      ["an empty --segment", ["--attribute", "plan", "--segment", ""], ["--segment", "must not be empty"]],
      ["a blank --segment", ["--attribute", "plan", "--segment", "  "], ["--segment", "must not be empty"]],
      // @effect/cli drops an empty value of a repeated flag: `--attribute ""` alone is "neither"
      ["an empty --attribute alone", ["--attribute", ""], ["--attribute/--identifier"]],
      ["a blank --attribute", ["--attribute", " ", "--identifier", "custom_id"], ["--attribute", "must not be empty"]],
      ["a blank --identifier", ["--attribute", "plan", "--identifier", "\t"], ["--identifier", "must not be empty"]]
    ]
    for (const [what, flags, expected] of rejected) {
      it.effect(`${what}: one InvalidArgument line, before any request`, () =>
        Effect.gen(function* () {
          const emulator = yield* Emulator.Emulator
          yield* emulator.clearRequests
          const run = yield* runCli(["create", "attributes", ...flags], envFor(emulator))
          assertOneLineFailure(run, "InvalidArgument", ...expected)
          assert.strictEqual(run.code, 2)
          assert.deepStrictEqual(yield* emulator.requests, [])
        })
      )
    }

    it.effect("the flags are checked before the environment", () =>
      Effect.gen(function* () {
        const run = yield* runCli(["create", "attributes", "--segment", ""])
        assertOneLineFailure(run, "InvalidArgument")
      })
    )

    it.effect("`create` without an export type: a usage error (exit 2) naming the choice, no request", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        yield* emulator.clearRequests
        const run = yield* runCli(["create"], envFor(emulator))
        assertOneLineFailure(run, "UsageError", "create attributes|events|reachability")
        assert.strictEqual(run.code, 2)
        assert.deepStrictEqual(yield* emulator.requests, [])
      })
    )

    it.effect("400 from Batch: BadRequest with its error_code and error_message", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        yield* emulator.script(
          "create",
          Emulator.Reply.status(400, {
            body: { error_code: "MALFORMED_PARAMETER", error_message: "Unknown attribute plan" }
          })
        )
        const run = yield* runCli(["create", "attributes", "--attribute", "plan"], envFor(emulator))
        assertOneLineFailure(run, "BadRequest", "HTTP 400", "MALFORMED_PARAMETER", "Unknown attribute plan")
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.effect("401: a wrong REST key, never printed", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const key = "wrong_rest_key_create_4e1d"
        const run = yield* runCli(["create", "attributes", "--attribute", "plan"], {
          ...envFor(emulator),
          BATCH_REST_API_KEY: key
        })
        assertOneLineFailure(run, "Unauthorized", "HTTP 401")
        assert.notInclude(run.output, key)
      })
    )

    it.effect("a missing variable is named", () =>
      Effect.gen(function* () {
        const run = yield* runCli(["create", "attributes", "--attribute", "plan"], { BATCH_PROJECT_KEY: "project_x" })
        assertOneLineFailure(run, "ConfigError", "BATCH_REST_API_KEY is not set")
      })
    )
  })
})
