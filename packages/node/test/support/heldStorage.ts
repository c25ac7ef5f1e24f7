/**
 * A storage origin on 127.0.0.1 serving one object (a strong `ETag`, `Range: bytes=N-`, `If-Range`) whose
 * first responses are cut only when the test says so. A cut response sends its headers (the full length) and
 * `cuts[i]` bytes, then holds the connection until `cut`: the test first waits until the client has counted
 * those bytes, so the close lands after a known number of bytes on both sides, every run. (A server that
 * closes right after its last byte races the client: bytes still buffered in the client's socket when the
 * close arrives are discarded, and the resume offset then depends on scheduling.)
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Net from "node:net"

export interface Options {
  readonly bytes: Uint8Array
  /** body bytes sent by the first responses before they hold (one entry per response cut) */
  readonly cuts: ReadonlyArray<number>
}

export interface Request {
  /** path and query */
  readonly url: string
  readonly range: string | undefined
  readonly ifRange: string | undefined
}

export interface HeldStorage {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly etag: string
  readonly requests: Effect.Effect<ReadonlyArray<Request>>
  /** responses that sent their bytes and wait for `cut` */
  readonly held: Effect.Effect<number>
  /** closes every held connection abruptly */
  readonly cut: Effect.Effect<void>
}

/** Starts the server; the scope closes it and every connection it still holds. */
export const start = (options: Options): Effect.Effect<HeldStorage, never, Scope.Scope> =>
  Effect.gen(function* () {
    const etag = '"held-storage-1"'
    const requests: Array<Request> = []
    const held = new Set<Net.Socket>()
    const sockets = new Set<Net.Socket>()
    const { bytes } = options

    const server = Http.createServer((req, res) => {
      const index = requests.length
      const value = req.headers["if-range"]
      const ifRange = Array.isArray(value) ? value.join(", ") : value
      requests.push({ url: req.url ?? "", range: req.headers["range"], ifRange })
      const match = /^bytes=(\d+)-$/.exec(req.headers["range"] ?? "")
      const ranged = match !== null && (ifRange === undefined || ifRange === etag)
      const start = ranged ? Number(match[1]) : 0
      const body = bytes.subarray(start)
      res.writeHead(ranged ? 206 : 200, {
        "content-type": "application/x-ndjson",
        "content-length": String(body.length),
        "accept-ranges": "bytes",
        etag,
        ...(ranged ? { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {})
      })
      const cut = options.cuts[index]
      if (cut === undefined) {
        res.end(body)
        return
      }
      res.write(body.subarray(0, cut))
      held.add(req.socket)
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.once("close", () => {
        sockets.delete(socket)
        held.delete(socket)
      })
    })

    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return {
      url: `http://127.0.0.1:${port}`,
      etag,
      requests: Effect.sync(() => [...requests]),
      held: Effect.sync(() => held.size),
      cut: Effect.sync(() => {
        for (const socket of held) socket.destroy()
        held.clear()
      })
    }
  })
