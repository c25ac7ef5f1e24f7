/**
 * Example: override the retry policy and the timeouts, and bring your own transport.
 *
 *   pnpm example:custom
 *
 * `ExportsClient.layerWithoutDependencies` takes any `HttpClient`: here Node's fetch (which would follow
 * Batch's 307 on its own; the client tells it not to) decorated with a request log, and a `BatchConfig`
 * with a stricter retry policy.
 *
 * @since 0.1.0
 */
import type { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchConfig, ExportsClient } from "@batch-export/node"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
/**
 * A fetch-based transport that logs each request's method and path (never its query: signed links
 * carry their signature there).
 *
 * @since 0.1.0
 * @category layers
 */
export const LoggingFetch = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, (client) =>
    HttpClient.tapRequest(client, (request) => Console.error(`-> ${request.method} ${request.url.split("?")[0]}`))
  )
).pipe(Layer.provide(FetchHttpClient.layer))

/**
 * The client with a custom policy on a custom transport.
 *
 * @since 0.1.0
 * @category layers
 */
export const clientLayer = (
  options: BatchConfig.Options
): Layer.Layer<ExportsClient.ExportsClient, ClientError.InvalidArgument> =>
  ExportsClient.layerWithoutDependencies.pipe(
    Layer.provide(
      Layer.mergeAll(
        BatchConfig.layer({
          ...options,
          retry: { maxRetries: 2, baseDelay: "200 millis", maxDelay: "2 seconds", retryAfterCap: "10 seconds" },
          timeouts: { request: "10 seconds", idle: "15 seconds" }
        }),
        LoggingFetch,
        NodeFileSystem.layer,
        NodePath.layer
      )
    )
  )

/**
 * Downloads the first file of the first export, surviving a scripted 503 with `Retry-After: 1`.
 *
 * @since 0.1.0
 * @category programs
 */
export const program = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [exp] = yield* emulator.exports
  yield* emulator.script("download", Emulator.Reply.status(503, { headers: { "retry-after": "1" } }))
  const client = yield* ExportsClient.ExportsClient
  const bytes = yield* Stream.runFold(client.download(exp!.files[0]!.id), 0, (n, chunk) => n + chunk.length)
  yield* Console.log(`downloaded ${bytes} bytes after one retried 503`)
  return bytes
})

/**
 * The program wired to an embedded emulator.
 *
 * @since 0.1.0
 * @category layers
 */
export const emulatorLayer: Layer.Layer<ExportsClient.ExportsClient | Emulator.Emulator, ClientError.InvalidArgument> =
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      clientLayer({ restApiKey: emulator.restApiKey, projectKey: emulator.projectKey, baseUrl: emulator.apiUrl })
    )
  ).pipe(Layer.provideMerge(Emulator.layer()))

if (import.meta.url === `file://${process.argv[1]}`) {
  program.pipe(Effect.provide(emulatorLayer), NodeRuntime.runMain)
}
