import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { Emulator } from "../src/index.js"
import { apiClient, ClientLive, json, VERSION } from "./helpers.js"

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

const create = (emulator: Emulator.Service, body: unknown) =>
  Effect.gen(function* () {
    const api = yield* apiClient(emulator)
    return yield* api.execute(HttpClientRequest.post("/profiles/export").pipe(HttpClientRequest.bodyUnsafeJson(body)))
  })

const view = (emulator: Emulator.Service, id: string) =>
  Effect.gen(function* () {
    const api = yield* apiClient(emulator)
    const response = yield* api.get("/exports/view", { urlParams: { id } })
    assert.strictEqual(response.status, 200)
    assert.strictEqual(response.headers["content-type"], "application/json")
    return yield* json(response)
  })

const list = (emulator: Emulator.Service, urlParams: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const api = yield* apiClient(emulator)
    return yield* api.get("/exports/list", { urlParams })
  })

describe("/exports/view", () => {
  it.scoped("a seeded SUCCESS export looks like Batch's documented example", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const [info] = yield* emulator.exports
      assert.match(info!.id, /^export_[a-z0-9]{32}$/)
      const body = yield* view(emulator, info!.id)
      assert.deepStrictEqual(Object.keys(body), [
        "id",
        "request_date",
        "scope",
        "status",
        "request",
        "start_date",
        "completion_date",
        "files"
      ])
      assert.strictEqual(body.id, info!.id)
      assert.strictEqual(body.scope, "PROFILE_ATTRIBUTES")
      assert.strictEqual(body.status, "SUCCESS")
      assert.strictEqual(body.request.export_type, "ATTRIBUTES")
      for (const key of ["request_date", "start_date", "completion_date"]) assert.match(body[key], RFC3339)
      assert.strictEqual(body.files.length, 2)
      body.files.forEach((file: any, i: number) => {
        assert.match(file.id, /^file_[a-z0-9]{32}$/)
        assert.strictEqual(file.part, i + 1)
        assert.strictEqual(file.size, info!.files[i]!.size)
        assert.strictEqual(file.url, `${emulator.apiUrl}/${VERSION}/exports/download?id=${file.id}`)
      })
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("files[].url works as is (with the headers) and leads to the file", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const [info] = yield* emulator.exports
      const body = yield* view(emulator, info!.id)
      const client = yield* HttpClient.HttpClient
      const redirect = yield* client.execute(
        HttpClientRequest.get(body.files[1].url).pipe(
          HttpClientRequest.bearerToken(emulator.restApiKey),
          HttpClientRequest.setHeader("x-batch-project", emulator.projectKey)
        )
      )
      assert.strictEqual(redirect.status, 307)
      const file = yield* client.get(redirect.headers["location"]!)
      assert.deepStrictEqual(new Uint8Array(yield* file.arrayBuffer), yield* emulator.fileBytes(body.files[1].id))
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("seeded non-SUCCESS exports have no files and no start/completion dates", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({
        exports: [
          { status: "ERROR", parts: 3 },
          { status: "RUNNING", parts: 1 }
        ]
      })
      const [failed, running] = yield* emulator.exports
      assert.strictEqual(failed!.files.length, 0)
      for (const id of [failed!.id, running!.id]) {
        const body = yield* view(emulator, id)
        assert.deepStrictEqual(Object.keys(body), ["id", "request_date", "scope", "status", "request"])
      }
      assert.strictEqual((yield* view(emulator, failed!.id)).status, "ERROR")
      assert.strictEqual((yield* view(emulator, running!.id)).status, "RUNNING")
    }).pipe(Effect.provide(ClientLive))
  )
})

describe("/profiles/export", () => {
  it.scoped("creates an export that goes CREATED, PENDING, RUNNING, SUCCESS on successive views", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ pollsPerStatus: 2, recordsPerPart: 7 })
      yield* TestClock.adjust("10 seconds")
      const request = { export_type: "ATTRIBUTES", attributes: ["$email_address", "plan"], identifiers: ["custom_id"] }
      const created = yield* create(emulator, request)
      assert.strictEqual(created.status, 202)
      const { id } = yield* json(created)
      assert.match(id, /^export_[a-z0-9]{32}$/)

      const seen: Array<string> = []
      for (let i = 0; i < 8; i++) {
        const body = yield* view(emulator, id)
        seen.push(body.status)
        if (body.status !== "SUCCESS") {
          assert.isUndefined(body.files)
          assert.isUndefined(body.completion_date)
        }
        yield* TestClock.adjust("1 second")
      }
      assert.deepStrictEqual(seen, [
        "CREATED",
        "CREATED",
        "PENDING",
        "PENDING",
        "RUNNING",
        "RUNNING",
        "SUCCESS",
        "SUCCESS"
      ])

      const body = yield* view(emulator, id)
      assert.deepStrictEqual(body.request, request)
      assert.strictEqual(body.request_date, "1970-01-01T00:00:10Z")
      assert.strictEqual(body.start_date, "1970-01-01T00:00:14Z")
      assert.strictEqual(body.completion_date, "1970-01-01T00:00:16Z")
      assert.strictEqual(body.files.length, 2)

      // the files contain the requested projection, 7 records each
      const text = new TextDecoder().decode(yield* emulator.fileBytes(body.files[0].id))
      const lines = text.split("\n")
      assert.strictEqual(lines.pop(), "")
      assert.strictEqual(lines.length, 7)
      for (const line of lines) {
        const record = JSON.parse(line)
        assert.deepStrictEqual(Object.keys(record.identifiers), ["custom_id"])
        assert.deepStrictEqual(Object.keys(record.attributes), ["$email_address", "plan"])
      }
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("bytesPerPart and partsPerExport size the files of created exports", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ pollsPerStatus: 0, partsPerExport: 3, bytesPerPart: 3_000_000 })
      const { id } = yield* create(emulator, { export_type: "ATTRIBUTES", identifiers: ["custom_id"] }).pipe(
        Effect.flatMap(json)
      )
      const body = yield* view(emulator, id)
      assert.strictEqual(body.files.length, 3)
      for (const file of body.files) {
        assert.isAtLeast(file.size, 3_000_000)
        assert.isBelow(file.size, 3_001_000)
      }
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("downloading before SUCCESS is a 409, after it a 307", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const { id } = yield* create(emulator, { export_type: "ATTRIBUTES", identifiers: ["custom_id"] }).pipe(
        Effect.flatMap(json)
      )
      const info = (yield* emulator.exports).find((e) => e.id === id)!
      const api = yield* apiClient(emulator)
      const download = api.get("/exports/download", { urlParams: { id: info.files[0]!.id } })
      assert.strictEqual((yield* download).status, 409)
      while ((yield* view(emulator, id)).status !== "SUCCESS") {
        // poll
      }
      assert.strictEqual((yield* download).status, 307)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("a segment named ERROR ends in status ERROR without files", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ pollsPerStatus: 0 })
      const { id } = yield* create(emulator, {
        export_type: "ATTRIBUTES",
        attributes: ["$language"],
        filter: { segment: "ERROR" }
      }).pipe(Effect.flatMap(json))
      const body = yield* view(emulator, id)
      assert.strictEqual(body.status, "ERROR")
      assert.isUndefined(body.files)
      assert.deepStrictEqual((yield* emulator.exports).find((e) => e.id === id)!.files, [])
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("EVENTS and REACHABILITY exports produce records inside the requested window", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ pollsPerStatus: 0, recordsPerPart: 20 })
      yield* TestClock.adjust("100 days")
      const from = "1970-03-01T00:00:00Z"
      const to = "1970-03-02T00:00:00+00:00"
      for (const [exportType, scope] of [
        ["EVENTS", "PROFILE_EVENTS"],
        ["REACHABILITY", "PROFILE_REACHABILITY"]
      ] as const) {
        const { id } = yield* create(emulator, { export_type: exportType, from, to }).pipe(Effect.flatMap(json))
        const body = yield* view(emulator, id)
        assert.strictEqual(body.scope, scope)
        assert.strictEqual(body.status, "SUCCESS")
        const text = new TextDecoder().decode(yield* emulator.fileBytes(body.files[0].id))
        for (const line of text.trimEnd().split("\n")) {
          const record = JSON.parse(line)
          assert.match(record.identifiers.custom_id, /^user-\d{6}$/)
          assert.isAtLeast(Date.parse(record.timestamp), Date.parse(from))
          assert.isAtMost(Date.parse(record.timestamp), Date.parse(to))
        }
      }
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("invalid bodies are 400 MALFORMED_PARAMETER with a helpful message", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      yield* TestClock.adjust("1000 days")
      const cases: Array<[unknown, string]> = [
        [{}, "export_type"],
        [[], "JSON object"],
        [{ export_type: "CSV" }, "export_type"],
        [{ export_type: "ATTRIBUTES" }, "at least one of attributes, identifiers"],
        [{ export_type: "ATTRIBUTES", attributes: [] }, "attributes"],
        [{ export_type: "ATTRIBUTES", attributes: [1] }, "attributes"],
        [{ export_type: "ATTRIBUTES", identifiers: "custom_id" }, "identifiers"],
        [{ export_type: "ATTRIBUTES", identifiers: ["custom_id"], filter: { segment: 3 } }, "filter.segment"],
        [{ export_type: "EVENTS", from: "yesterday" }, "RFC 3339"],
        [{ export_type: "EVENTS", from: "1972-01-02T00:00:00Z", to: "1972-01-01T00:00:00Z" }, "after"],
        [{ export_type: "REACHABILITY", from: "1970-01-01T00:00:00Z" }, "lookback"]
      ]
      for (const [body, hint] of cases) {
        const response = yield* create(emulator, body)
        assert.strictEqual(response.status, 400, JSON.stringify(body))
        const error = yield* json(response)
        assert.strictEqual(error.error_code, "MALFORMED_PARAMETER")
        assert.include(error.error_message, hint)
      }
      const api = yield* apiClient(emulator)
      const notJson = yield* api.execute(
        HttpClientRequest.post("/profiles/export").pipe(HttpClientRequest.bodyText("{nope", "application/json"))
      )
      assert.strictEqual((yield* json(notJson)).error_code, "MALFORMED_PARAMETER")
      const wrongType = yield* api.execute(
        HttpClientRequest.post("/profiles/export").pipe(HttpClientRequest.bodyText('{"export_type":"EVENTS"}'))
      )
      assert.strictEqual(wrongType.status, 400)
      assert.include((yield* json(wrongType)).error_message, "Content-Type")
    }).pipe(Effect.provide(ClientLive))
  )
})

describe("/exports/list", () => {
  it.scoped("pages newest first with an opaque cursor", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({
        exports: Array.from({ length: 23 }, () => ({ parts: 1, recordsPerPart: 3 }))
      })
      const { id: newest } = yield* create(emulator, { export_type: "ATTRIBUTES", identifiers: ["custom_id"] }).pipe(
        Effect.flatMap(json)
      )
      const expected = (yield* emulator.exports).map((e) => e.id).reverse()
      assert.strictEqual(expected[0], newest)

      const first = yield* list(emulator).pipe(Effect.flatMap(json))
      assert.strictEqual(first.count, 10)
      assert.strictEqual(first.has_more, true)
      assert.isString(first.next_from)
      assert.strictEqual(first.exports[0].status, "CREATED")
      assert.match(Buffer.from(first.next_from, "base64").toString("utf8"), /^export_[a-z0-9]{32}@\d{4}-/)

      const seen: Array<string> = []
      let from: string | undefined
      let pages = 0
      do {
        const page = yield* list(emulator, { limit: "7", ...(from ? { from } : {}) }).pipe(Effect.flatMap(json))
        assert.strictEqual(page.count, page.exports.length)
        seen.push(...page.exports.map((e: any) => e.id))
        from = page.next_from
        assert.strictEqual(page.has_more, from !== undefined)
        pages++
      } while (from !== undefined)
      assert.strictEqual(pages, 4)
      assert.deepStrictEqual(seen, expected)

      // items are the /exports/view objects
      const item = (yield* list(emulator, { limit: "2" }).pipe(Effect.flatMap(json))).exports[1]
      assert.deepStrictEqual(item, yield* view(emulator, item.id))
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("limit out of 1..100 and bad cursors are 400 MALFORMED_PARAMETER", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      for (const urlParams of [
        { limit: "0" },
        { limit: "101" },
        { limit: "ten" },
        { limit: "1.5" },
        { from: "bm9wZQ==" }
      ]) {
        const response = yield* list(emulator, urlParams)
        assert.strictEqual(response.status, 400, JSON.stringify(urlParams))
        assert.strictEqual((yield* json(response)).error_code, "MALFORMED_PARAMETER")
      }
      const max = yield* list(emulator, { limit: "100" }).pipe(Effect.flatMap(json))
      assert.deepStrictEqual([max.count, max.has_more, max.next_from], [1, false, undefined])
    }).pipe(Effect.provide(ClientLive))
  )
})
