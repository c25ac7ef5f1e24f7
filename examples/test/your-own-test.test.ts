/**
 * Example: how you test your own code that uses ExportsClient — against the emulator over real sockets,
 * with scripted Batch failures and TestClock-driven retries. Copy this file into your project.
 */
import { ApiError } from "@batch-export/core"
import { Emulator, Testing } from "@batch-export/emulator"
import { ExportsClient } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
// Your service: the number of profiles with a custom_id in the latest SUCCESS export.
class ProfileStats extends Context.Tag("my-app/ProfileStats")<
  ProfileStats,
  { readonly identifiedProfiles: Effect.Effect<number, ExportsClient.ApiCallError | ExportsClient.RecordsError> }
>() {
  static layer = Layer.effect(
    ProfileStats,
    Effect.map(ExportsClient.ExportsClient, (client) => ({
      identifiedProfiles: client.listAll().pipe(
        Stream.filter((e) => e.status === "SUCCESS"),
        Stream.take(1),
        Stream.flatMap((e) => client.records(e.id)),
        Stream.filter((r) => typeof r.identifiers?.custom_id === "string"),
        Stream.runCount
      )
    }))
  )
}

// The emulator replaces Batch: your service, the real client, a local API + storage on 127.0.0.1.
const TestBatch = Layer.unwrapEffect(
  Effect.map(Emulator.Emulator, (emulator) =>
    ExportsClient.layer({ restApiKey: emulator.restApiKey, projectKey: emulator.projectKey, baseUrl: emulator.apiUrl })
  )
).pipe(Layer.provideMerge(Emulator.layer({ exports: [{ parts: 2, recordsPerPart: 25 }] })))

const TestLayer = ProfileStats.layer.pipe(Layer.provideMerge(TestBatch))

describe("ProfileStats (your code) with the emulator", () => {
  it.scoped("counts identified profiles across all parts", () =>
    Effect.gen(function* () {
      const stats = yield* ProfileStats
      assert.strictEqual(yield* stats.identifiedProfiles, 50)
    }).pipe(Effect.provide(TestLayer))
  )

  it.scoped("rides out Batch's rate limiting (429 + Retry-After), on the TestClock", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      yield* emulator.script("list", Emulator.Reply.status(429, { headers: { "retry-after": "10" } }))
      const fiber = yield* Effect.fork((yield* ProfileStats).identifiedProfiles)
      // wait until the client sleeps on the TestClock, then let the 10 s pass instantly
      yield* Testing.elapse("10 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), 50)
    }).pipe(Effect.provide(TestLayer))
  )

  it.scoped("surfaces Batch's errors as typed failures", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      yield* emulator.script("list", Emulator.Reply.status(401))
      const error = yield* Effect.flip((yield* ProfileStats).identifiedProfiles)
      assert.instanceOf(error, ApiError.Unauthorized)
    }).pipe(Effect.provide(TestLayer))
  )
})
