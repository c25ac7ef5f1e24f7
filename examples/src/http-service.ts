/**
 * Example: an Effect HTTP service that embeds `ExportsClient` through its Layer.
 *
 *   pnpm example:http-service      # then: curl http://127.0.0.1:3000/exports
 *
 * Routes: `GET /exports` (the latest exports), `GET /exports/:id/count` (records of a SUCCESS export,
 * counted in constant memory). Batch's errors become HTTP answers; the REST key never reaches a response.
 *
 * @since 0.1.0
 */
import { ExportsClient } from "@batch-export/node"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import * as Backend from "./support/Backend.js"

const failure = (error: { readonly _tag: string }) =>
  HttpServerResponse.unsafeJson(
    { error: error._tag, message: "message" in error ? String(error.message) : error._tag },
    {
      status:
        error._tag === "NotFound" || error._tag === "InvalidArgument"
          ? 404
          : error._tag === "ExportNotReady"
            ? 409
            : 502
    }
  )

/**
 * @since 0.1.0
 * @category routers
 */
export const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/exports",
    Effect.gen(function* () {
      const client = yield* ExportsClient.ExportsClient
      const page = yield* client.list({ limit: 20 })
      return yield* HttpServerResponse.json(
        page.exports.map((e) => ({ id: e.id, status: e.status, files: e.files.length }))
      )
    }).pipe(Effect.catchAll((error) => Effect.succeed(failure(error))))
  ),
  HttpRouter.get(
    "/exports/:id/count",
    Effect.gen(function* () {
      const { id } = yield* HttpRouter.params
      const client = yield* ExportsClient.ExportsClient
      const records = yield* Stream.runCount(client.records(id ?? ""))
      return yield* HttpServerResponse.json({ id, records })
    }).pipe(Effect.catchAll((error) => Effect.succeed(failure(error))))
  )
)

/**
 * The service on a port; `ExportsClient` is still to be provided.
 *
 * @since 0.1.0
 * @category layers
 */
export const serverLayer = (port: number) =>
  HttpServer.serve(router).pipe(
    HttpServer.withLogAddress,
    Layer.provideMerge(NodeHttpServer.layer(() => Http.createServer(), { port, host: "127.0.0.1" }))
  )

if (import.meta.url === `file://${process.argv[1]}`) {
  Layer.launch(serverLayer(Number(process.env["PORT"] ?? 3000)).pipe(Layer.provide(Backend.layer))).pipe(
    NodeRuntime.runMain
  )
}
