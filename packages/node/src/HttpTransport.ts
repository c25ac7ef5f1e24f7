/**
 * The undici transport, honouring the proxy variables curl, aws and gh honour: `HTTPS_PROXY` for https
 * requests (`HTTP_PROXY` when it is not set), `HTTP_PROXY` for http ones, and `NO_PROXY` (hosts, domain
 * suffixes, `host:port`, `*`); lower-case spellings first, as curl reads them. Without any of them, requests go
 * straight out, as `NodeHttpClient.layerUndici` sends them.
 *
 * Through a proxy, every request — to an https origin or not — travels in a `CONNECT` tunnel: the proxy sees
 * the host and port, never the request. To an https origin (Batch's API, the storage), the tunnel carries TLS
 * from end to end, so the REST key never reaches the proxy in clear. (To an http origin, the tunnel carries
 * plain HTTP: a proxy reading the bytes would see the key, as would anything else on that network.)
 *
 * `ExportsClient.layerConfig` and `BatchExport.layerConfig` use this transport; `layer` provides it to
 * `ExportsClient.layerWithoutDependencies` or any `HttpClient` user.
 *
 * @since 0.2.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"

/**
 * Where requests go: the proxy of each scheme and the hosts that bypass it, as the environment gave them.
 *
 * @since 0.2.0
 * @category models
 */
export interface ProxySettings {
  /** `http_proxy` / `HTTP_PROXY`: the proxy of http requests (and of https ones when `httpsProxy` is unset). */
  readonly httpProxy: Option.Option<string>
  /** `https_proxy` / `HTTPS_PROXY`: the proxy of https requests. */
  readonly httpsProxy: Option.Option<string>
  /** `no_proxy` / `NO_PROXY`: hosts (`example.com`, `.example.com`, `host:8080`, `*`) reached directly. */
  readonly noProxy: Option.Option<string>
}

/**
 * No proxy: every request goes straight out.
 *
 * @since 0.2.0
 * @category constants
 */
export const direct: ProxySettings = { httpProxy: Option.none(), httpsProxy: Option.none(), noProxy: Option.none() }

const optional = (name: string) => Config.option(Config.string(name))

/** The lower-case variable, else the upper-case one (curl's order), with its name; an empty value is unset. */
const pick = (
  lower: readonly [string, Option.Option<string>],
  upper: readonly [string, Option.Option<string>]
): Option.Option<readonly [string, string]> =>
  Option.orElse(
    Option.map(
      Option.filter(lower[1], (value) => value !== ""),
      (value) => [lower[0], value] as const
    ),
    () =>
      Option.map(
        Option.filter(upper[1], (value) => value !== ""),
        (value) => [upper[0], value] as const
      )
  )

/** A proxy is an absolute http(s) URL; its value (it may carry a password) never appears in the message. */
const proxyUrl = (
  found: Option.Option<readonly [string, string]>
): Either.Either<Option.Option<string>, ConfigError.ConfigError> =>
  Option.match(found, {
    onNone: () => Either.right(Option.none()),
    onSome: ([name, text]) => {
      const url = URL.canParse(text) ? new URL(text) : undefined
      return url !== undefined && (url.protocol === "http:" || url.protocol === "https:")
        ? Either.right(Option.some(text))
        : Either.left(ConfigError.InvalidData([name], "must be an http(s) URL such as http://proxy.example.com:3128"))
    }
  })

/**
 * The proxy settings from the environment (or any `ConfigProvider`). A proxy that is not an http(s) URL fails
 * with a `ConfigError` naming the variable, never its value.
 *
 * @since 0.2.0
 * @category config
 */
export const proxySettings: Config.Config<ProxySettings> = Config.all({
  http_proxy: optional("http_proxy"),
  HTTP_PROXY: optional("HTTP_PROXY"),
  https_proxy: optional("https_proxy"),
  HTTPS_PROXY: optional("HTTPS_PROXY"),
  no_proxy: optional("no_proxy"),
  NO_PROXY: optional("NO_PROXY")
}).pipe(
  Config.mapOrFail((env) =>
    Either.gen(function* () {
      return {
        httpProxy: yield* proxyUrl(pick(["http_proxy", env.http_proxy], ["HTTP_PROXY", env.HTTP_PROXY])),
        httpsProxy: yield* proxyUrl(pick(["https_proxy", env.https_proxy], ["HTTPS_PROXY", env.HTTPS_PROXY])),
        noProxy: Option.map(pick(["no_proxy", env.no_proxy], ["NO_PROXY", env.NO_PROXY]), ([, value]) => value)
      }
    })
  )
)

/**
 * An undici dispatcher sending through the proxies of `settings` (undici's `EnvHttpProxyAgent`, given the
 * settings explicitly, so that `process.env` is never read behind the `ConfigProvider`'s back), destroyed with the
 * scope. `options` go to undici's agents (TLS settings, e.g. `requestTls: { ca }` and `connect: { ca }` for a
 * private certificate authority; `NODE_EXTRA_CA_CERTS` works too).
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeDispatcher = (
  settings: ProxySettings,
  options?: Omit<Undici.EnvHttpProxyAgent.Options, "httpProxy" | "httpsProxy" | "noProxy">
): Effect.Effect<Undici.Dispatcher, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(
      () =>
        new Undici.EnvHttpProxyAgent({
          ...options,
          // "" rather than undefined: undici would read process.env for a missing one
          httpProxy: Option.getOrElse(settings.httpProxy, () => ""),
          httpsProxy: Option.getOrElse(settings.httpsProxy, () => ""),
          noProxy: Option.getOrElse(settings.noProxy, () => "")
        })
    ),
    (dispatcher) => Effect.promise(() => dispatcher.destroy())
  )

/**
 * The undici dispatcher of `NodeHttpClient`, honouring the proxy variables of the current `ConfigProvider`.
 *
 * @since 0.2.0
 * @category layers
 */
export const dispatcherLayer: Layer.Layer<NodeHttpClient.Dispatcher, ConfigError.ConfigError> = Layer.scoped(
  NodeHttpClient.Dispatcher,
  Effect.flatMap(proxySettings, (settings) => makeDispatcher(settings))
)

/**
 * An `HttpClient` on undici, honouring `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient, ConfigError.ConfigError> =
  NodeHttpClient.layerUndiciWithoutDispatcher.pipe(Layer.provide(dispatcherLayer))
