/**
 * Benchmark 7's world: a sync cluster on one machine. Emulated Batch projects (one emulator each: the emulator
 * serves one project), their parts served by nginx at a rate per connection, `batch-export runner` processes
 * (the CLI bundle) on a fresh Postgres database per round, and what a round leaves: the rows, the run rows, the
 * engine's messages and the database's own statistics.
 *
 * @since 0.1.0
 */
import { Emulator } from "@batch-export/emulator"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Postgres from "./postgres.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Scale {
  readonly projects: number
  readonly partsPerExport: number
  /** bytes of each part (at most the emulator's 1 MiB block, so that every record is a different profile) */
  readonly bytesPerPart: number
  /** the emulator's `pollsPerStatus`: looks per CREATED, PENDING, RUNNING before SUCCESS */
  readonly pollsPerStatus: number
  /** each project's `requestsPerSecond` (its cluster-wide pace of Batch API requests) */
  readonly requestsPerSecond: number
}

/**
 * The definitions every project runs: one snapshot, one window.
 *
 * @since 0.1.0
 * @category constants
 */
export const definitions = [
  { name: "profiles", type: "ATTRIBUTES", attributes: ["$email_address"], identifiers: ["custom_id"] },
  { name: "events", type: "EVENTS" }
] as const

/**
 * A round's projects: their emulators, the configuration file naming them, the environment holding their keys.
 *
 * @since 0.1.0
 * @category models
 */
export interface Projects {
  readonly config: string
  readonly env: NodeJS.ProcessEnv
  /** per emulator: exports it created and the records of their files, by type (counted from the files' bytes) */
  readonly created: () => Promise<{
    readonly exports: ReadonlyArray<number>
    readonly records: { readonly ATTRIBUTES: number; readonly EVENTS: number }
  }>
  /** parts written for nginx (each written once, when its first link is asked for) */
  readonly materialized: () => number
  readonly close: () => Promise<void>
}

/**
 * The name of the `i`-th project (from 0) in the configuration: `p01`, `p02`…
 *
 * @since 0.1.0
 * @category constructors
 */
export const projectName = (i: number) => `p${String(i + 1).padStart(2, "0")}`

const countLines = (bytes: Uint8Array) => bytes.reduce((n, byte) => (byte === 10 ? n + 1 : n), 0)

/**
 * Starts `scale.projects` emulators whose 307s point at `${nginxUrl}/slow/<dir name>/<file>.json`: a part is
 * written to `dir` (nginx's root) when its first link is asked for, so nginx serves the emulator's exact bytes.
 * Writes the configuration to `dir/sync.json`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const startProjects = async (scale: Scale, nginxUrl: string, dir: string): Promise<Projects> => {
  Fs.mkdirSync(dir, { recursive: true })
  const scope = await Effect.runPromise(Scope.make())
  const emulators: Array<Emulator.Service> = []
  let materialized = 0
  const prefix = Path.basename(dir)
  try {
    for (let i = 0; i < scale.projects; i++) {
      const holder: { emulator?: Emulator.Service } = {}
      const emulator = await Effect.runPromise(
        Scope.extend(
          Emulator.make({
            seed: 100 + i,
            exports: [],
            pollsPerStatus: scale.pollsPerStatus,
            partsPerExport: scale.partsPerExport,
            bytesPerPart: scale.bytesPerPart,
            linkTtl: "6 hours",
            location: (file, expires) => {
              const path = Path.join(dir, `${file.id}.json`)
              if (!Fs.existsSync(path) && holder.emulator !== undefined) {
                Fs.writeFileSync(path, Effect.runSync(holder.emulator.fileBytes(file.id)))
                materialized++
              }
              return `${nginxUrl}/slow/${prefix}/${file.id}.json?expires=${expires}&signature=bench`
            }
          }),
          scope
        )
      )
      holder.emulator = emulator
      emulators.push(emulator)
    }
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
  const name = projectName
  const config = Path.join(dir, "sync.json")
  Fs.writeFileSync(
    config,
    JSON.stringify({
      projects: emulators.map((emulator, i) => ({
        name: name(i),
        projectKey: emulator.projectKey,
        restKeyEnv: `${name(i).toUpperCase()}_REST_KEY`,
        api: emulator.apiUrl,
        requestsPerSecond: scale.requestsPerSecond,
        exports: definitions.map((d) => d.name)
      })),
      exports: definitions
    })
  )
  const env = {
    ...process.env,
    ...Object.fromEntries(emulators.map((emulator, i) => [`${name(i).toUpperCase()}_REST_KEY`, emulator.restApiKey]))
  }
  return {
    config,
    env,
    materialized: () => materialized,
    created: async () => {
      const records = { ATTRIBUTES: 0, EVENTS: 0 }
      const exports: Array<number> = []
      for (const emulator of emulators) {
        const infos = await Effect.runPromise(emulator.exports)
        exports.push(infos.length)
        for (const info of infos) {
          if (info.exportType === "REACHABILITY") continue
          for (const file of info.files) {
            records[info.exportType] += countLines(await Effect.runPromise(emulator.fileBytes(file.id)))
          }
        }
      }
      return { exports, records }
    },
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/**
 * A `batch-export runner` process: its stderr lines with the time they arrived (ms since the runner's spawn is
 * not needed: `Date.now()`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Runner {
  readonly pid: number
  readonly lines: ReadonlyArray<{ readonly at: number; readonly text: string }>
  /** user + system CPU seconds so far (`/proc/<pid>/stat`) */
  readonly cpuSeconds: () => number
  /** SIGTERM, then its exit code */
  readonly stop: () => Promise<number>
}

const ticks = Number(ChildProcess.spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100

/** utime + stime of a live process, in seconds. */
const cpuOf = (pid: number): number => {
  const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  // the fields after the command name, which is in parentheses and may hold spaces
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / ticks
}

/**
 * Spawns `node <cli> runner …` and waits (up to 30 s) for its `runner listening on` line.
 *
 * @since 0.1.0
 * @category constructors
 */
export const startRunner = async (
  cli: string,
  argv: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv
): Promise<Runner> => {
  const child = ChildProcess.spawn(process.execPath, [cli, "runner", ...argv], {
    env,
    stdio: ["ignore", "ignore", "pipe"]
  })
  const lines: Array<{ readonly at: number; readonly text: string }> = []
  let pending = ""
  const exited = new Promise<number>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGTERM" ? 143 : 1)))
  )
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      pending += text
      const parts = pending.split("\n")
      pending = parts.pop() ?? ""
      for (const line of parts) {
        lines.push({ at: Date.now(), text: line })
        if (line.startsWith("runner listening on ")) resolve()
      }
    })
    void exited.then((code) =>
      reject(new Error(`runner exited (${code}) before listening:\n${lines.map((l) => l.text).join("\n")}`))
    )
    setTimeout(() => reject(new Error("runner not listening after 30 s")), 30_000).unref()
  })
  await listening
  const pid = child.pid
  if (pid === undefined) throw new Error("runner has no pid")
  return {
    pid,
    lines,
    cpuSeconds: () => cpuOf(pid),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM")
      return exited
    }
  }
}

/**
 * The most executions running at once across `runners`, from their `running` and `success`/`failure` lines.
 *
 * @since 0.1.0
 * @category statistics
 */
export const maxInFlight = (runners: ReadonlyArray<Runner>): number => {
  const events = runners
    .flatMap((runner) =>
      runner.lines.flatMap((line) =>
        line.text.endsWith(": running")
          ? [{ at: line.at, delta: 1 }]
          : /: (success \(\d+ records\)|failure \w+)$/.test(line.text)
            ? [{ at: line.at, delta: -1 }]
            : []
      )
    )
    .sort((a, b) => a.at - b.at || a.delta - b.delta)
  let now = 0
  let max = 0
  for (const event of events) {
    now += event.delta
    max = Math.max(max, now)
  }
  return max
}

/**
 * Seconds from each execution's first `running` line to its `success` or `failure` line, across `runners` (an
 * execution resumed on another runner counts from its first start).
 *
 * @since 0.1.0
 * @category statistics
 */
export const executionSeconds = (runners: ReadonlyArray<Runner>): ReadonlyArray<number> => {
  const started = new Map<string, number>()
  const ended = new Map<string, number>()
  for (const { at, text } of runners.flatMap((runner) => runner.lines)) {
    const running = /^(.*): running$/.exec(text)
    const end = /^(.*): (?:success \(\d+ records\)|failure \w+)$/.exec(text)
    if (running?.[1] !== undefined) started.set(running[1], Math.min(at, started.get(running[1]) ?? at))
    if (end?.[1] !== undefined) ended.set(end[1], Math.max(at, ended.get(end[1]) ?? at))
  }
  return [...ended].flatMap(([label, end]) => {
    const start = started.get(label)
    return start === undefined ? [] : [(end - start) / 1000]
  })
}

/**
 * How many executions each runner ran to their end (its `success` lines).
 *
 * @since 0.1.0
 * @category statistics
 */
export const ranPerRunner = (runners: ReadonlyArray<Runner>): ReadonlyArray<number> =>
  runners.map((runner) => runner.lines.filter((line) => /: success \(\d+ records\)$/.test(line.text)).length)

/**
 * A `postgres://` URL for a database of the benchmark's server (Unix socket: `?host=<dir>`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const urlOf = (server: Postgres.Server, database: string) =>
  `postgres://postgres@localhost:${server.port}/${database}?host=${encodeURIComponent(server.socketDir)}`

/**
 * What a round left in its database: rows by table, runs, engine messages and replies, and the database's own
 * counters (`pg_stat_database`, read once every connection is gone so that every backend has flushed them).
 *
 * @since 0.1.0
 * @category statistics
 */
export const databaseFigures = (server: Postgres.Server, database: string) => {
  const query = (sql: string) =>
    server
      .psql(database, sql)
      .trim()
      .split("|")
      .map((value) => Number(value))
  const [profiles = NaN, events = NaN] = query(
    "SELECT (SELECT count(*) FROM batch_profiles), (SELECT count(*) FROM batch_events)"
  )
  const [runs = NaN, succeeded = NaN, records = NaN] = query(
    "SELECT count(*), count(*) FILTER (WHERE outcome = 'success'), coalesce(sum(records), 0) FROM batch_runs"
  )
  const [messages = NaN, replies = NaN] = query(
    "SELECT (SELECT count(*) FROM cluster_messages), (SELECT count(*) FROM cluster_replies)"
  )
  const [commits = NaN, rollbacks = NaN, inserted = NaN, updated = NaN, deleted = NaN] = query(
    "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database " +
      "WHERE datname = current_database()"
  )
  return {
    profiles,
    events,
    runs,
    succeeded,
    records,
    messages,
    replies,
    commits,
    rollbacks,
    inserted,
    updated,
    deleted
  }
}

/**
 * Samples the connections open to `database` every second until `stop` is called; returns the most seen.
 *
 * @since 0.1.0
 * @category statistics
 */
export const sampleConnections = (server: Postgres.Server, database: string) => {
  let max = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const count = await new Promise<number>((resolve) =>
        ChildProcess.execFile(
          Postgres.psqlPath,
          [
            ...server.connection("postgres"),
            "-XAtqc",
            `SELECT count(*) FROM pg_stat_activity WHERE datname = '${database}'`
          ],
          { encoding: "utf8" },
          (error, stdout) => resolve(error === null ? Number(stdout.trim()) : 0)
        )
      )
      max = Math.max(max, count)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  })()
  return async () => {
    running = false
    await loop
    return max
  }
}
