import { Emulator, Testing } from "@batch-export/emulator"
import { BatchExport } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "node:path"
import * as Aggregate from "../src/aggregate-records.js"
import * as Custom from "../src/custom-policy-and-transport.js"
import * as Download from "../src/download-file.js"
import * as Service from "../src/http-service.js"

/** What the examples' Backend does without BATCH_REST_API_KEY: the client on an embedded emulator. */
const onEmulator = (options?: Emulator.Options) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      BatchExport.layer({
        restApiKey: emulator.restApiKey,
        projectKey: emulator.projectKey,
        baseUrl: emulator.apiUrl
      })
    )
  ).pipe(Layer.provideMerge(Emulator.layer(options)))

describe("examples, against the emulator", () => {
  it.scoped("download-file: the first file of the latest SUCCESS export, byte-exact", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const done = yield* Download.program(Option.none(), Path.join(dir, "file.json"))
      assert.deepStrictEqual(
        Buffer.from(yield* fs.readFile(done.path)),
        Buffer.from(yield* emulator.fileBytes(done.fileId))
      )
    }).pipe(Effect.provide(Layer.merge(onEmulator(), NodeFileSystem.layer)))
  )

  it.scoped("aggregate-records: counts every record of a new export by language", () =>
    Effect.gen(function* () {
      // pollsPerStatus 0: the first view already says SUCCESS, so no poll has to wait.
      const counts = yield* Aggregate.program
      const total = [...HashMap.values(counts)].reduce((a, b) => a + b, 0)
      assert.strictEqual(total, 3 * 50)
      assert.isFalse(HashMap.has(counts, "(none)"))
    }).pipe(Effect.provide(onEmulator({ partsPerExport: 3, recordsPerPart: 50, pollsPerStatus: 0 })))
  )

  it.scoped("custom-policy-and-transport: fetch transport, custom policy, survives a 503", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const fiber = yield* Effect.fork(Custom.program)
      yield* Testing.elapse("1 second") // the scripted 503's Retry-After
      const bytes = yield* Fiber.join(fiber)
      const [exp] = yield* emulator.exports
      assert.strictEqual(bytes, exp!.files[0]!.size)
      const storage = (yield* emulator.requests).filter((r) => r.origin === "storage")
      assert.strictEqual(storage.length, 1)
      assert.isUndefined(storage[0]!.headers["x-batch-project"])
      assert.isUndefined(storage[0]!.headers["authorization"])
    }).pipe(Effect.provide(Custom.emulatorLayer))
  )

  it.scoped("http-service: serves Batch data through ExportsClient and maps Batch errors", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const [exp] = yield* emulator.exports
      const address = yield* HttpServer.addressFormattedWith(Effect.succeed)
      const client = (yield* HttpClient.HttpClient).pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(address)))
      const list = yield* Effect.flatMap(client.get("/exports"), (r) => r.json)
      assert.deepStrictEqual(list, [{ id: exp!.id, status: "SUCCESS", files: 2 }])
      const count = yield* Effect.flatMap(client.get(`/exports/${exp!.id}/count`), (r) => r.json)
      assert.deepStrictEqual(count, { id: exp!.id, records: 2 * 30 })
      const missing = yield* client.get("/exports/export_doesnotexist/count")
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(((yield* missing.json) as { error: string }).error, "NotFound")
      assert.notInclude(
        JSON.stringify(yield* Effect.flatMap(client.get("/exports/nope/count"), (r) => r.json)),
        emulator.restApiKey
      )
    }).pipe(
      Effect.provide(
        Service.serverLayer(0).pipe(
          Layer.provideMerge(onEmulator({ exports: [{ parts: 2, recordsPerPart: 30 }] })),
          Layer.merge(NodeHttpClient.layerUndici)
        )
      )
    )
  )
})
