/**
 * The `batch-export` command tree and `run`, which executes a command line in-process and turns every
 * failure into one line on stderr and an exit code.
 *
 * @since 0.1.0
 */
// The next two imports only let declaration emit name the error types inside the inferred command types.
import type { ApiError, ClientError, ExportError, Records } from "@batch-export/core"
import type { ExportsClient } from "@batch-export/node"
import type { SinkError, SyncCluster, SyncConfig } from "@batch-export/sync"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import { Redaction } from "@batch-export/core"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Create from "./commands/create.js"
import * as Demo from "./commands/demo.js"
import * as Download from "./commands/download.js"
import * as EmulatorCommand from "./commands/emulator.js"
import * as Fetch from "./commands/fetch.js"
import * as List from "./commands/list.js"
import * as RecordsCommand from "./commands/records.js"
import * as RunnerCommand from "./commands/runner.js"
import * as SyncCommand from "./commands/sync.js"
import * as View from "./commands/view.js"
import type * as Failure from "./Failure.js"
import * as Completions from "./internal/completions.js"
import * as exit from "./internal/exit.js"
import * as Help from "./internal/help.js"
import { lazily } from "./internal/lazy.js"
import { packageVersion } from "./internal/version.js"

/**
 * The CLI's version, as its package.json says.
 *
 * @since 0.1.0
 * @category constants
 */
export const version: string = packageVersion(import.meta.url, "@batch-export/cli")

/** The commands without subcommands, in the order the help lists them (after `create`). */
const leaves = [
  View.command,
  List.command,
  Fetch.command,
  RecordsCommand.command,
  Download.command,
  EmulatorCommand.command,
  Demo.command
] as const

/**
 * `batch-export` with its subcommands `create`, `view`, `list`, `fetch`, `records`, `download`, `emulator`,
 * `demo`, `sync` and `runner`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("batch-export").pipe(
  Command.withDescription(
    HelpDoc.blocks([
      HelpDoc.p("Create, inspect and download Batch (batch.com) exports, or try it all on a local emulator."),
      HelpDoc.p(
        "Credentials come from BATCH_REST_API_KEY and BATCH_PROJECT_KEY. Results go to stdout, progress and logs " +
          "to stderr. --json prints one JSON document a line (errors too, on stderr)."
      ),
      HelpDoc.h2("Exit codes"),
      ...exit.exitCodesHelp.map((line) => HelpDoc.p(line))
    ])
  ),
  Command.withSubcommands([Create.command, ...leaves, SyncCommand.command, RunnerCommand.command])
)

/** What `--help` can show: the command tree, in the order `command` lists it. */
const helpTopics = Help.topic(command, [
  Help.topic(
    Create.command,
    Create.subcommands.map((subcommand) => Help.topic(subcommand))
  ),
  ...leaves.map((leaf) => Help.topic(leaf)),
  Help.topic(SyncCommand.command, [Help.topic(SyncCommand.statusCommand)]),
  Help.topic(RunnerCommand.command)
])

/** The width help is wrapped to: the terminal's, or 80 columns off a terminal. */
const helpWidth = (): number =>
  process.stdout.isTTY === true && process.stdout.columns > 0 ? process.stdout.columns : 80

/**
 * The help of the command a command line names, when it asks for help (`--help` or `-h`), wrapped to the
 * terminal (see `internal/help.ts` for why it is not @effect/cli's).
 *
 * @since 0.1.0
 * @category rendering
 */
export const helpFor = (args: ReadonlyArray<string>, width: number = helpWidth()): string | undefined => {
  const path = Help.requested(helpTopics, args)
  return path === undefined ? undefined : Help.render(path, width)
}

/** `--completions bash`: our script (see `internal/completions.ts`); another shell is a usage error. */
const completions = (args: ReadonlyArray<string>): Effect.Effect<void, exit.UsageError> =>
  args.length === 2 && args[1] === "bash"
    ? Console.log(Completions.bash(helpTopics))
    : Effect.fail(
        new exit.UsageError({
          message: "--completions: only bash is generated (--completions bash; zsh can load it with bashcompinit)"
        })
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
 * Log lines (`--log-level`, the library's warnings) on stderr, always: stdout carries results only (records
 * NDJSON must stay parseable). A line is sanitized: it may quote a server.
 *
 * @since 0.1.0
 * @category rendering
 */
export const stderrLogger: Logger.Logger<unknown, void> = Logger.withConsoleError(
  Logger.make(({ logLevel, message }) => {
    const text = (Array.isArray(message) ? message : [message])
      .map((part) => (typeof part === "string" ? part : JSON.stringify(part)))
      .join(" ")
    return `${logLevel.label.toLowerCase()}: ${Redaction.sanitize(text)}`
  })
).pipe((logger) =>
  Logger.make((options) => {
    // the cluster's own news (listening, shards assigned) is not the user's: a runner says what matters itself
    const news =
      LogLevel.lessThan(options.logLevel, LogLevel.Warning) &&
      Option.contains(HashMap.get(options.annotations, "package"), "@effect/cluster")
    if (!news) logger.log(options)
  })
)

const noColor = Config.option(Config.string("NO_COLOR")).pipe(
  Effect.map((value) => Option.isSome(value) && value.value !== ""),
  Effect.orElseSucceed(() => false)
)

/** Colors only for a person at a terminal who did not ask for none (https://no-color.org). */
const colorsOn = (stream: NodeJS.WriteStream): Effect.Effect<boolean> =>
  Effect.map(noColor, (none) => stream.isTTY === true && !none)

/** `--json` anywhere before a `--` asks for machine output, including the error. */
const formatOf = (argv: ReadonlyArray<string>): Effect.Effect<Failure.Format> => {
  const end = argv.indexOf("--")
  if ((end === -1 ? argv : argv.slice(0, end)).includes("--json")) return Effect.succeed("json")
  return Effect.map(colorsOn(process.stderr), (on) => (on ? "color" : "plain"))
}

// SGR sequences only: @effect/cli styles its help and messages with them whatever the output
const SGR = /\x1b\[[0-9;]*m/g

const uncolored = (args: ReadonlyArray<unknown>): ReadonlyArray<unknown> =>
  args.map((arg) => (typeof arg === "string" ? arg.replace(SGR, "") : arg))

/**
 * The console with @effect/cli's styling removed from what goes to a stream that must not get colors. Our own
 * output holds no escape sequence (server text is sanitized, JSON escapes control characters).
 */
const withoutColors = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    const stdout = yield* colorsOn(process.stdout)
    const stderr = yield* colorsOn(process.stderr)
    if (stdout && stderr) return yield* self
    const console = yield* Effect.console
    const plain: Console.Console = {
      ...console,
      log: (...args) => (stdout ? console.log(...args) : console.log(...uncolored(args))),
      error: (...args) => (stderr ? console.error(...args) : console.error(...uncolored(args)))
    }
    return yield* Effect.withConsole(self, plain)
  })

/**
 * Runs a command line (`process.argv`: the first two entries, node and the script, are skipped) and returns
 * the exit code. Every failure is reported on stderr (see `Failure.report`): one line, or one JSON object with
 * `--json`; for a command line that does not parse, @effect/cli's own message is all that is printed. Log lines
 * go to stderr. Interruption (Ctrl-C) is not caught.
 *
 * @example
 * ```ts
 * import { Cli } from "@batch-export/cli"
 * import { NodeContext } from "@effect/platform-node"
 * import { Effect } from "effect"
 *
 * // `batch-export --version`, in-process: what it prints goes to stdout, its exit code is returned
 * Effect.runPromise(Cli.run(["node", "batch-export", "--version"]).pipe(Effect.provide(NodeContext.layer))).then(
 *   (code) => console.log(`exit ${code}`)
 * )
 * ```
 *
 * @since 0.1.0
 * @category programs
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<Failure.ExitCode, never, Environment> =>
  Effect.locally(
    Effect.suspend(() => {
      const args = argv.slice(2)
      if (args[0] === "--completions") return completions(args)
      const help = helpFor(args)
      return help === undefined ? cli(argv) : Console.log(help)
    }).pipe(
      Effect.as(exit.ExitCode.success),
      Effect.catchAllCause((cause) =>
        Effect.flatMap(formatOf(argv), (format) =>
          // loaded when a command fails only: describing errors needs the client library
          lazily(
            () => import("./Failure.js"),
            (failure) => failure.report(cause, format)
          )
        )
      ),
      withoutColors
    ),
    FiberRef.currentLoggers,
    HashSet.make<Array<Logger.Logger<unknown, unknown>>>(stderrLogger)
  )
