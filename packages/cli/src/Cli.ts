/**
 * The `batch-export` command tree and `run`, which executes a command line in-process and turns every
 * failure into one line on stderr and an exit code.
 *
 * @since 0.1.0
 */
// The next two imports only let declaration emit name the error types inside the inferred command types.
import type { ApiError, ClientError, ExportError, Records } from "@batch-export/core"
import type { ExportsClient } from "@batch-export/node"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Create from "./commands/create.js"
import * as Demo from "./commands/demo.js"
import * as Download from "./commands/download.js"
import * as EmulatorCommand from "./commands/emulator.js"
import * as Fetch from "./commands/fetch.js"
import * as List from "./commands/list.js"
import * as RecordsCommand from "./commands/records.js"
import * as View from "./commands/view.js"
import * as Failure from "./Failure.js"
import { packageVersion } from "./internal/version.js"

/**
 * The CLI's version, as its package.json says.
 *
 * @since 0.1.0
 * @category constants
 */
export const version: string = packageVersion(import.meta.url, "@batch-export/cli")

/**
 * `batch-export` with its subcommands `create`, `view`, `list`, `fetch`, `records`, `download`, `emulator` and
 * `demo`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("batch-export").pipe(
  Command.withDescription("Create, inspect and download Batch (batch.com) exports, or try it all on a local emulator."),
  Command.withSubcommands([
    Create.command,
    View.command,
    List.command,
    Fetch.command,
    RecordsCommand.command,
    Download.command,
    EmulatorCommand.command,
    Demo.command
  ])
)

/**
 * What `run` needs: @effect/cli's `FileSystem`, `Path` and `Terminal` (`NodeContext.layer` provides them).
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = CliApp.CliApp.Environment

const cli = Command.run(command, { name: "batch-export", version })

/**
 * Runs a command line (`process.argv`: the first two entries, node and the script, are skipped) and returns
 * the exit code. Every failure is reported as exactly one line on stderr (see `Failure`); for a command line
 * that does not parse, @effect/cli's own message is all that is printed. Interruption (Ctrl-C) is not caught.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<Failure.ExitCode, never, Environment> =>
  cli(argv).pipe(
    Effect.as(Failure.ExitCode.success),
    Effect.catchAllCause((cause) => Failure.report(cause))
  )
