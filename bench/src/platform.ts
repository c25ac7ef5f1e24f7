/**
 * The platform floor of benchmark 5: the same `GET /exports/download` as the reference, through a bare
 * `@effect/platform-node` undici client (`NodeHttpClient.layerUndici`), reading the 307's `Location`. The library
 * decorates such a client, so its cost per call is the least the library can reach.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type { Api } from "./spec.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Floor {
  /** `calls` link requests in a row; returns `calls` */
  readonly links: (fileId: string, calls: number) => Promise<number>
}

/**
 * The client, built before any timing starts. `scoped`: with `HttpClient.withScope`, as the library uses it (every
 * request aborted when its scope closes, so that no connection outlives its call).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = async (api: Api, scoped: boolean): Promise<Floor> => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const base = await runtime.runPromise(HttpClient.HttpClient)
  const client = scoped ? HttpClient.withScope(base) : base
  const headers = { authorization: `Bearer ${api.restApiKey}`, "x-batch-project": api.projectKey }
  const link = (fileId: string) =>
    Effect.scoped(
      Effect.flatMap(
        client.execute(
          HttpClientRequest.get(`${api.url}/2.10/exports/download`, { urlParams: { id: fileId }, headers })
        ),
        (response) => {
          const location = response.headers["location"]
          return response.status === 307 && location !== undefined
            ? Effect.succeed(location)
            : Effect.dieMessage(`expected a 307 with a Location, got ${response.status}`)
        }
      )
    )
  return {
    links: (fileId, calls) =>
      runtime.runPromise(
        Effect.as(
          Effect.forEach(Array.from({ length: calls }), () => link(fileId), { discard: true }),
          calls
        )
      )
  }
}
