import { ClientError } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { onTransport } from "./support/harness.js"

/**
 * An https API and an https storage, in memory (no socket can be https here): the API redirects to the
 * storage, and the storage redirects once more to `next`.
 */
const world = (next: string) => {
  const seen: Array<HttpClientRequest.HttpClientRequest> = []
  const client = HttpClient.make((request, url) => {
    seen.push(request)
    const response = (status: number, headers: Record<string, string>, body: string | null = null) =>
      Effect.succeed(HttpClientResponse.fromWeb(request, new Response(body, { status, headers })))
    if (url.pathname.endsWith("/exports/download"))
      return response(307, { location: "https://storage.example/f?sig=1" })
    if (url.pathname === "/f") return response(302, { location: next })
    return response(200, { "content-length": "2" }, "{}")
  })
  const layer = onTransport(client, { restApiKey: "key_1", projectKey: "project_abc", baseUrl: "https://api.example" })
  return { seen, layer }
}

const download = Effect.flatMap(ExportsClient.ExportsClient, (client) => Stream.runCollect(client.download("file_abc")))

describe("storage-side redirects", () => {
  it.effect("are followed on https without any credential", () => {
    const { layer, seen } = world("https://other.example/g?sig=2")
    return Effect.gen(function* () {
      yield* download
      const storage = seen.filter((r) => !r.url.includes("/exports/download"))
      assert.deepStrictEqual(
        storage.map((r) => new URL(r.url).host),
        ["storage.example", "other.example"]
      )
      for (const request of storage) {
        assert.isUndefined(request.headers["authorization"])
        assert.isUndefined(request.headers["x-batch-project"])
      }
    }).pipe(Effect.provide(layer))
  })

  it.effect("from https to plain http are refused", () => {
    const { layer, seen } = world("http://storage.example/g")
    return Effect.gen(function* () {
      const error = yield* Effect.flip(download)
      assert.instanceOf(error, ClientError.InvalidLocation)
      assert.strictEqual((error as ClientError.InvalidLocation).reason, "insecure-downgrade")
      assert.isFalse(seen.some((r) => r.url.startsWith("http://")))
    }).pipe(Effect.provide(layer))
  })

  it.effect("to another scheme are refused", () => {
    const { layer } = world("file:///etc/passwd")
    return Effect.gen(function* () {
      const error = yield* Effect.flip(download)
      assert.strictEqual((error as ClientError.InvalidLocation).reason, "unsupported-scheme")
    }).pipe(Effect.provide(layer))
  })
})
