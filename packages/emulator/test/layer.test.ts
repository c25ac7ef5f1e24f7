import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { Emulator } from "../src/index.js"
import { apiClient, ClientLive } from "./helpers.js"

describe("lifecycle", () => {
  it.layer(Layer.merge(Emulator.layer({ seed: 9 }), ClientLive))("Emulator.layer", (it) => {
    it.effect("serves the tag's urls", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        assert.match(emulator.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.match(emulator.storageUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.notStrictEqual(emulator.apiUrl, emulator.storageUrl)
        assert.strictEqual(emulator.restApiKey, Emulator.defaultRestApiKey)
        assert.strictEqual(emulator.projectKey, Emulator.defaultProjectKey)
        const api = yield* apiClient(emulator)
        const page = (yield* (yield* api.get("/exports/list")).json) as { count: number }
        assert.strictEqual(page.count, 1)
      })
    )
  })

  it.scoped("the same seed gives the same ids and bytes; another seed does not", () =>
    Effect.gen(function* () {
      const snapshot = (seed: number) =>
        Effect.gen(function* () {
          const emulator = yield* Emulator.make({ seed })
          const exports = yield* emulator.exports
          const bytes = yield* emulator.fileBytes(exports[0]!.files[1]!.id)
          return { exports, bytes }
        }).pipe(Effect.scoped)
      const a = yield* snapshot(3)
      const b = yield* snapshot(3)
      const c = yield* snapshot(4)
      assert.deepStrictEqual(a, b)
      assert.notStrictEqual(a.exports[0]!.id, c.exports[0]!.id)
      const missing = yield* Effect.flatMap(Emulator.make(), (emulator) =>
        Effect.either(emulator.fileBytes("file_nope"))
      )
      assert.isTrue(Either.isLeft(missing))
    })
  )

  it.effect("closing the scope stops both origins, even with a stalled download in flight", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const emulator = yield* Emulator.make().pipe(Scope.extend(scope))
      const file = (yield* emulator.exports)[0]!.files[0]!
      const api = yield* apiClient(emulator)
      const location = (yield* api.get("/exports/download", { urlParams: { id: file.id } })).headers["location"]!
      yield* emulator.script("storage", Emulator.Reply.stallAfter(0))
      const headers = yield* Deferred.make<void>()
      const download = yield* (yield* HttpClient.HttpClient).get(location).pipe(
        Effect.tap(() => Deferred.succeed(headers, undefined)),
        Effect.flatMap((response) => Stream.runDrain(response.stream)),
        Effect.either,
        Effect.fork
      )
      yield* Deferred.await(headers) // StallAfter(0) still sends the headers
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(Either.isLeft(yield* Fiber.join(download)))
      const refused = yield* Effect.either(api.get("/exports/list"))
      assert.isTrue(Either.isLeft(refused))
    }).pipe(Effect.provide(ClientLive))
  )
})
