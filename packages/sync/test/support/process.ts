/**
 * The sync's child process (`syncChild.ts`, run from source with tsx): started with exactly the environment
 * given (and PATH), its stdout read line by line, killed when the scope closes if it still runs.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(new URL("./syncChild.ts", import.meta.url))
const root = fileURLToPath(new URL("../../../../", import.meta.url))

export interface Child {
  readonly process: ChildProcess
  /** Every stdout line so far. */
  readonly lines: () => ReadonlyArray<string>
  readonly stderr: () => string
  /** Succeeds with the first line starting with `prefix`; fails after `within` with `what` and what the child said. */
  readonly waitFor: (prefix: string, what: string, within?: Duration.DurationInput) => Effect.Effect<string, Error>
  /** How it ended: its exit code, or the signal that ended it; fails after `within` with `what`. */
  readonly exit: (what: string, within?: Duration.DurationInput) => Effect.Effect<number | NodeJS.Signals, Error>
}

export const start = (env: Readonly<Record<string, string>>): Effect.Effect<Child, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      // node itself, not a wrapper: a SIGKILL must reach the process that runs the workflow
      const child = spawn(process.execPath, ["--conditions=@batch-export/source", "--import", "tsx", script], {
        cwd: root,
        env: { PATH: process.env["PATH"] ?? "", ...env },
        stdio: "pipe"
      })
      const lines: Array<string> = []
      let pending = ""
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => {
        const parts = (pending + chunk.toString("utf8")).split("\n")
        pending = parts.pop() ?? ""
        lines.push(...parts)
      })
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8")
      })
      const ended = new Promise<number | NodeJS.Signals>((resolve) =>
        child.on("exit", (code, signal) => resolve(signal ?? code ?? -1))
      )
      const told = () => `\nstdout:\n${lines.join("\n")}\nstderr:\n${stderr.slice(-4000)}`
      const waitFor = (prefix: string, what: string, within: Duration.DurationInput = "30 seconds") =>
        Effect.gen(function* () {
          for (;;) {
            const line = lines.find((l) => l.startsWith(prefix))
            if (line !== undefined) return line
            if (child.exitCode !== null || child.signalCode !== null) {
              return yield* Effect.fail(new Error(`the child ended before ${what}${told()}`))
            }
            yield* Effect.sleep("20 millis")
          }
        }).pipe(
          Effect.timeoutFail({
            duration: within,
            onTimeout: () => new Error(`no ${what} within ${String(within)}${told()}`)
          })
        )
      const exit = (what: string, within: Duration.DurationInput = "30 seconds") =>
        Effect.promise(() => ended).pipe(
          Effect.timeoutFail({
            duration: within,
            onTimeout: () => new Error(`${what}: not within ${String(within)}${told()}`)
          })
        )
      return { process: child, lines: () => [...lines], stderr: () => stderr, waitFor, exit }
    }),
    (child) =>
      Effect.sync(() => {
        if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL")
      })
  )
