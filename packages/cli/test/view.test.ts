import { Emulator } from "@batch-export/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { assertOneLineFailure, envFor, runCli } from "./support/harness.js"

const layer = Emulator.layer({
  seed: 11,
  exports: [
    { status: "SUCCESS", parts: 2, recordsPerPart: 50 },
    { status: "RUNNING", parts: 1 }
  ]
})

const seeded = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [ready, running] = yield* emulator.exports
  return { emulator, ready: ready!, running: running! }
})

/** What Batch (the emulator) answers to `GET /exports/view`, as JSON. */
const rawView = (emulator: Emulator.Service, id: string) =>
  Effect.promise(() =>
    fetch(`${emulator.apiUrl}/2.10/exports/view?id=${id}`, {
      headers: { authorization: `Bearer ${emulator.restApiKey}`, "x-batch-project": emulator.projectKey }
    }).then((response) => response.json() as Promise<Record<string, unknown>>)
  )

const DATES = ["request_date", "start_date", "completion_date"]

describe("batch-export view", () => {
  it.layer(layer)((it) => {
    it.effect("a summary: id, scope, status, dates, and each file with its part, id and size", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        const run = yield* runCli(["view", ready.id], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(run.stderr, [])
        const text = run.stdout.join("\n")
        assert.match(text, new RegExp(`^id +${ready.id}$`, "m"))
        assert.match(text, /^scope +PROFILE_ATTRIBUTES$/m)
        assert.match(text, /^status +SUCCESS$/m)
        assert.match(text, /^requested +\d{4}-\d\d-\d\dT[\d:.]+Z$/m)
        assert.match(text, /^completed +\d{4}-\d\d-\d\dT[\d:.]+Z$/m)
        assert.match(text, /^files +2$/m)
        for (const file of ready.files) {
          assert.match(text, new RegExp(`^  part ${file.part}  ${file.id}  ${file.size} bytes$`, "m"))
        }
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.effect("a RUNNING export: no files, missing dates shown as -", () =>
      Effect.gen(function* () {
        const { emulator, running } = yield* seeded
        const run = yield* runCli(["view", running.id], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        const text = run.stdout.join("\n")
        assert.match(text, /^status +RUNNING$/m)
        assert.match(text, /^completed +-$/m)
        assert.match(text, /^files +0$/m)
      })
    )

    it.effect("--json: the export with Batch's field names, as Batch sent it", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        const run = yield* runCli(["view", ready.id, "--json"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        const printed = JSON.parse(run.stdout.join("\n")) as Record<string, unknown>
        const raw = yield* rawView(emulator, ready.id)
        assert.deepStrictEqual(Object.keys(printed).sort(), Object.keys(raw).sort())
        for (const key of Object.keys(raw)) {
          if (DATES.includes(key)) {
            assert.strictEqual(Date.parse(printed[key] as string), Date.parse(raw[key] as string), key)
          } else {
            assert.deepStrictEqual(printed[key], raw[key], key)
          }
        }
        assert.notProperty(printed, "requestDate")
      })
    )

    it.effect("--base-url and --api-version override the environment", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        yield* emulator.clearRequests
        const env = { ...envFor(emulator), BATCH_API_URL: "http://127.0.0.1:1" }
        const run = yield* runCli(["view", ready.id, "--base-url", emulator.apiUrl, "--api-version", "2.4"], env)
        assert.strictEqual(run.code, 0, run.output)
        const [request] = yield* emulator.requests
        assert.strictEqual(request?.path, "/2.4/exports/view")
      })
    )

    for (const id of ["file_abc", "export_", "export_a/../b", "export_x?y=1"]) {
      it.effect(`a malformed export id (${id}): InvalidArgument before any request`, () =>
        Effect.gen(function* () {
          const { emulator } = yield* seeded
          yield* emulator.clearRequests
          const run = yield* runCli(["view", id], envFor(emulator))
          assertOneLineFailure(run, "InvalidArgument", "exportId")
          assert.deepStrictEqual(yield* emulator.requests, [])
        })
      )
    }

    it.effect("404: an unknown export", () =>
      Effect.gen(function* () {
        const { emulator } = yield* seeded
        const run = yield* runCli(["view", "export_0000000000000000000000000000dead"], envFor(emulator))
        assertOneLineFailure(run, "NotFound", "HTTP 404", "NOT_FOUND")
      })
    )

    it.effect("401: a wrong REST key, never printed", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        const key = "wrong_rest_key_view_91ab"
        const run = yield* runCli(["view", ready.id], { ...envFor(emulator), BATCH_REST_API_KEY: key })
        assertOneLineFailure(run, "Unauthorized", "HTTP 401", "AUTHENTICATION_INVALID")
        assert.notInclude(run.output, key)
      })
    )

    it.effect("a body that is not an export: ResponseDecodeError", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        yield* emulator.script("view", Emulator.Reply.status(200, { body: { id: ready.id } }))
        const run = yield* runCli(["view", ready.id], envFor(emulator))
        assertOneLineFailure(run, "ResponseDecodeError", "GET /exports/view")
      })
    )

    it.effect("a missing variable is named", () =>
      Effect.gen(function* () {
        const { ready } = yield* seeded
        const run = yield* runCli(["view", ready.id], { BATCH_REST_API_KEY: "rest_key_view_never_printed" })
        assertOneLineFailure(run, "ConfigError", "BATCH_PROJECT_KEY is not set")
        assert.notInclude(run.output, "rest_key_view_never_printed")
      })
    )
  })
})
