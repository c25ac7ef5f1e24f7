/**
 * The `batch-export` process: runs `Cli.run(process.argv)` on Node and exits with its code. Failures are
 * already reported by `Cli.run`. SIGINT, SIGTERM and SIGHUP interrupt the command, which removes what it
 * had not finished writing, then exit with 128 + the signal's number. A closed stdout (`… | head -3`) ends the
 * command quietly with exit 0, as `cat` does.
 *
 * @internal
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "../Cli.js"
import { ExitCode, exitCodeOf } from "./exit.js"

const signals = {
  SIGINT: ExitCode.interrupted,
  SIGTERM: ExitCode.terminated,
  SIGHUP: ExitCode.hangup
} as const

// what `Cli.run` needs, and no more: `NodeContext.layer` would also load the command executor and workers
const environment = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

// a deprecation inside a dependency (pg's, reached through the cluster's storage) is no news for the CLI's user
process.noDeprecation = true

const fiber = Effect.runFork(Cli.run(process.argv).pipe(Effect.provide(environment)))
// a command waiting on a timer or a socket alone must not let Node exit under it
const keepAlive = setInterval(() => {}, 2 ** 31 - 1)

/** Set once a signal or a closed stdout decided how the process ends. */
let decided: number | undefined

const stop = (code: number) => {
  if (decided !== undefined) {
    // a second signal while cleaning up: the person insists
    process.exit(decided)
  }
  decided = code
  fiber.unsafeInterruptAsFork(fiber.id())
}

for (const [signal, code] of Object.entries(signals)) process.on(signal, () => stop(code))

process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (decided !== undefined) return
  if (error.code === "EPIPE") return stop(ExitCode.success)
  // e.g. ENOSPC writing to a full disk or /dev/full: a real failure
  process.stderr.write(`error: could not write to stdout: ${error.code ?? error.message}\n`)
  stop(ExitCode.failure)
})
// nowhere left to report to: ignore, rather than crash with a stack trace
process.stderr.on("error", () => {})

fiber.addObserver((exit) => {
  clearInterval(keepAlive)
  const code = decided ?? (Exit.isSuccess(exit) ? exit.value : exitCodeOf(exit.cause))
  if (decided !== undefined || code !== 0) process.exit(code)
  process.exitCode = code
})
