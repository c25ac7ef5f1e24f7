import { ExportsClient } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { within } from "./support/deadline.js"
import { drive } from "./support/harness.js"
import * as Hostile from "./support/hostile.js"

describe("durations in the library's options", () => {
  it.live("ExportsClient.layer({ timeouts: { request: 1 } }) waits one second, not 1 ms", () =>
    Effect.gen(function* () {
      // an API that answers after 100 ms: within a one-second bound, far past a one-millisecond one
      const api = yield* Hostile.serve((_request, response) => {
        setTimeout(() => Hostile.json(response, { exports: [], has_more: false }), 100)
      })
      const page = yield* Effect.flatMap(ExportsClient.ExportsClient, (client) => client.list()).pipe(
        Effect.provide(
          ExportsClient.layer({
            restApiKey: Hostile.KEY,
            projectKey: Hostile.PROJECT,
            baseUrl: api.url,
            timeouts: { request: 1 },
            retry: { maxRetries: 0 }
          })
        ),
        within("the request timeout of `1`")
      )
      assert.deepStrictEqual(page.exports, [])
      assert.strictEqual(api.requests.length, 1)
    }).pipe(Effect.scoped)
  )

  it.effect("awaitCompletion's pollInterval and timeout: a number is seconds too (on the TestClock)", () =>
    Effect.gen(function* () {
      const api = yield* Hostile.serve((_request, response) =>
        Hostile.json(response, { id: Hostile.EXPORT_ID, scope: "ATTRIBUTES", status: "RUNNING" })
      )
      const client = yield* Layer.build(
        ExportsClient.layer({
          restApiKey: Hostile.KEY,
          projectKey: Hostile.PROJECT,
          baseUrl: api.url,
          timeouts: { request: "1 hour", idle: "1 hour" }
        })
      ).pipe(Effect.map(Context.get(ExportsClient.ExportsClient)))
      // half a second is under the 1-second floor
      const refused = yield* Effect.flip(client.awaitCompletion(Hostile.EXPORT_ID, { pollInterval: 0.5 }))
      assert.strictEqual(refused._tag, "InvalidArgument")
      // a timeout of 1 is one second: one look at once, a second after the 1-second poll interval, then the timeout
      const timedOut = yield* Effect.flip(
        drive(client.awaitCompletion(Hostile.EXPORT_ID, { pollInterval: 1, timeout: 1.5 }))
      )
      assert.strictEqual(timedOut._tag, "ExportTimeout")
      assert.strictEqual(api.requests.length, 2)
    }).pipe(Effect.scoped, within("awaitCompletion with numbers", 10))
  )
})
