/**
 * `batch-export emulator`: runs the Batch export API emulator until Ctrl-C and prints how to point
 * `batch-export download` (or any program using `ExportsClient.layerConfig`) at it.
 *
 * @since 0.1.0
 */
import type { Emulator } from "@batch-export/emulator"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Flags from "../Flags.js"
import { lazily } from "../internal/lazy.js"
import * as render from "../internal/render/emulator.js"

const port = (name: string, description: string) =>
  Options.integer(name).pipe(
    Options.withPseudoName("N"),
    Options.filterMap(
      (n) => (n >= 0 && n <= 65535 ? Option.some(n) : Option.none()),
      `--${name} must be a port number (0 to 65535)`
    ),
    Options.withDescription(description),
    Options.optional
  )

const seed = Options.integer("seed").pipe(
  Options.withPseudoName("N"),
  Options.withDescription("Every id and byte the emulator serves is a function of the seed (default 1)"),
  Options.optional
)

const count = (name: string, description: string) =>
  Options.integer(name).pipe(
    Options.withPseudoName("N"),
    Options.filterMap((n) => (n >= 1 ? Option.some(n) : Option.none()), `--${name} must be at least 1`),
    Options.withDescription(description),
    Options.optional
  )

const partSize = Flags.size(
  "part-size",
  1,
  "Bytes in each file, at least (K, M, G are 1024-based); large files are streamed, never held in memory"
).pipe(Options.optional)

/**
 * The lines the `emulator` command prints once listening: URLs, `export …` lines for a shell, the exports and
 * their file ids, and a command to try. The credentials are the emulator's own fake ones, printed on purpose.
 *
 * @since 0.1.0
 * @category rendering
 */
export const banner: (emulator: Emulator.Service) => Effect.Effect<ReadonlyArray<string>> = render.banner

/**
 * The banner's facts as one JSON object (`--json`): where the emulator listens, the environment a client needs,
 * and every export with its files. For scripts that start the emulator and read where it is.
 *
 * @since 0.1.0
 * @category rendering
 */
export const bannerJson: (emulator: Emulator.Service) => Effect.Effect<unknown> = render.bannerJson

/**
 * `batch-export emulator [--port N] [--storage-port N] [--seed N] [--exports N] [--parts N] [--part-size SIZE]`:
 * with any of the last three, the emulator serves that many finished exports of that many files of that size
 * (defaults 1 export, 2 parts, 200 records a part) instead of the sample exports.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "emulator",
  {
    apiPort: port("port", "The API port (default: a free port)"),
    storagePort: port("storage-port", "The storage port serving the signed links (default: a free port)"),
    seed,
    exports: count("exports", "Serve this many finished exports instead of the samples"),
    parts: count("parts", "Files in each served export (default 2)"),
    partSize,
    json: Flags.json
  },
  (config) =>
    lazily(
      () => import("../internal/handlers/emulator.js"),
      (handler) => handler.emulator(config)
    )
).pipe(
  Command.withDescription(
    "Run a local emulator of Batch's export API (and its storage) until Ctrl-C, with fake credentials to use."
  )
)
