/**
 * What `batch-export emulator` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
import { Emulator } from "@batch-export/emulator"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { printJson } from "../output.js"
import { banner, bannerJson } from "../render/emulator.js"
import { sampleExports } from "../sampleExports.js"

/**
 * The parsed command line of `emulator`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly apiPort: Option.Option<number>
  readonly storagePort: Option.Option<number>
  readonly seed: Option.Option<number>
  readonly exports: Option.Option<number>
  readonly parts: Option.Option<number>
  readonly partSize: Option.Option<number>
  readonly json: boolean
}

/**
 * Runs the emulator until interrupted, after printing where it listens.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const emulator = ({ apiPort, exports, json, partSize, parts, seed, storagePort }: Config) => {
  const sized = Option.isSome(exports) || Option.isSome(parts) || Option.isSome(partSize)
  const emulator = Layer.scoped(
    Emulator.Emulator,
    Emulator.make({
      exports: sized
        ? Array.from({ length: Option.getOrElse(exports, () => 1) }, () => ({
            parts: Option.getOrElse(parts, () => 2),
            bytesPerPart: Option.getOrUndefined(partSize)
          }))
        : sampleExports,
      apiPort: Option.getOrUndefined(apiPort),
      storagePort: Option.getOrUndefined(storagePort),
      seed: Option.getOrUndefined(seed)
    })
  )
  const announce = Layer.effectDiscard(
    Effect.flatMap(Emulator.Emulator, (emulator) =>
      json
        ? Effect.flatMap(bannerJson(emulator), printJson)
        : Effect.flatMap(banner(emulator), (lines) => Console.log(lines.join("\n")))
    )
  )
  return Layer.launch(announce.pipe(Layer.provide(emulator)))
}
