import type { ClientError } from "@batch-export/core"
import { Emulator, Testing } from "@batch-export/emulator"
import { BatchConfig, ExportsClient } from "@batch-export/node"
import { Effect, Layer, Logger, LogLevel, Ref } from "effect"

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

/** Every log line, at every level, as text. */
export const captureLogs = Effect.gen(function* () {
  const lines = yield* Ref.make<ReadonlyArray<string>>([])
  const logger = Logger.make(({ annotations, message, cause }) => {
    Effect.runSync(Ref.update(lines, (all) => [...all, JSON.stringify({ message, annotations, cause: String(cause) })]))
  })
  const layer = Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All))
  return { lines: Ref.get(lines), layer }
})

export const { awaitSleep, eventually } = Testing
