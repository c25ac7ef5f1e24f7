import { Emulator, ForwardProxy } from "@batch-export/emulator"
import { BatchConfig, ExportsClient, HttpTransport } from "@batch-export/node"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { createRequire } from "node:module"
import { within } from "./support/deadline.js"
import * as Hostile from "./support/hostile.js"
import * as Tls from "./support/tls.js"

const FILE = "file_proxied1"
const BODY = Buffer.from(`{"identifiers":{"custom_id":"a"}}\n`)

/** The environment as a `ConfigProvider` sees it, nothing from `process.env`. */
const environment = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** A client (built in the test's scope) on `transport`. */
const clientOn = (transport: Layer.Layer<NodeHttpClient.Dispatcher, unknown>, options: BatchConfig.Options) =>
  Layer.build(
    ExportsClient.layerWithoutDependencies.pipe(
      Layer.provide(
        Layer.merge(
          BatchConfig.layer(options),
          NodeHttpClient.layerUndiciWithoutDispatcher.pipe(Layer.provide(transport))
        )
      )
    )
  ).pipe(Effect.map(Context.get(ExportsClient.ExportsClient)))

/** An API and a storage answering one file: https with `Tls` (the fixture identity), http otherwise. */
const apiAndStorage = (tls?: typeof Tls.identity) =>
  Effect.gen(function* () {
    const storage = yield* Hostile.serve((_request, response) => {
      response.writeHead(200, { "content-length": BODY.length })
      response.end(BODY)
    }, tls)
    const api = yield* Hostile.serve((request, response) => {
      if (Hostile.route(request) !== "/exports/download") return Hostile.json(response, { error: "no route" }, 404)
      response.writeHead(307, { location: `${storage.url}/files/${FILE}?signature=s3cr3tSignature` })
      response.end()
    }, tls)
    return { api, storage }
  })

const header = (
  request: { readonly headers: Record<string, string | ReadonlyArray<string> | undefined> },
  name: string
) => String(request.headers[name] ?? "")

describe("through a proxy (HttpTransport)", () => {
  it.scoped("HTTPS_PROXY, https API and storage: CONNECT tunnels only; the proxy never reads the key or the link", () =>
    Effect.gen(function* () {
      const proxy = yield* ForwardProxy.start
      const { api, storage } = yield* apiAndStorage(Tls.identity)
      // the proxy settings from the environment, as HttpTransport.layer reads them; the fixture's CA trusted
      const transport = Layer.scoped(
        NodeHttpClient.Dispatcher,
        Effect.flatMap(HttpTransport.proxySettings, (settings) =>
          HttpTransport.makeDispatcher(settings, {
            requestTls: { ca: Tls.identity.cert },
            connect: { ca: Tls.identity.cert }
          })
        )
      ).pipe(Layer.provide(environment({ HTTPS_PROXY: proxy.url })))
      const client = yield* clientOn(transport, {
        restApiKey: Hostile.KEY,
        projectKey: Hostile.PROJECT,
        baseUrl: api.url
      })
      const bytes = yield* Stream.runCollect(client.download(FILE)).pipe(within("a download through the proxy"))
      assert.deepStrictEqual(Buffer.concat([...bytes]), BODY)

      const port = (url: string) => new URL(url).port
      assert.deepStrictEqual(
        [...new Set(proxy.seen.map((seen) => `${seen.method} ${seen.target}`))].sort(),
        [`CONNECT 127.0.0.1:${port(api.url)}`, `CONNECT 127.0.0.1:${port(storage.url)}`].sort()
      )
      const tunnelled = proxy.tunnelled()
      assert.isAbove(tunnelled.length, 0)
      for (const secret of [Hostile.KEY, Hostile.PROJECT, "s3cr3tSignature", "Bearer"]) {
        assert.isFalse(tunnelled.includes(secret), `${secret} crossed the proxy in clear`)
        for (const seen of proxy.seen) assert.notInclude(JSON.stringify(seen.headers), secret)
      }
      // the key reached the API, and only the API
      assert.strictEqual(header(api.requests[0]!, "authorization"), `Bearer ${Hostile.KEY}`)
      assert.strictEqual(header(storage.requests[0]!, "authorization"), "")
      assert.strictEqual(header(storage.requests[0]!, "x-batch-project"), "")
    })
  )

  it.scoped(
    "HTTP_PROXY and an http:// origin (the emulator): ExportsClient.layerConfig goes through the proxy too",
    () =>
      Effect.gen(function* () {
        const proxy = yield* ForwardProxy.start
        const emulator = yield* Emulator.make()
        const [exp] = yield* emulator.exports
        const file = exp!.files[0]!
        const client = yield* Layer.build(
          ExportsClient.layerConfig().pipe(
            Layer.provide(
              environment({
                BATCH_REST_API_KEY: emulator.restApiKey,
                BATCH_PROJECT_KEY: emulator.projectKey,
                BATCH_API_URL: emulator.apiUrl,
                http_proxy: proxy.url
              })
            )
          )
        ).pipe(Effect.map(Context.get(ExportsClient.ExportsClient)))
        const bytes = yield* Stream.runCollect(client.download(file.id)).pipe(within("a download through the proxy"))
        assert.strictEqual(Buffer.concat([...bytes]).length, file.size)
        const targets = [...new Set(proxy.seen.map((seen) => `${seen.method} ${seen.target}`))].sort()
        assert.deepStrictEqual(
          targets,
          [`CONNECT ${new URL(emulator.apiUrl).host}`, `CONNECT ${new URL(emulator.storageUrl).host}`].sort()
        )
        // a CONNECT line carries no credential; but an http:// origin's requests cross the tunnel in clear, key
        // included, as they cross any network: Batch's API is https
        for (const seen of proxy.seen) assert.notInclude(JSON.stringify(seen.headers), emulator.restApiKey)
        assert.isTrue(proxy.tunnelled().includes(emulator.restApiKey))
      })
  )

  it.scoped("NO_PROXY: listed hosts are reached directly", () =>
    Effect.gen(function* () {
      const proxy = yield* ForwardProxy.start
      const { api } = yield* apiAndStorage()
      const transport = HttpTransport.dispatcherLayer.pipe(
        Layer.provide(environment({ HTTP_PROXY: proxy.url, NO_PROXY: "example.com, 127.0.0.1" }))
      )
      const client = yield* clientOn(transport, {
        restApiKey: Hostile.KEY,
        projectKey: Hostile.PROJECT,
        baseUrl: api.url
      })
      yield* Stream.runDrain(client.download(FILE)).pipe(within("a direct download"))
      assert.deepStrictEqual(proxy.seen, [])
      assert.strictEqual(api.requests.length, 1)
    })
  )

  it.effect("a proxy that is not an http(s) URL: a ConfigError naming the variable, never its value", () =>
    Effect.gen(function* () {
      for (const [name, value] of [
        ["HTTPS_PROXY", "proxy.internal:3128"],
        ["https_proxy", "socks9://user:hunter2@proxy"],
        ["HTTP_PROXY", "not a url hunter2"]
      ] as const) {
        const result = yield* Effect.either(
          HttpTransport.proxySettings.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([[name, value]]))))
        )
        assert.isTrue(Either.isLeft(result), name)
        const line = BatchConfig.formatConfigError(
          Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))!
        )
        assert.strictEqual(line, `${name} must be an http(s) URL such as http://proxy.example.com:3128`)
        assert.notInclude(line, "hunter2")
      }
      // lower case first, as curl reads them; an empty value is unset
      const settings = yield* HttpTransport.proxySettings.pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["https_proxy", "http://lower:1"],
              ["HTTPS_PROXY", "http://upper:1"],
              ["http_proxy", ""],
              ["HTTP_PROXY", "http://upper:2"]
            ])
          )
        )
      )
      assert.deepStrictEqual(settings.httpsProxy._tag === "Some" && settings.httpsProxy.value, "http://lower:1")
      assert.deepStrictEqual(settings.httpProxy._tag === "Some" && settings.httpProxy.value, "http://upper:2")
    })
  )
})

describe("User-Agent", () => {
  const ownVersion = (createRequire(import.meta.url)("@batch-export/node/package.json") as { version: string }).version

  it.scoped("batch-export/<version> (node <version>) on API and storage requests by default; overridable", () =>
    Effect.gen(function* () {
      const { api, storage } = yield* apiAndStorage()
      const direct = Layer.scoped(NodeHttpClient.Dispatcher, HttpTransport.makeDispatcher(HttpTransport.direct))
      const byDefault = yield* clientOn(direct, {
        restApiKey: Hostile.KEY,
        projectKey: Hostile.PROJECT,
        baseUrl: api.url
      })
      yield* Stream.runDrain(byDefault.download(FILE))
      const expected = `batch-export/${ownVersion} (node ${process.versions.node})`
      assert.strictEqual(header(api.requests[0]!, "user-agent"), expected)
      assert.strictEqual(header(storage.requests[0]!, "user-agent"), expected)

      const own = yield* clientOn(direct, {
        restApiKey: Hostile.KEY,
        projectKey: Hostile.PROJECT,
        baseUrl: api.url,
        userAgent: "nightly-sync/1.4 (ops@example.com)"
      })
      yield* Stream.runDrain(own.download(FILE))
      assert.strictEqual(header(api.requests[1]!, "user-agent"), "nightly-sync/1.4 (ops@example.com)")
      assert.strictEqual(header(storage.requests[1]!, "user-agent"), "nightly-sync/1.4 (ops@example.com)")
    })
  )

  it.effect("a User-Agent that could split a header is refused, naming the option", () =>
    Effect.gen(function* () {
      for (const userAgent of ["a\r\nx-evil: 1", "", " padded ", "caf\u00e9"]) {
        const error = yield* Effect.flip(
          BatchConfig.make({ restApiKey: Hostile.KEY, projectKey: Hostile.PROJECT, userAgent })
        )
        assert.strictEqual(error.argument, "userAgent", JSON.stringify(userAgent))
      }
    })
  )
})
