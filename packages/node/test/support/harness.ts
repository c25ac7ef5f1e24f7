import type { ClientError } from "@batch-export/core"
import { Emulator, Testing } from "@batch-export/emulator"
import { BatchConfig, BatchExport, ExportFiles, ExportsClient } from "@batch-export/node"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Tracer from "effect/Tracer"
/** The client and the file service wired to an emulator, on the real undici transport and file system. */
export const clientLayer = (
  options?: Partial<BatchConfig.Options>
): Layer.Layer<ExportsClient.ExportsClient | ExportFiles.ExportFiles, ClientError.InvalidArgument, Emulator.Emulator> =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      BatchExport.layer({
        restApiKey: emulator.restApiKey,
        projectKey: emulator.projectKey,
        baseUrl: emulator.apiUrl,
        ...options
      })
    )
  )

/** Every log line, at every level, as text. */
export const captureLogs = Effect.gen(function* () {
  const lines = yield* Ref.make<ReadonlyArray<string>>([])
  const logger = Logger.make(({ annotations, message, cause, logLevel }) => {
    Effect.runSync(
      Ref.update(lines, (all) => [
        ...all,
        JSON.stringify({ message, annotations, cause: String(cause), level: logLevel.label })
      ])
    )
  })
  const layer = Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All))
  return { lines: Ref.get(lines), layer }
})

export const { awaitSleep, eventually } = Testing

/**
 * Runs `effect` while letting every short wait it schedules on the TestClock elapse (retry and resume
 * backoffs, poll intervals): once nothing has changed for a few real milliseconds (no new sleep, no
 * completion: the program is waiting, not working), the clock jumps to the nearest sleep under 30 minutes.
 * Tests using it set request and idle timeouts far longer than that, so in-flight I/O never times out.
 */
export const drive = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    let previous = ""
    let quiet = 0
    for (;;) {
      const done = fiber.unsafePoll()
      if (done !== null) return yield* done
      const now = yield* TestClock.currentTimeMillis
      const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps())
      const snapshot = `${now}:${sleeps.join(",")}`
      quiet = snapshot === previous ? quiet + 1 : 0
      previous = snapshot
      const pending = sleeps.map((t) => t - now).filter((d) => d > 0 && d < 30 * 60 * 1000)
      if (pending.length > 0 && quiet >= 5) {
        yield* TestClock.adjust(Math.min(...pending))
        quiet = 0
      } else yield* TestServices.provideLive(Effect.sleep("2 millis"))
    }
  })

/** A tracer that keeps every span the current tracer creates, and the exit value each one ended with. */
export const recordSpans = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const exits: Array<Exit.Exit<unknown, unknown>> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = base.span(...args)
      spans.push(span)
      const end = span.end.bind(span)
      span.end = (endTime, exit) => {
        exits.push(exit)
        end(endTime, exit)
      }
      return span
    },
    context: base.context
  })
  return { spans, exits, tracer }
})

/** A span as text: name, attributes, status. */
export const spanText = (span: Tracer.Span): string =>
  JSON.stringify({ name: span.name, attributes: Object.fromEntries(span.attributes), status: String(span.status._tag) })

/** The client on an in-memory transport (no socket), for what real sockets cannot show here (https). */
export const onTransport = (
  client: HttpClient.HttpClient,
  options: BatchConfig.Options
): Layer.Layer<ExportsClient.ExportsClient, ClientError.InvalidArgument> =>
  ExportsClient.layerWithoutDependencies.pipe(
    Layer.provide(Layer.merge(BatchConfig.layer(options), Layer.succeed(HttpClient.HttpClient, client)))
  )

/** Every value reachable from `value` as text, Headers, Maps and URLs included (cycles visited once). */
export const deepText = (value: unknown): string => {
  const seen = new WeakSet<object>()
  const out: Array<string> = []
  const walk = (v: unknown, depth: number): void => {
    if (depth > 40) return
    if (typeof v === "string") return void out.push(v)
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return void out.push(String(v))
    if (typeof v !== "object" || v === null || seen.has(v)) return
    seen.add(v)
    if (v instanceof URL) return void out.push(v.href)
    if (v instanceof Headers) return v.forEach((value, key) => out.push(`${key}: ${value}`))
    if (v instanceof Map) return v.forEach((value, key) => (walk(key, depth + 1), walk(value, depth + 1)))
    if (ArrayBuffer.isView(v)) return
    if (v instanceof Error) out.push(v.message)
    for (const key of Reflect.ownKeys(v)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(v, key)
      if (descriptor !== undefined && "value" in descriptor) walk(descriptor.value, depth + 1)
    }
    // and what the object says about itself (toJSON), where that differs from its fields
    try {
      out.push(JSON.stringify(v, (_, x: unknown) => (typeof x === "bigint" ? String(x) : x)) ?? "")
    } catch {
      // a cycle: its parts were walked above
    }
  }
  walk(value, 0)
  return out.join("\n")
}
