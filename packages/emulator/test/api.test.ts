import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Emulator } from "../src/index.js"
import { apiClient, ClientLive, json, VERSION } from "./helpers.js"

const AUTH_INVALID = {
  error_code: "AUTHENTICATION_INVALID",
  error_message: "The Rest API Key is not valid for this project"
}

/** Asserts a Batch error response: status, JSON content type, exactly {error_code, error_message}. */
const expectError = (status: number, code: string) => (response: HttpClientResponse.HttpClientResponse) =>
  Effect.gen(function* () {
    assert.strictEqual(response.status, status)
    assert.match(response.headers["content-type"]!, /^application\/json/)
    const body = yield* json(response)
    assert.deepStrictEqual(Object.keys(body).sort(), ["error_code", "error_message"])
    assert.strictEqual(body.error_code, code)
    assert.isString(body.error_message)
    assert.isAbove(body.error_message.length, 0)
    return body
  })

describe("authentication and errors", () => {
  it.scoped("a missing or wrong API key is 401, a missing project header 400, a wrong project 401", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const file = (yield* emulator.exports)[0]!.files[0]!
      const client = yield* HttpClient.HttpClient
      const url = `${emulator.apiUrl}/${VERSION}/exports/download?id=${file.id}`
      const get = (headers: Record<string, string>) =>
        client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers)))

      const noKey = yield* get({ "x-batch-project": emulator.projectKey }).pipe(
        Effect.flatMap(expectError(401, "AUTHENTICATION_INVALID"))
      )
      assert.deepStrictEqual(noKey, AUTH_INVALID)
      yield* get({ authorization: "Bearer nope", "x-batch-project": emulator.projectKey }).pipe(
        Effect.flatMap(expectError(401, "AUTHENTICATION_INVALID"))
      )
      yield* get({ authorization: emulator.restApiKey, "x-batch-project": emulator.projectKey }).pipe(
        Effect.flatMap(expectError(401, "AUTHENTICATION_INVALID"))
      )
      yield* get({ authorization: `Bearer ${emulator.restApiKey}` }).pipe(
        Effect.flatMap(expectError(400, "MISSING_PARAMETER"))
      )
      yield* get({ authorization: `Bearer ${emulator.restApiKey}`, "x-batch-project": "project_other" }).pipe(
        Effect.flatMap(expectError(401, "AUTHENTICATION_INVALID"))
      )
      const ok = yield* get({ authorization: `Bearer ${emulator.restApiKey}`, "x-batch-project": emulator.projectKey })
      assert.strictEqual(ok.status, 307)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("custom keys are honoured", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ restApiKey: "k123", projectKey: "project_abc" })
      assert.strictEqual(emulator.restApiKey, "k123")
      assert.strictEqual(emulator.projectKey, "project_abc")
      const api = yield* apiClient(emulator)
      assert.strictEqual((yield* api.get("/exports/list")).status, 200)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("missing, malformed and unknown ids; unknown routes; not-ready exports", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({
        exports: [
          { status: "SUCCESS", parts: 1 },
          { status: "RUNNING", parts: 1 }
        ]
      })
      const [ready, running] = yield* emulator.exports
      const api = yield* apiClient(emulator)
      yield* api.get("/exports/download").pipe(Effect.flatMap(expectError(400, "MISSING_PARAMETER")))
      yield* api
        .get("/exports/download", { urlParams: { id: ready!.id } })
        .pipe(Effect.flatMap(expectError(400, "MALFORMED_PARAMETER")))
      yield* api
        .get("/exports/download", { urlParams: { id: "file_doesnotexist" } })
        .pipe(Effect.flatMap(expectError(404, "NOT_FOUND")))
      yield* api
        .get("/exports/download", { urlParams: { id: running!.files[0]!.id } })
        .pipe(Effect.flatMap(expectError(409, "EXPORT_NOT_READY")))
      yield* api.get("/exports/view").pipe(Effect.flatMap(expectError(400, "MISSING_PARAMETER")))
      yield* api
        .get("/exports/view", { urlParams: { id: ready!.files[0]!.id } })
        .pipe(Effect.flatMap(expectError(400, "MALFORMED_PARAMETER")))
      yield* api
        .get("/exports/view", { urlParams: { id: "export_doesnotexist" } })
        .pipe(Effect.flatMap(expectError(404, "NOT_FOUND")))
      yield* api.get("/exports/nothing").pipe(Effect.flatMap(expectError(404, "ROUTE_NOT_FOUND")))
      yield* api.post("/exports/view").pipe(Effect.flatMap(expectError(404, "ROUTE_NOT_FOUND")))
      const client = yield* HttpClient.HttpClient
      yield* client.get(`${emulator.apiUrl}/v2/exports/list`).pipe(Effect.flatMap(expectError(404, "ROUTE_NOT_FOUND")))
      yield* client.get(`${emulator.apiUrl}/`).pipe(Effect.flatMap(expectError(404, "ROUTE_NOT_FOUND")))
      // any d.d version works
      const other = yield* client.execute(
        HttpClientRequest.get(`${emulator.apiUrl}/2.4/exports/list`).pipe(
          HttpClientRequest.bearerToken(emulator.restApiKey),
          HttpClientRequest.setHeader("x-batch-project", emulator.projectKey)
        )
      )
      assert.strictEqual(other.status, 200)
    }).pipe(Effect.provide(ClientLive))
  )
})

describe("script", () => {
  it.scoped("scripted replies are consumed in order, per route, then normal behaviour resumes", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const file = (yield* emulator.exports)[0]!.files[0]!
      const api = yield* apiClient(emulator)
      const { Reply } = Emulator
      yield* emulator.script(
        "download",
        Reply.status(429, { headers: { "retry-after": "7" } }),
        Reply.status(500, { body: "<html><body>Bad gateway</body></html>", headers: { "content-type": "text/html" } }),
        Reply.status(307),
        Reply.status(503)
      )
      yield* emulator.script("list", Reply.status(418, { body: { hello: "world" } }))
      const download = api.get("/exports/download", { urlParams: { id: file.id } })

      const tooMany = yield* download
      assert.strictEqual(tooMany.status, 429)
      assert.strictEqual(tooMany.headers["retry-after"], "7")
      assert.deepStrictEqual(yield* json(tooMany), {
        error_code: "TOO_MANY_REQUESTS",
        error_message: "Too Many Requests"
      })

      // another route is not affected by the download queue
      const teapot = yield* api.get("/exports/list")
      assert.strictEqual(teapot.status, 418)
      assert.deepStrictEqual(yield* json(teapot), { hello: "world" })

      const html = yield* download
      assert.strictEqual(html.status, 500)
      assert.strictEqual(html.headers["content-type"], "text/html")
      assert.strictEqual(yield* html.text, "<html><body>Bad gateway</body></html>")

      const noLocation = yield* download
      assert.strictEqual(noLocation.status, 307)
      assert.isUndefined(noLocation.headers["location"])

      const maintenance = yield* download
      assert.strictEqual(maintenance.status, 503)
      assert.deepStrictEqual(yield* json(maintenance), {
        error_code: "MAINTENANCE",
        error_message: "Batch's services are under maintenance. Please try again later"
      })

      const normal = yield* download
      assert.strictEqual(normal.status, 307)
      assert.isDefined(normal.headers["location"])
      assert.strictEqual((yield* api.get("/exports/list")).status, 200)
      assert.strictEqual((yield* emulator.requests).length, 7)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("scripted replies take precedence over authentication", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      yield* emulator.script("view", Emulator.Reply.status(503))
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${emulator.apiUrl}/${VERSION}/exports/view?id=export_x`)
      assert.strictEqual(response.status, 503)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("storage Status replies default to S3-like XML", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      yield* emulator.script("storage", Emulator.Reply.status(503), Emulator.Reply.status(500, { body: "oops" }))
      const client = yield* HttpClient.HttpClient
      const first = yield* client.get(`${emulator.storageUrl}/files/whatever`)
      assert.strictEqual(first.status, 503)
      assert.strictEqual(first.headers["content-type"], "application/xml")
      assert.include(yield* first.text, "<Code>SlowDown</Code>")
      const second = yield* client.get(`${emulator.storageUrl}/files/whatever`)
      assert.strictEqual(second.status, 500)
      assert.strictEqual(yield* second.text, "oops")
      const third = yield* client.get(`${emulator.storageUrl}/files/whatever`)
      assert.strictEqual(third.status, 403)
    }).pipe(Effect.provide(ClientLive))
  )
})
