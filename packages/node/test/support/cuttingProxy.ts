/**
 * A TCP proxy on 127.0.0.1 that cuts connections: the first `cutConnections` connections are destroyed
 * after `cutAfter` bytes have gone from the server to the client (headers included), the others are passed
 * through untouched. It lets a real server (nginx) drop a body mid-stream at a byte count the test chooses.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Net from "node:net"

export interface Options {
  /** the server behind the proxy, e.g. nginx's port on 127.0.0.1 */
  readonly targetPort: number
  /** bytes from the server let through before a cut connection is destroyed */
  readonly cutAfter: number
  /** how many connections (the first ones) are cut; default 1 */
  readonly cutConnections?: number | undefined
  /** awaited once a cut connection has reached `cutAfter`, before the last bytes go out and it is cut */
  readonly beforeCut?: (() => Promise<void>) | undefined
}

export interface CuttingProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** connections accepted so far */
  readonly connections: Effect.Effect<number>
  /** connections on which the client sent something (an HTTP client may open a spare one and close it unused) */
  readonly used: Effect.Effect<number>
  /** connections that reached `cutAfter` (cut, or held by `beforeCut`) */
  readonly cuts: Effect.Effect<number>
}

/** Starts the proxy; the scope closes it and destroys every connection it still holds. */
export const start = (options: Options): Effect.Effect<CuttingProxy, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sockets = new Set<Net.Socket>()
    let connections = 0
    let cuts = 0
    let used = 0
    const cutConnections = options.cutConnections ?? 1

    const server = Net.createServer((client) => {
      const cut = connections++ < cutConnections
      const upstream = Net.connect(options.targetPort, "127.0.0.1")
      sockets.add(client).add(upstream)
      const close = () => {
        client.destroy()
        upstream.destroy()
      }
      client.once("close", () => {
        sockets.delete(client)
        upstream.destroy()
      })
      upstream.once("close", () => {
        sockets.delete(upstream)
        // a server that closes first: let the client read what it already got, then close
        client.end()
      })
      client.on("error", close)
      upstream.on("error", close)
      client.once("data", () => void used++)
      client.pipe(upstream)

      let passed = 0
      upstream.on("data", (chunk: Buffer) => {
        if (!cut || passed + chunk.length < options.cutAfter) {
          passed += chunk.length
          if (!client.write(chunk)) upstream.pause()
          return
        }
        // the cut: exactly `cutAfter` bytes reach the client, then both sides are closed abruptly
        upstream.pause()
        upstream.removeAllListeners("data")
        const last = chunk.subarray(0, options.cutAfter - passed)
        passed = options.cutAfter
        cuts++
        void (options.beforeCut?.() ?? Promise.resolve()).then(() => client.write(last, close))
      })
      client.on("drain", () => upstream.resume())
    })

    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      connections: Effect.sync(() => connections),
      used: Effect.sync(() => used),
      cuts: Effect.sync(() => cuts)
    }
  })
