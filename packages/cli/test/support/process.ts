import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const Manifest = Schema.Struct({ bin: Schema.Struct({ "batch-export": Schema.String }) })
const packageDir = new URL("../../", import.meta.url)

/**
 * The executable the package publishes as `batch-export` (its package.json `bin`: the bundle), as users run
 * it (`tsc -b` and the bundle script first: `pnpm check` does).
 */
export const bin = fileURLToPath(
  new URL(
    Schema.decodeUnknownSync(Schema.parseJson(Manifest))(readFileSync(new URL("package.json", packageDir), "utf8")).bin[
      "batch-export"
    ],
    packageDir
  )
)

/** The executable `tsc -b` compiles, before bundling: one module per source file. */
export const unbundledBin = fileURLToPath(new URL("dist/src/bin.js", packageDir))

/** Whether the executable was built (the process tests are skipped otherwise). */
export const built = existsSync(bin)

const ptyScript = fileURLToPath(new URL("./terminal.py", import.meta.url))

/** How a child process ended, and everything it wrote. */
export interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly stderr: string
}

/** A running child: what it wrote so far, how it ends. */
export interface Running {
  readonly child: ChildProcess
  readonly stderrSoFar: () => string
  /** what it wrote on stdout so far */
  readonly stdout: () => ReadonlyArray<Buffer>
  readonly finished: Effect.Effect<Finished>
}

const environment = (env: Readonly<Record<string, string>>) => ({ PATH: process.env["PATH"] ?? "", ...env })

/** Starts `batch-export <args>` with exactly `env` (and PATH); killed when the scope closes if still running. */
export const start = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {}
): Effect.Effect<Running, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [bin, ...args], { env: environment(env), stdio: "pipe" })
      const stdout: Array<Buffer> = []
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk))
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8")
      })
      const ended = new Promise<Finished>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal, stdout: Buffer.concat(stdout), stderr }))
      )
      return {
        child,
        stderrSoFar: () => stderr,
        stdout: () => stdout,
        finished: Effect.promise(() => ended)
      } satisfies Running
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
  )

/** Runs `batch-export <args>` to its end. */
export const run = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  Effect.scoped(Effect.flatMap(start(args, env), (running) => running.finished))

/** Runs a bash command line (`"$NODE" "$BIN" …` runs the executable) and returns its end. */
export const shell = (
  script: string,
  env: Readonly<Record<string, string>> = {}
): Effect.Effect<{ readonly code: number; readonly stdout: string; readonly stderr: string }> =>
  Effect.async((resume) => {
    const child = execFile(
      "bash",
      ["--norc", "--noprofile", "-c", script],
      { env: { ...environment(env), NODE: process.execPath, BIN: bin }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** Runs `batch-export <args>` in a pseudo-terminal `columns` wide; returns what the terminal received. */
export const inTerminal = (
  columns: number,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {}
): Effect.Effect<{ readonly code: number; readonly screen: string }> =>
  Effect.async((resume) => {
    const child = execFile(
      "python3",
      [ptyScript, String(columns), process.execPath, bin, ...args],
      { env: { ...environment(env), TERM: "xterm" }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resume(Effect.succeed({ code, screen: stdout }))
      }
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** Waits (real time, polling) until `condition` holds, at most `seconds`. */
export const until = (condition: () => boolean, seconds = 10): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    for (let i = 0; i < seconds * 20; i++) {
      if (condition()) return true
      yield* Effect.sleep("50 millis")
    }
    return condition()
  })
