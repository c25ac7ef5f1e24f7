import type { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchConfig, ExportsClient } from "@batch-export/node"
import { Chunk, Duration, Effect, Layer, Logger, LogLevel, Ref, TestClock, TestServices } from "effect"

/** The client wired to an emulator, on the real undici transport. */
export const clientLayer = (
  options?: Partial<BatchConfig.Options>
): Layer.Layer<ExportsClient.ExportsClient, ClientError.InvalidArgument, Emulator.Emulator> =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      ExportsClient.layer({
        restApiKey: emulator.restApiKey,
        projectKey: emulator.projectKey,
        baseUrl: emulator.apiUrl,
        ...options
      })
    )
  )

/** Waits, in real time, until `condition` holds: for I/O on real sockets, never for timing. */
export const eventually = <E, R>(condition: Effect.Effect<boolean, E, R>, what = "condition") =>
  Effect.gen(function* () {
    for (let i = 0; i < 2000; i++) {
      if (yield* condition) return
      yield* TestServices.provideLive(Effect.sleep("5 millis"))
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

/** Every log line, at every level, as text. */
export const captureLogs = Effect.gen(function* () {
  const lines = yield* Ref.make<ReadonlyArray<string>>([])
  const logger = Logger.make(({ annotations, message, cause }) => {
    Effect.runSync(Ref.update(lines, (all) => [...all, JSON.stringify({ message, annotations, cause: String(cause) })]))
  })
  const layer = Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All))
  return { lines: Ref.get(lines), layer }
})

/** Waits until some fiber sleeps on the TestClock until exactly `after` from now. */
export const awaitSleep = (after: Duration.DurationInput) =>
  Effect.gen(function* () {
    const now = yield* TestClock.currentTimeMillis
    const at = now + Duration.toMillis(after)
    yield* eventually(
      Effect.map(TestClock.sleeps(), (sleeps) => Chunk.some(sleeps, (t) => t === at)),
      `a sleep until +${Duration.format(after)}`
    )
  })
