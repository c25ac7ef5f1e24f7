/**
 * What tests steer and observe: the scripted-reply queues and the request log.
 *
 * @internal
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type { RecordedRequest, Route } from "../Emulator.js"
import type * as Reply from "../Reply.js"

/** @internal */
export class Control {
  readonly requests: Array<RecordedRequest> = []
  private readonly queues = new Map<Route, Array<Reply.Reply>>()

  record(origin: RecordedRequest["origin"], request: HttpServerRequest.HttpServerRequest): URL {
    const url = new URL(request.url, "http://emulator.invalid")
    const query: Record<string, string> = {}
    for (const [name, value] of url.searchParams) if (!(name in query)) query[name] = value
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers as Record<string, unknown>)) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value)
    }
    this.requests.push({ origin, method: request.method, path: url.pathname, query, headers })
    return url
  }

  enqueue(route: Route, replies: ReadonlyArray<Reply.Reply>): void {
    const queue = this.queues.get(route) ?? []
    queue.push(...replies)
    this.queues.set(route, queue)
  }

  take(route: Route): Reply.Reply | undefined {
    return this.queues.get(route)?.shift()
  }
}
