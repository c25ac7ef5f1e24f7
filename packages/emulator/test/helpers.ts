import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { Emulator } from "../src/index.js"

export const VERSION = "2.10"

/** undici never follows redirects, so the 307 is visible. */
export const ClientLive = NodeHttpClient.layerUndici

/** A client for the API origin with Batch's two headers. */
export const apiClient = (emulator: Emulator.Service) =>
  Effect.map(HttpClient.HttpClient, (client) =>
    client.pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.prependUrl(`${emulator.apiUrl}/${VERSION}`),
          HttpClientRequest.bearerToken(emulator.restApiKey),
          HttpClientRequest.setHeader("x-batch-project", emulator.projectKey)
        )
      )
    )
  )

export const json = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(response.json, (body) => body as any)

export const bytes = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(response.arrayBuffer, (buffer) => new Uint8Array(buffer))

/** Lets the event loop run (no timer, no clock) until `check` holds, or fails after `turns` turns. */
export const eventually = <A>(effect: Effect.Effect<A>, check: (a: A) => boolean, turns = 20_000) =>
  Effect.gen(function* () {
    let last: A = yield* effect
    for (let i = 0; i < turns && !check(last); i++) {
      yield* Effect.async<void>((resume) => {
        setImmediate(() => resume(Effect.void))
      })
      last = yield* effect
    }
    return last
  })

/** The emulator plus an undici client, both scoped to the test. */
export const withEmulator = (options?: Emulator.Options) => Layer.merge(Emulator.layer(options), ClientLive)

/** The first file of the first export. */
export const firstFile = (emulator: Emulator.Service) =>
  Effect.map(emulator.exports, (exports) => exports[0]!.files[0]!)

/** GET /exports/download, expected to be a 307; returns its Location. */
export const downloadLocation = (emulator: Emulator.Service, fileId: string) =>
  Effect.gen(function* () {
    const response = yield* (yield* apiClient(emulator)).get("/exports/download", { urlParams: { id: fileId } })
    if (response.status !== 307) return yield* Effect.dieMessage(`expected a 307, got ${response.status}`)
    return response.headers["location"]!
  })

/** Reads a body chunk by chunk: how many bytes arrived, and whether it ended cleanly. */
export const readAll = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.gen(function* () {
    const chunks: Array<Uint8Array> = []
    const result = yield* response.stream.pipe(
      Stream.runForEach((chunk) => Effect.sync(() => void chunks.push(chunk))),
      Effect.either
    )
    return { bytes: new Uint8Array(Buffer.concat(chunks)), complete: Either.isRight(result) }
  })
