import { ExportsClient } from "@batch-export/node"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as fs from "node:fs"
import { onTransport } from "./support/harness.js"

const spec = JSON.parse(fs.readFileSync(new URL("../../core/openapi/exports-download.json", import.meta.url), "utf8"))
const operation = spec.paths["/exports/download"].get
const resolve = (ref: { $ref?: string }) =>
  ref.$ref === undefined
    ? ref
    : ref.$ref
        .split("/")
        .slice(1)
        .reduce((node: any, key: string) => node[key], spec)

/** A transport that records requests and answers each with the documented 307. */
const recording = Effect.gen(function* () {
  const seen = yield* Ref.make<ReadonlyArray<HttpClientRequest.HttpClientRequest>>([])
  const client = HttpClient.make((request) =>
    Ref.update(seen, (all) => [...all, request]).pipe(
      Effect.as(
        HttpClientResponse.fromWeb(
          request,
          new Response(null, { status: 307, headers: { location: "https://storage.example/f?sig=abc" } })
        )
      )
    )
  )
  return { seen, client }
})

describe("contract: GET /exports/download", () => {
  it.effect("the request carries exactly the documented query parameter, security scheme and header", () =>
    Effect.gen(function* () {
      const { client, seen } = yield* recording
      const layer = onTransport(client, {
        restApiKey: "secret_key_1",
        projectKey: "project_abc123",
        apiVersion: "2.10"
      })
      const link = yield* Effect.flatMap(ExportsClient.ExportsClient, (c) => c.downloadLink("file_abc123")).pipe(
        Effect.provide(layer)
      )
      assert.strictEqual(Redacted.value(link.url).href, "https://storage.example/f?sig=abc")

      // the 307 is read, never followed: the only request is the API's
      const [request, ...more] = yield* Ref.get(seen)
      assert.strictEqual(more.length, 0, "a redirect of the API was followed")
      assert.isDefined(request)
      if (request === undefined) return
      assert.strictEqual(request.method, "GET")
      const url = new URL(request.url)
      const server = spec.servers[0].url.replace("{version}", spec.servers[0].variables.version.default)
      assert.strictEqual(`${url.origin}${url.pathname}`, `${server}/exports/download`)

      const parameters = operation.parameters.map(resolve)
      const query = parameters.filter((p: any) => p.in === "query").map((p: any) => p.name)
      assert.deepStrictEqual([...new URLSearchParams(request.urlParams as Array<[string, string]>).keys()], query)
      assert.strictEqual(new URLSearchParams(request.urlParams as Array<[string, string]>).get("id"), "file_abc123")

      const headers = parameters.filter((p: any) => p.in === "header").map((p: any) => p.name.toLowerCase())
      for (const name of headers) assert.isDefined(request.headers[name], name)
      assert.strictEqual(request.headers["x-batch-project"], "project_abc123")

      const [security] = Object.keys(operation.security?.[0] ?? spec.security[0])
      const scheme = spec.components.securitySchemes[security!]
      assert.deepStrictEqual([scheme.type, scheme.scheme], ["http", "bearer"])
      assert.strictEqual(request.headers["authorization"], "Bearer secret_key_1")
      // beyond the contract: `accept` and the HTTP-standard `user-agent` (RFC 9110 §10.1.5), nothing else
      const extra = Object.keys(request.headers).filter(
        (h) => !["authorization", "accept", "user-agent", ...headers].includes(h)
      )
      assert.deepStrictEqual(extra, [])
      assert.match(request.headers["user-agent"] ?? "", /^batch-export\/\S+ \(node \d+\.\d+\.\d+\)$/)
    })
  )
})
