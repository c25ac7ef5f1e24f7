import { Cli, Progress } from "@batch-export/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { inspect } from "node:util"

/** What one in-process run of `batch-export` printed, and its exit code. */
export interface Run {
  readonly code: number
  readonly stdout: ReadonlyArray<string>
  readonly stderr: ReadonlyArray<string>
  /** stdout and stderr together */
  readonly output: string
}

const text = (args: ReadonlyArray<unknown>) =>
  args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 5 }))).join(" ")

/**
 * A `Console` that records `log`/`info` into `stdout` and `error`/`warn`/`debug`/`trace` into `stderr`, and
 * calls `onLog` after each stdout line.
 */
export const captureConsole = (
  stdout: Array<string>,
  stderr: Array<string>,
  onLog: (line: string) => void = () => {}
): Console.Console => {
  const out = (...args: ReadonlyArray<unknown>) => {
    const line = text(args)
    stdout.push(line)
    onLog(line)
  }
  const err = (...args: ReadonlyArray<unknown>) => {
    stderr.push(text(args))
  }
  const noop = () => {}
  const unsafe: Console.UnsafeConsole = {
    assert: (condition, ...args) => (condition ? undefined : err(...args)),
    clear: noop,
    count: noop,
    countReset: noop,
    debug: err,
    dir: (item) => out(item),
    dirxml: out,
    error: err,
    group: noop,
    groupCollapsed: noop,
    groupEnd: noop,
    info: out,
    log: out,
    table: (data) => out(data),
    time: noop,
    timeEnd: noop,
    timeLog: noop,
    trace: err,
    warn: err
  }
  const lift =
    <A extends ReadonlyArray<any>>(f: (...args: A) => void) =>
    (...args: A) =>
      Effect.sync(() => f(...args))
  return {
    [Console.TypeId]: Console.TypeId,
    assert: lift(unsafe.assert),
    clear: Effect.void,
    count: () => Effect.void,
    countReset: () => Effect.void,
    debug: lift(unsafe.debug),
    dir: lift(unsafe.dir),
    dirxml: lift(unsafe.dirxml),
    error: lift(unsafe.error),
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: lift(unsafe.info),
    log: lift(unsafe.log),
    table: lift(unsafe.table),
    time: () => Effect.void,
    timeEnd: () => Effect.void,
    timeLog: () => Effect.void,
    trace: lift(unsafe.trace),
    warn: lift(unsafe.warn),
    unsafe
  }
}

/**
 * Runs `batch-export <args>` in-process with exactly `env` as the configuration (nothing from
 * `process.env`), progress drawn as lines, and stdout/stderr captured.
 */
export const runCli = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {},
  onLog?: (line: string) => void
): Effect.Effect<Run> =>
  Effect.suspend(() => {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    return Cli.run(["node", "batch-export", ...args]).pipe(
      Effect.provide(NodeContext.layer),
      Effect.provideService(Progress.ProgressStyle, "lines"),
      Effect.withConsole(captureConsole(stdout, stderr, onLog)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.map((code) => ({ code, stdout, stderr, output: [...stdout, ...stderr].join("\n") }))
    )
  })

/** The environment that points `download` at an emulator. */
export const envFor = (emulator: {
  readonly apiUrl: string
  readonly restApiKey: string
  readonly projectKey: string
}): Record<string, string> => ({
  BATCH_REST_API_KEY: emulator.restApiKey,
  BATCH_PROJECT_KEY: emulator.projectKey,
  BATCH_API_URL: emulator.apiUrl
})

/** A failed run: non-zero exit, nothing on stdout, exactly one line on stderr naming the error, no dump. */
export const assertOneLineFailure = (run: Run, ...expected: ReadonlyArray<string>): string => {
  assert.notStrictEqual(run.code, 0, run.output)
  assert.deepStrictEqual(run.stdout, [], run.output)
  assert.strictEqual(run.stderr.length, 1, run.output)
  return assertErrorLine(run.stderr[0]!, ...expected)
}

/** One `error: …` line naming the error: no newline, no stack, no structured dump. */
export const assertErrorLine = (line: string, ...expected: ReadonlyArray<string>): string => {
  assert.notInclude(line, "\n")
  assert.match(line, /^error: /)
  for (const text of expected) assert.include(line, text)
  for (const forbidden of ["    at ", "{", "_id", "stack", "FiberFailure"]) assert.notInclude(line, forbidden)
  return line
}
