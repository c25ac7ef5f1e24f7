import { Emulator, ForwardProxy } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { envFor } from "./support/harness.js"
import { built, run } from "./support/process.js"

const cliVersion = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version

/** `CONNECT host:port` lines the proxy saw, each once. */
const connects = (proxy: ForwardProxy.ForwardProxy) =>
  [...new Set(proxy.seen.map((seen) => `${seen.method} ${seen.target}`))].sort()

/** A TCP port that accepts connections and closes them at once: somewhere an https client cannot talk to. */
const closingPort = Effect.acquireRelease(
  Effect.async<Net.Server>((resume) => {
    const server = Net.createServer((socket) => socket.destroy())
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map((server) => (server.address() as Net.AddressInfo).port))

describe.skipIf(!built)("proxies and User-Agent, as the built executable uses them", () => {
  it.scopedLive("http_proxy: the API and the storage are reached through the proxy; User-Agent names the CLI", () =>
    Effect.gen(function* () {
      const proxy = yield* ForwardProxy.start
      const emulator = yield* Emulator.make()
      const file = (yield* emulator.exports).find((e) => e.status === "SUCCESS")!.files[0]!
      const out = Path.join(yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped(), "part.json")
      const finished = yield* run(["download", file.id, "--out", out], { ...envFor(emulator), http_proxy: proxy.url })
      assert.strictEqual(finished.code, 0, finished.stderr)
      assert.deepStrictEqual(
        connects(proxy),
        [`CONNECT ${new URL(emulator.apiUrl).host}`, `CONNECT ${new URL(emulator.storageUrl).host}`].sort()
      )
      const agent = `batch-export/${cliVersion} (node ${process.versions.node})`
      const requests = yield* emulator.requests
      assert.deepStrictEqual(
        requests.map((request) => `${request.origin} ${request.headers["user-agent"]}`),
        [`api ${agent}`, `storage ${agent}`]
      )
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("HTTPS_PROXY: an https API is asked for through a CONNECT tunnel, with no credential in it", () =>
    Effect.gen(function* () {
      const proxy = yield* ForwardProxy.start
      const port = yield* closingPort
      const finished = yield* run(["list"], {
        BATCH_REST_API_KEY: "sk_cli_proxy_SecretKey42",
        BATCH_PROJECT_KEY: "project_0664hxvwffvbpn278gxdyhsadddqgna6",
        BATCH_API_URL: `https://127.0.0.1:${port}`,
        BATCH_MAX_RETRIES: "0",
        HTTPS_PROXY: proxy.url
      })
      // the target is not a TLS server: the call fails, after going through the proxy
      assert.strictEqual(finished.code, 1, finished.stderr)
      assert.deepStrictEqual(connects(proxy), [`CONNECT 127.0.0.1:${port}`])
      // the CONNECT's own headers are all the proxy reads (the tunnel carries TLS; node's Proxy.test checks what
      // crosses a tunnel to a real TLS server)
      for (const seen of proxy.seen) assert.notInclude(JSON.stringify(seen.headers), "sk_cli_proxy_SecretKey42")
    })
  )

  it.scopedLive("NO_PROXY: a listed host is reached directly", () =>
    Effect.gen(function* () {
      const proxy = yield* ForwardProxy.start
      const emulator = yield* Emulator.make()
      const finished = yield* run(["list"], { ...envFor(emulator), HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" })
      assert.strictEqual(finished.code, 0, finished.stderr)
      assert.deepStrictEqual(proxy.seen, [])
    })
  )

  it.scopedLive("a malformed proxy variable: a configuration error naming it, never its value", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const finished = yield* run(["list"], { ...envFor(emulator), HTTPS_PROXY: "proxy.corp:3128 hunter2" })
      assert.strictEqual(finished.code, 1, finished.stderr)
      assert.strictEqual(
        finished.stderr,
        "error: ConfigError: HTTPS_PROXY must be an http(s) URL such as http://proxy.example.com:3128\n"
      )
      assert.deepStrictEqual(yield* emulator.requests, [])
    })
  )
})
