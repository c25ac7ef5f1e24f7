import * as Http from "node:http"
import * as Https from "node:https"
import type { Socket } from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
/** What a hostile server saw and did. */
export interface Hostile {
  /** `http://127.0.0.1:<port>` (`https://` with TLS) */
  readonly url: string
  /** Every request received, in order. */
  readonly requests: ReadonlyArray<Http.IncomingMessage>
  /** Bytes the server's sockets sent (headers included) before the client went away. */
  readonly written: () => number
}

export type Handler = (request: Http.IncomingMessage, response: Http.ServerResponse, index: number) => void

/**
 * A node:http server on 127.0.0.1 answering with `handler` (node:https with `tls`: `Tls.identity` is one for
 * 127.0.0.1); closed (every socket destroyed) with the scope.
 */
export const serve = (
  handler: Handler,
  tls?: { readonly cert: string; readonly key: string }
): Effect.Effect<Hostile, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server; readonly hostile: Hostile }>((resume) => {
      const requests: Array<Http.IncomingMessage> = []
      const sockets = new Set<Socket>()
      let closed = 0
      const listener = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
        requests.push(request)
        handler(request, response, requests.length - 1)
      }
      const server: Http.Server = tls === undefined ? Http.createServer(listener) : Https.createServer(tls, listener)
      server.on(tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
        sockets.add(socket)
        socket.on("close", () => {
          sockets.delete(socket)
          closed += socket.bytesWritten
        })
      })
      // what the sockets sent (headers included): with `pour`, a client that stops reading caps it
      const written = () => [...sockets].reduce((n, socket) => n + socket.bytesWritten, closed)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(
          Effect.succeed({
            server,
            hostile: { url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`, requests, written }
          })
        )
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ hostile }) => hostile))

/**
 * Writes `piece` until `total` bytes were written (or forever when `total` is `Infinity`), waiting for the
 * socket to drain: a client that stops reading stops the server too.
 */
export const pour = (response: Http.ServerResponse, piece: Buffer, total = Infinity, end = true): void => {
  let left = total
  const more = (): void => {
    while (left > 0 && !response.destroyed) {
      const part = left >= piece.length ? piece : piece.subarray(0, left)
      left -= part.length
      if (!response.write(part)) {
        response.once("drain", more)
        return
      }
    }
    if (left <= 0 && end) response.end()
  }
  response.on("close", () => {
    left = 0
  })
  more()
}

/** Answers JSON. */
export const json = (response: Http.ServerResponse, body: unknown, status = 200): void => {
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  response.end(text)
}

export const EXPORT_ID = "export_hostile1"

/** A SUCCESS export as `/exports/view` answers it. */
export const exportJson = (
  files: ReadonlyArray<{ readonly id: string; readonly part: number; readonly size: number }>,
  id = EXPORT_ID
) => ({
  id,
  scope: "ATTRIBUTES",
  status: "SUCCESS",
  files: files.map((f) => ({ ...f, url: "https://storage.invalid/ignored" }))
})

/** The API path of a route, as the client asks for it (no version prefix). */
export const route = (request: Http.IncomingMessage): string =>
  new URL(request.url ?? "/", "http://x").pathname.replace(/^\/[\d.]+/, "")

export const KEY = "sk_hostile_SecretRestKey42"
export const PROJECT = "project_0664hxvwffvbpn278gxdyhsadddqgna6"

/**
 * A hostile API (`view` answering with `files`, `/exports/download` redirecting to the storage) in front of a
 * hostile storage answering with `storage`.
 */
export const behindApi = (
  storage: Handler,
  files: ReadonlyArray<{ readonly id: string; readonly part: number; readonly size: number }> = []
): Effect.Effect<{ readonly api: Hostile; readonly storage: Hostile }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const served = yield* serve(storage)
    const api = yield* serve((request, response) => {
      const path = route(request)
      if (path === "/exports/view") return json(response, exportJson(files))
      if (path === "/exports/download") {
        const id = new URL(request.url ?? "/", "http://x").searchParams.get("id")
        response.writeHead(302, { location: `${served.url}/files/${id}?signature=s3cr3tSignature` })
        return response.end()
      }
      json(response, { error: "no such route" }, 404)
    })
    return { api, storage: served }
  })
