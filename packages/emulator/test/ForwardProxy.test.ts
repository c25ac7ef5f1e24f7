/**
 * The test proxy: tunnels to loopback addresses only, and records every byte a client sends into a tunnel,
 * those that came with the CONNECT line included.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import { ForwardProxy } from "../src/index.js"

/** Sends `text` to the proxy in one write; resolves with what it answered before closing, or after `until`. */
const exchange = (proxyUrl: string, text: string, until: (answer: string) => boolean) =>
  Effect.async<string>((resume) => {
    const { hostname, port } = new URL(proxyUrl)
    const socket = Net.connect(Number(port), hostname, () => socket.write(text))
    let answer = ""
    const done = () => {
      socket.destroy()
      resume(Effect.succeed(answer))
    }
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1")
      if (until(answer)) done()
    })
    socket.on("close", done)
    socket.on("error", done)
    return Effect.sync(() => socket.destroy())
  }).pipe(
    // a relay to the outside would wait on a connection that never comes: fail in seconds, saying so
    Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("timed out: the proxy did not answer") }),
    Effect.orDie
  )

/** A TCP server on 127.0.0.1 that collects what it receives. */
const sink = Effect.acquireRelease(
  Effect.async<{ readonly server: Net.Server; readonly port: number; readonly received: () => string }>((resume) => {
    let received = ""
    const server = Net.createServer((socket) => {
      socket.on("data", (chunk: Buffer) => void (received += chunk.toString("latin1")))
      socket.on("error", () => socket.destroy())
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed({ server, port, received: () => received }))
    })
  }),
  ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)

describe("ForwardProxy", () => {
  it.scopedLive("a CONNECT to anything but a loopback address is refused with 403: no open relay", () =>
    Effect.gen(function* () {
      const proxy = yield* ForwardProxy.start
      const answer = yield* exchange(
        proxy.url,
        "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n",
        (text) => text.includes("\r\n\r\n")
      )
      assert.match(answer, /^HTTP\/1\.1 403 /)
    })
  )

  it.scopedLive("bytes sent with the CONNECT line reach the target and are recorded as tunnelled", () =>
    Effect.gen(function* () {
      const proxy = yield* ForwardProxy.start
      const target = yield* sink
      const answer = yield* exchange(
        proxy.url,
        `CONNECT 127.0.0.1:${target.port} HTTP/1.1\r\nhost: 127.0.0.1:${target.port}\r\n\r\nsecret-in-head`,
        (text) => text.includes("\r\n\r\n")
      )
      assert.match(answer, /^HTTP\/1\.1 200 /)
      for (let i = 0; i < 100 && !target.received().includes("secret-in-head"); i++) yield* Effect.sleep("10 millis")
      assert.include(target.received(), "secret-in-head")
      assert.include(proxy.tunnelled().toString("latin1"), "secret-in-head")
    })
  )
})
