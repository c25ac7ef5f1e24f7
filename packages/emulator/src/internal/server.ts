/**
 * One HTTP origin on 127.0.0.1: a Node `http.Server` under `NodeHttpServer.make`, with its sockets tracked so that
 * open connections can be counted and destroyed on shutdown (a stalled response would otherwise keep
 * `server.close()` waiting forever).
 *
 * @internal
 */
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Net from "node:net"

/** @internal */
export interface Origin {
  readonly url: string
  readonly openConnections: () => number
  readonly serve: (
    app: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
  ) => Effect.Effect<void, never, Scope.Scope>
}

/** @internal */
export const listen = (port: number): Effect.Effect<Origin, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function* () {
    const sockets = new Set<Net.Socket>()
    const server = yield* NodeHttpServer.make(
      () => {
        const node = Http.createServer()
        node.on("connection", (socket) => {
          sockets.add(socket)
          socket.once("close", () => sockets.delete(socket))
        })
        return node
      },
      { port, host: "127.0.0.1" }
    )
    // Runs before the server's own finalizer (`server.close()`, which waits for every connection to end).
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const socket of sockets) socket.destroy()
      })
    )
    const address = server.address
    const boundPort = address._tag === "TcpAddress" ? address.port : port
    return {
      url: `http://127.0.0.1:${boundPort}`,
      openConnections: () => sockets.size,
      serve: (app) => server.serve(app)
    }
  })
