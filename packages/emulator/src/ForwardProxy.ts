/**
 * A forward proxy on 127.0.0.1 for tests, as corporate networks run them: `CONNECT host:port` opens a tunnel
 * (undici's proxy agent uses it for http and https targets alike) to a loopback address only (a test proxy is
 * no open relay: another target is answered 403); any other request is answered 405 and recorded, never
 * forwarded. It records what it
 * saw — each request line and its headers, and every byte clients sent through its tunnels: what a proxy could
 * read — so a test can check that a client goes through it and what it lets the proxy see.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Net from "node:net"

/**
 * One request the proxy received.
 *
 * @since 0.2.0
 * @category models
 */
export interface Seen {
  readonly method: string
  /** `host:port` for CONNECT, the request target otherwise */
  readonly target: string
  readonly headers: Http.IncomingHttpHeaders
}

/**
 * @since 0.2.0
 * @category models
 */
export interface ForwardProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly seen: ReadonlyArray<Seen>
  /** Every byte clients sent into the tunnels, as one buffer. */
  readonly tunnelled: () => Buffer
}

/**
 * Starts the proxy; the scope closes it and destroys every connection it still holds.
 *
 * @since 0.2.0
 * @category constructors
 */
export const start: Effect.Effect<ForwardProxy, never, Scope.Scope> = Effect.acquireRelease(
  Effect.async<{ readonly server: Http.Server; readonly sockets: Set<Net.Socket>; readonly proxy: ForwardProxy }>(
    (resume) => {
      const seen: Array<Seen> = []
      const tunnelled: Array<Buffer> = []
      const sockets = new Set<Net.Socket>()
      const track = (socket: Net.Socket) => {
        sockets.add(socket)
        socket.once("close", () => sockets.delete(socket))
        socket.on("error", () => socket.destroy())
      }
      const server = Http.createServer((request, response) => {
        seen.push({ method: request.method ?? "", target: request.url ?? "", headers: request.headers })
        // only tunnels: what a client sends here instead is recorded, and refused
        response.writeHead(405, { allow: "CONNECT", "content-length": "0" }).end()
      })
      server.on("connection", track)
      server.on("connect", (request: Http.IncomingMessage, client: Net.Socket, head: Buffer) => {
        seen.push({ method: "CONNECT", target: request.url ?? "", headers: request.headers })
        const target = /^(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/.exec(request.url ?? "")
        // bytes the client sent with its CONNECT line count as tunnelled too
        if (head.length > 0) tunnelled.push(Buffer.from(head))
        if (target === null) {
          track(client)
          client.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
          return
        }
        const host = target[1] === "[::1]" ? "::1" : (target[1] ?? "127.0.0.1")
        const upstream = Net.connect(Number(target[2]), host, () => {
          client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
          if (head.length > 0) upstream.write(head)
          client.on("data", (chunk: Buffer) => tunnelled.push(Buffer.from(chunk)))
          client.pipe(upstream)
          upstream.pipe(client)
        })
        track(upstream)
        track(client)
        upstream.once("close", () => client.destroy())
        client.once("close", () => upstream.destroy())
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(
          Effect.succeed({
            server,
            sockets,
            proxy: { url: `http://127.0.0.1:${port}`, seen, tunnelled: () => Buffer.concat(tunnelled) }
          })
        )
      })
    }
  ),
  ({ server, sockets }) =>
    Effect.async<void>((resume) => {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ proxy }) => proxy))
