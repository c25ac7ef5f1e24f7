/**
 * `pnpm bench` / `pnpm bench:smoke`: the benchmarks of issues 8 (1–5), 21 (6, sync into a database) and 23 (7, sync
 * across 1, 2, 3 runner processes), each comparing programs side by side in one run, alternating over several
 * rounds, every measurement in its own process. Prints one Markdown table per
 * benchmark and writes them, the machine and the raw samples to `bench/results/`.
 *
 * Flags: `--smoke` (tiny sizes, one round: checks that every benchmark runs and produces numbers, never a speed;
 * prints one line per benchmark, `benchmark N: ran, checks passed`, and keeps the tables in `.tmp/smoke.md` only),
 * `--rounds N` (default 3), `--only 1,3` (benchmark numbers), `--name NAME` (results file name), `--concurrency 4`
 * (benchmark 3's levels, default 1,2,4,8).
 *
 * @since 0.1.0
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as Cluster from "./cluster.js"
import * as Postgres from "./postgres.js"
import { checkSameUndici } from "./reference.js"
import * as Setup from "./setup.js"
import type { Impl, LinkImpl, RecordsImpl, Result, SinkDatabase, Spec } from "./spec.js"

const REPO = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../..")
const CHILD = Path.join(REPO, "bench/dist/src/child.js")
/** The executable the CLI package publishes as `batch-export`: its package.json `bin` (the bundle). */
const publishedBin = (): string => {
  const manifest: unknown = JSON.parse(Fs.readFileSync(Path.join(REPO, "packages/cli/package.json"), "utf8"))
  const bin = typeof manifest === "object" && manifest !== null && "bin" in manifest ? manifest.bin : undefined
  const path = typeof bin === "object" && bin !== null && "batch-export" in bin ? bin["batch-export"] : undefined
  if (typeof path !== "string") throw new Error("packages/cli/package.json has no `batch-export` bin")
  return Path.join(REPO, "packages/cli", path)
}
const CLI = publishedBin()
const BARE = Path.join(REPO, "bench/dist/src/bare.js")

// ---- arguments

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const index = args.indexOf(name)
  return index === -1 ? undefined : args[index + 1]
}
const smoke = args.includes("--smoke")
const rounds = smoke ? 1 : Number(flag("--rounds") ?? 3)
const only = new Set((flag("--only") ?? "1,2,3,4,5,6,7").split(",").map(Number))
const levels = flag("--concurrency")?.split(",").map(Number)
const name = flag("--name") ?? (smoke ? "smoke" : new Date().toISOString().replace(/[:.]/g, "-"))

const MB = 1_000_000
const MiB = 1024 * 1024
const GiB = 1024 * MiB

const sizes: Setup.Sizes = smoke
  ? { small: 64 * 1024, medium: 256 * 1024, large: 1024 * 1024, part: 128 * 1024, parts: 8, rate: 4 * MiB }
  : { small: 10 * MB, medium: 100 * MB, large: GiB, part: 100 * MB, parts: 8, rate: 32 * MiB }
const LINK_CALLS = smoke ? 20 : 2000

// ---- statistics and formatting

interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
}

const summarize = (values: ReadonlyArray<number>): Summary => {
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
    throw new Error(`no usable samples: ${JSON.stringify(values)}`)
  }
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! }
}

const fixed = (value: number, digits: number) => value.toFixed(digits)
const seconds = (s: Summary) => `${fixed(s.median, 3)} s (${fixed(s.min, 3)}–${fixed(s.max, 3)})`
const mib = (bytes: number) => `${fixed(bytes / MiB, 0)} MiB`
const rss = (s: Summary) => `${mib(s.median)} (${mib(s.min)}–${mib(s.max)})`
const ratio = (value: number) => `**${fixed(value, 2)}×**`

/**
 * The ratio round by round (`reference[i] ÷ ours[i]`, both timed in the same round), its median, and in
 * how many rounds it reached `target`: on a machine whose speed drifts within minutes, this is steadier than the
 * ratio of the two medians, which may come from different rounds.
 */
const perRound = (reference: ReadonlyArray<number>, ours: ReadonlyArray<number>, target: number) => {
  const ratios = reference.flatMap((r, i) => {
    const o = ours[i]
    return o === undefined ? [] : [r / o]
  })
  const reached = ratios.filter((r) => r >= target).length
  return `${fixed(summarize(ratios).median, 2)}× (${reached} of ${ratios.length} rounds ≥ ${target}×)`
}
const human = (bytes: number) =>
  bytes >= GiB
    ? `${fixed(bytes / GiB, 1)} GiB`
    : bytes >= MB
      ? `${fixed(bytes / MB, 0)} MB`
      : `${fixed(bytes / 1024, 0)} KiB`

interface Table {
  readonly title: string
  readonly note: string
  readonly header: ReadonlyArray<string>
  readonly rows: Array<ReadonlyArray<string>>
}

const render = (table: Table): string =>
  [
    `### ${table.title}`,
    "",
    table.note,
    "",
    `| ${table.header.join(" | ")} |`,
    `|${table.header.map(() => "---").join("|")}|`,
    ...table.rows.map((row) => `| ${row.join(" | ")} |`),
    ""
  ].join("\n")

const samples: Record<string, Array<unknown>> = {}
const record = (key: string, value: unknown) => {
  ;(samples[key] ??= []).push(value)
}

// ---- processes

const exec = (command: string, argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env) =>
  new Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string; readonly wall: number }>(
    (resolve, reject) => {
      const start = process.hrtime.bigint()
      const child = ChildProcess.spawn(command, [...argv], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (text: string) => void (stdout += text))
      child.stderr.setEncoding("utf8").on("data", (text: string) => void (stderr += text.slice(-20_000)))
      child.once("error", reject)
      child.once("close", (code) =>
        resolve({ code: code ?? 1, stdout, stderr, wall: Number(process.hrtime.bigint() - start) / 1e9 })
      )
    }
  )

const isResult = (value: unknown): value is Result =>
  typeof value === "object" &&
  value !== null &&
  "seconds" in value &&
  typeof value.seconds === "number" &&
  "count" in value &&
  typeof value.count === "number" &&
  "maxRssBytes" in value &&
  typeof value.maxRssBytes === "number"

/** One measurement in a fresh `node` process. */
const child = async (spec: Spec): Promise<Result> => {
  const run = await exec(process.execPath, [CHILD, JSON.stringify(spec)])
  const last = run.stdout.trim().split("\n").at(-1) ?? ""
  const parsed: unknown = run.code === 0 ? JSON.parse(last) : undefined
  if (!isResult(parsed)) throw new Error(`child failed (${run.code}) for ${spec.kind}:\n${run.stderr}`)
  record(spec.kind, { spec: { ...spec, api: undefined }, result: parsed })
  return parsed
}

/** A whole program under `/usr/bin/time`: wall time from spawn to exit, its CPU time (user + system) and peak RSS. */
const timed = async (label: string, command: string, argv: ReadonlyArray<string>, env?: NodeJS.ProcessEnv) => {
  const report = Path.join(Os.tmpdir(), `batch-export-bench-time-${process.pid}`)
  const run = await exec("/usr/bin/time", ["-o", report, "-f", "%M %U %S", command, ...argv], env)
  if (run.code !== 0) throw new Error(`${label} failed (${run.code}):\n${run.stderr}`)
  const [kib = NaN, user = NaN, system = NaN] = (Fs.readFileSync(report, "utf8").trim().split("\n").at(-1) ?? "")
    .split(" ")
    .map(Number)
  Fs.rmSync(report, { force: true })
  const result = { wall: run.wall, cpu: user + system, maxRssBytes: kib * 1024 }
  record(label, result)
  return result
}

/** Runs `a` and `b` `rounds` times, alternating which goes first. */
const alternate = async <A>(a: () => Promise<A>, b: () => Promise<A>) => {
  const as: Array<A> = []
  const bs: Array<A> = []
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      as.push(await a())
      bs.push(await b())
    } else {
      bs.push(await b())
      as.push(await a())
    }
  }
  return [as, bs] as const
}

/** Runs every program `rounds` times, each round starting one program later than the previous one. */
const rotate = async <A>(programs: ReadonlyArray<() => Promise<A>>) => {
  const results: Array<Array<A>> = programs.map(() => [])
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < programs.length; i++) {
      const index = (round + i) % programs.length
      results[index]!.push(await programs[index]!())
    }
  }
  return results
}

const expectCount = (label: string, got: number, expected: number) => {
  if (got !== expected) throw new Error(`${label}: got ${got}, expected ${expected}`)
}

// ---- the benchmarks

const oneFile = async (env: Setup.Environment): Promise<Table> => {
  const table: Table = {
    title: "1. One file to disk",
    note:
      "In-process: work time only (imports and layer construction excluded, and in the second row of each size one " +
      "warm-up download of the smallest file), through the emulated API's 307 to nginx; " +
      "ratio = our throughput ÷ the reference's (per round: that ratio taken within each round, its median and in how " +
      "many rounds it reaches the target). Whole process: wall time from spawn to exit (start-up included) and " +
      "CPU time (user + system) and peak RSS (`/usr/bin/time`); ratio = our wall ÷ curl's. Bare Node (`bench/src/bare.ts`) is the same undici " +
      "pipeline as the in-process reference run as a whole process: what any Node program pays for the job. Start-up: " +
      "spawn to exit; `view` asks the emulated API for one export.",
    header: ["figure", "reference", "batch-export", "ratio", "target"],
    rows: []
  }
  // what the CLI and the bare Node script read
  const variables = {
    ...process.env,
    BATCH_REST_API_KEY: env.api.restApiKey,
    BATCH_PROJECT_KEY: env.api.projectKey,
    BATCH_API_URL: env.api.url
  }
  for (const file of smoke ? [env.medium] : [env.medium, env.large]) {
    const path = Path.join(env.scratch, "one-file.json")
    const download = (impl: Impl, warmUp: string | undefined) => async () => {
      const result = await child({ kind: "download", impl, api: env.api, fileId: file.id, path, warmUp })
      expectCount(`download ${impl}`, Fs.statSync(path).size, file.size)
      Fs.rmSync(path, { force: true })
      Fs.rmSync(`${path}.warm-up`, { force: true })
      return result
    }
    // first: the first download of a fresh process (code still compiling); steady: after one download of the
    // smallest file, as in a service that has run once
    for (const [label, warmUp] of [
      ["first download of the process", undefined],
      [`after a ${human(env.small.size)} warm-up download`, env.small.id]
    ] as const) {
      const [reference, ours] = await alternate(download("reference", warmUp), download("ours", warmUp))
      const ref = summarize(reference.map((r) => r.seconds))
      const our = summarize(ours.map((r) => r.seconds))
      table.rows.push([
        `${human(file.size)} to disk, in-process, ${label}`,
        `undici request → pipeline → createWriteStream: ${seconds(ref)}, ${fixed(file.size / MB / ref.median, 0)} MB/s`,
        `downloadToFile: ${seconds(our)}, ${fixed(file.size / MB / our.median, 0)} MB/s`,
        `${ratio(ref.median / our.median)}; per round ${perRound(
          reference.map((r) => r.seconds),
          ours.map((r) => r.seconds),
          0.95
        )}`,
        "≥ 0.95×"
      ])
    }

    const curl = () =>
      timed("curl", "curl", [
        "-sS",
        "-f",
        "-L",
        "-o",
        path,
        "-H",
        `Authorization: Bearer ${env.api.restApiKey}`,
        "-H",
        `X-Batch-Project: ${env.api.projectKey}`,
        `${env.api.url}/2.10/exports/download?id=${file.id}`
      ]).then((result) => {
        expectCount("curl", Fs.statSync(path).size, file.size)
        Fs.rmSync(path, { force: true })
        return result
      })
    const bare = () =>
      timed("bare node download", process.execPath, [BARE, file.id, path], variables).then((result) => {
        expectCount("bare node download", Fs.statSync(path).size, file.size)
        Fs.rmSync(path, { force: true })
        return result
      })
    const cli = () =>
      timed("cli download", process.execPath, [CLI, "download", file.id, "--out", path], variables).then((result) => {
        expectCount("cli download", Fs.statSync(path).size, file.size)
        Fs.rmSync(path, { force: true })
        return result
      })
    const [curls = [], bares = [], clis = []] = await rotate([curl, bare, cli])
    const curlWall = summarize(curls.map((r) => r.wall))
    const bareWall = summarize(bares.map((r) => r.wall))
    const cliWall = summarize(clis.map((r) => r.wall))
    const curlCpu = summarize(curls.map((r) => r.cpu))
    const bareCpu = summarize(bares.map((r) => r.cpu))
    const cliCpu = summarize(clis.map((r) => r.cpu))
    const curlRss = summarize(curls.map((r) => r.maxRssBytes))
    const bareRss = summarize(bares.map((r) => r.maxRssBytes))
    const cliRss = summarize(clis.map((r) => r.maxRssBytes))
    table.rows.push([
      `${human(file.size)}, whole process: bare Node (\`node bare.js\`: undici request → pipeline → createWriteStream) vs \`curl -o\`: the limit`,
      `curl: ${seconds(curlWall)}, CPU ${seconds(curlCpu)}, peak ${rss(curlRss)}`,
      `bare node: ${seconds(bareWall)}, CPU ${seconds(bareCpu)}, peak ${rss(bareRss)}`,
      ratio(bareWall.median / curlWall.median),
      "—"
    ])
    table.rows.push([
      `${human(file.size)}, whole process: \`batch-export download\` vs \`curl -o\` (and vs bare Node)`,
      `curl: ${seconds(curlWall)}; bare node: ${seconds(bareWall)}`,
      `CLI: ${seconds(cliWall)}, CPU ${seconds(cliCpu)}, peak ${rss(cliRss)}`,
      `${ratio(cliWall.median / curlWall.median)} curl; ${ratio(cliWall.median / bareWall.median)} bare node`,
      "≤ 1.2× curl"
    ])
  }
  const startUp = (label: string, argv: ReadonlyArray<string>) => () =>
    timed(label, process.execPath, argv, variables).then((result) => result.wall)
  const [bare = [], version = [], help = [], view = []] = await rotate([
    startUp("node -e 0", ["-e", "0"]),
    startUp("cli --version", [CLI, "--version"]),
    startUp("cli --help", [CLI, "--help"]),
    startUp("cli view", [CLI, "view", env.multi.exportId])
  ])
  const bareWall = summarize(bare)
  for (const [command, walls, target] of [
    ["--version", version, "≤ 0.4 s"],
    ["--help", help, "—"],
    [`view <export_id>`, view, "—"]
  ] as const) {
    const wall = summarize(walls)
    table.rows.push([
      `CLI start-up: \`batch-export ${command}\``,
      `bare \`node -e 0\`: ${seconds(bareWall)}`,
      seconds(wall),
      ratio(wall.median / bareWall.median),
      target
    ])
  }
  return table
}

const recordRates = async (env: Setup.Environment): Promise<Table> => {
  const table: Table = {
    title: "2. Records",
    note:
      `The ${human(env.records.ndjson.size)} NDJSON file, the same gzipped, and the same as a JSON array, through the ` +
      '307 to nginx. Reference: undici + `split("\\n")` + `JSON.parse` (no validation); validated: the same loop ' +
      "with the library's own `ProfileRecord` check on every value (core's `internal/profileRecord.js`), the limit " +
      "for a reader that validates; ours: `ProfileRecord`-validated records + `Stream.runCount`. Work time only (the " +
      "second three rows: after counting the smallest NDJSON file once in the same process); ratio = our " +
      "records/s ÷ the reference's, and ÷ the validated loop's; per round: that ratio taken within each round, " +
      "its median, and how many rounds reach the target.",
    header: ["format", "reference", "validated loop", "batch-export", "ratio", "per round", "÷ validated", "target"],
    rows: []
  }
  // first: the first read of a fresh process; steady: after counting the smallest (NDJSON) file once
  for (const [label, warmUp] of [
    ["", undefined],
    [`, after a ${human(env.small.size)} NDJSON warm-up`, env.small.id]
  ] as const) {
    for (const format of ["ndjson", "gzip", "array"] as const) {
      const file = env.records[format]
      const count = (impl: RecordsImpl) => () =>
        child({ kind: "records", impl, api: env.api, fileId: file.id, format, warmUp })
      const [reference = [], validated = [], ours = []] = await rotate([
        count("reference"),
        count("validated"),
        count("ours")
      ])
      const records = reference[0]?.count ?? 0
      if (records <= 0) throw new Error(`records ${format}: no records`)
      for (const result of [...reference, ...validated, ...ours]) {
        expectCount(`records ${format}`, result.count, records)
      }
      const ref = summarize(reference.map((r) => r.seconds))
      const check = summarize(validated.map((r) => r.seconds))
      const our = summarize(ours.map((r) => r.seconds))
      const rate = (s: Summary) => `${fixed(records / s.median / 1000, 0)}k records/s`
      table.rows.push([
        `${format} (${human(file.size)}, ${records} records)${label}`,
        `${seconds(ref)}, ${rate(ref)}`,
        `${seconds(check)}, ${rate(check)} (${fixed(ref.median / check.median, 2)}× the reference)`,
        `${seconds(our)}, ${rate(our)}`,
        ratio(ref.median / our.median),
        perRound(
          reference.map((r) => r.seconds),
          ours.map((r) => r.seconds),
          0.8
        ),
        ratio(check.median / our.median),
        "≥ 0.8×"
      ])
    }
  }
  return table
}

/** `downloadAll` (ours or the bare worker pool) into a fresh directory, checked to write every byte. */
const downloadAll = (env: Setup.Environment, impl: Impl, concurrency: number) => async () => {
  const total = env.multi.files.reduce((sum, file) => sum + file.size, 0)
  const directory = Fs.mkdtempSync(Path.join(env.scratch, "all-"))
  const result = await child({
    kind: "downloadAll",
    impl,
    api: env.api,
    exportId: env.multi.exportId,
    directory,
    concurrency
  })
  expectCount(`downloadAll ${impl} bytes`, result.count, total)
  Fs.rmSync(directory, { recursive: true, force: true })
  return result
}

const multiPart = async (env: Setup.Environment): Promise<Table> => {
  const total = env.multi.files.reduce((sum, file) => sum + file.size, 0)
  const table: Table = {
    title: "3. Multi-part export, storage throttled per connection",
    note:
      `${env.multi.files.length} × ${human(sizes.part)} (${human(total)}), nginx \`limit_rate\` ${fixed(sizes.rate / MiB, 0)} MiB/s ` +
      "per connection. Ideal = total ÷ (min(concurrency, parts) × rate); ratio = our time ÷ ideal (work time only). " +
      "Reference: a bare undici worker pool of the same concurrency, for what the machine allows.",
    header: ["concurrency", "ideal", "reference (bare pool)", "downloadAll", "ratio to ideal", "target"],
    rows: []
  }
  env.setThrottled(true)
  try {
    for (const concurrency of levels ?? (smoke ? [1, 4] : [1, 2, 4, 8])) {
      const ideal = total / (Math.min(concurrency, env.multi.files.length) * sizes.rate)
      const [reference, ours] = await alternate(
        downloadAll(env, "reference", concurrency),
        downloadAll(env, "ours", concurrency)
      )
      const ref = summarize(reference.map((r) => r.seconds))
      const our = summarize(ours.map((r) => r.seconds))
      table.rows.push([
        String(concurrency),
        `${fixed(ideal, 3)} s`,
        `${seconds(ref)} (${fixed(ref.median / ideal, 2)}× ideal)`,
        seconds(our),
        ratio(our.median / ideal),
        concurrency === 4 ? "≤ 1.15×" : "—"
      ])
    }
  } finally {
    env.setThrottled(false)
  }
  return table
}

const memory = async (env: Setup.Environment): Promise<Table> => {
  const table: Table = {
    title: "4. Memory (peak RSS)",
    note:
      "Each measurement in its own process (`process.resourceUsage().maxRSS` at the end). Reference: the bare undici " +
      "pipeline of benchmark 1 (the multi-part row: a bare pool of 4 of them). Flatness = our peak at the largest " +
      "download ÷ our peak at the smallest (the reference's own flatness beside it).",
    header: ["figure", "reference", "batch-export", "ratio", "target"],
    rows: []
  }
  const idle = async (what: "bare" | "effect" | "transport" | "library") => {
    const results: Array<Result> = []
    for (let round = 0; round < rounds; round++) results.push(await child({ kind: "idle", what }))
    return { rss: summarize(results.map((r) => r.maxRssBytes)), time: summarize(results.map((r) => r.seconds)) }
  }
  const bare = await idle("bare")
  const effect = await idle("effect")
  const transport = await idle("transport")
  const library = await idle("library")
  table.rows.push([
    "idle: import `@batch-export/node`",
    `bare node: ${rss(bare.rss)}; \`effect\` barrel alone: ${rss(effect.rss)}, import ${seconds(effect.time)}; ` +
      `\`@effect/platform-node/NodeHttpClient\` alone (the undici transport, the floor): ${rss(transport.rss)}`,
    `${rss(library.rss)}, import ${seconds(library.time)}`,
    ratio(library.rss.median / bare.rss.median),
    "≤ 90 MB"
  ])
  const peaks: Array<{ readonly size: number; readonly ours: number; readonly reference: number }> = []
  for (const file of smoke ? [env.small, env.large] : [env.small, env.medium, env.large]) {
    const path = Path.join(env.scratch, "memory.json")
    const download = (impl: Impl) => async () => {
      const result = await child({ kind: "download", impl, api: env.api, fileId: file.id, path })
      Fs.rmSync(path, { force: true })
      return result
    }
    const [reference, ours] = await alternate(download("reference"), download("ours"))
    const ref = summarize(reference.map((r) => r.maxRssBytes))
    const our = summarize(ours.map((r) => r.maxRssBytes))
    peaks.push({ size: file.size, ours: our.median, reference: ref.median })
    table.rows.push([
      `downloading ${human(file.size)} to disk`,
      rss(ref),
      `${rss(our)} (${mib(our.median - library.rss.median)} above idle)`,
      ratio(our.median / ref.median),
      "≤ idle + 64 MB"
    ])
  }
  const [refAll, oursAll] = await alternate(
    () => downloadAll(env, "reference", 4)().then((r) => r.maxRssBytes),
    () => downloadAll(env, "ours", 4)().then((r) => r.maxRssBytes)
  )
  const refAllRss = summarize(refAll)
  const ourAllRss = summarize(oursAll)
  table.rows.push([
    `downloadAll, ${env.multi.files.length} × ${human(sizes.part)}, concurrency 4`,
    rss(refAllRss),
    `${rss(ourAllRss)} (${mib(ourAllRss.median - library.rss.median)} above idle)`,
    ratio(ourAllRss.median / refAllRss.median),
    "≤ idle + 64 MB"
  ])
  const smallest = peaks[0]!
  const largest = peaks[peaks.length - 1]!
  table.rows.push([
    `flatness: peak at ${human(largest.size)} ÷ peak at ${human(smallest.size)}`,
    `${mib(largest.reference)} ÷ ${mib(smallest.reference)} = ${ratio(largest.reference / smallest.reference)}`,
    `${mib(largest.ours)} ÷ ${mib(smallest.ours)}`,
    ratio(largest.ours / smallest.ours),
    "≤ 1.25"
  ])
  return table
}

const apiOverhead = async (env: Setup.Environment): Promise<Table> => {
  const table: Table = {
    title: "5. API call overhead",
    note:
      `\`downloadLink\` vs a bare undici \`GET /exports/download\` reading the 307's Location, ${LINK_CALLS} calls in a ` +
      "row after 50 warm-up calls, against the emulated API. The platform floor is the same request through a bare " +
      "`@effect/platform-node` undici client (`NodeHttpClient.layerUndici`), the client the library decorates; " +
      "scoped, with `HttpClient.withScope` as the library uses it (each request aborted when its call ends). " +
      "Ratios = time per call ÷ bare undici's, and ÷ the platform floor's.",
    header: ["figure", "time per call", "÷ bare undici", "÷ platform floor", "target"],
    rows: []
  }
  const links = (impl: LinkImpl) => () =>
    child({ kind: "link", impl, api: env.api, fileId: env.small.id, calls: LINK_CALLS })
  const impls: ReadonlyArray<readonly [LinkImpl, string, string]> = [
    ["reference", "bare undici `request`", "—"],
    ["platform", "platform floor", "—"],
    ["platformScoped", "platform floor, scoped", "—"],
    ["ours", "batch-export `downloadLink`", "≤ 1.3× bare undici"]
  ]
  const samples = await rotate(impls.map(([impl]) => links(impl)))
  const perCall = (results: ReadonlyArray<Result>) => summarize(results.map((r) => (r.seconds / r.count) * 1e6))
  const summaries = samples.map(perCall)
  const us = (s: Summary) => `${fixed(s.median, 0)} µs (${fixed(s.min, 0)}–${fixed(s.max, 0)})`
  const bare = summaries[0]!.median
  const floor = summaries[1]!.median
  impls.forEach(([, label, target], index) => {
    const s = summaries[index]!
    table.rows.push([label, us(s), ratio(s.median / bare), ratio(s.median / floor), target])
  })
  return table
}

/** The sink's migrations on a database (outside any timing), through the built package. */
const migrate = async (database: SinkDatabase) => {
  const [{ sinkDatabase }, { Sink }, Effect] = await Promise.all([
    import("./adapter.js"),
    import("@batch-export/sync"),
    import("effect/Effect")
  ])
  await Effect.runPromise(Effect.provide(Effect.asVoid(Sink.migrate), sinkDatabase(database)))
}

/**
 * The rows ours stages, as COPY text (sync's own `rows.js` and `pgCopy.js`, from the built package by path), for
 * `psql \copy`: the Postgres limit loads the very rows ours does, with no parsing at all on its side.
 */
const copyFile = async (ndjson: string, to: string) => {
  const url = (module: string) => new URL(`../../../packages/sync/dist/src/internal/${module}`, import.meta.url).href
  const rows: unknown = await import(url("rows.js"))
  const copy: unknown = await import(url("pgCopy.js"))
  const isModule = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
  const profileRow = isModule(rows) ? rows["profileRow"] : undefined
  const staging = isModule(rows) ? rows["stagingColumns"] : undefined
  const columns = isModule(staging) ? staging["ATTRIBUTES"] : undefined
  const copyText = isModule(copy) ? copy["copyText"] : undefined
  if (typeof profileRow !== "function" || typeof copyText !== "function" || !Array.isArray(columns)) {
    throw new Error("sync's internals moved")
  }
  const lines = Fs.readFileSync(ndjson, "utf8")
    .split("\n")
    .filter((line) => line !== "")
  const out = Fs.openSync(to, "w")
  for (let i = 0; i < lines.length; i += 5000) {
    const batch = lines.slice(i, i + 5000).map((line, j) => {
      const mapped: unknown = profileRow(JSON.parse(line), "bench", "bench", 1, i + j + 1)
      if (!isModule(mapped) || !isModule(mapped["row"])) throw new Error(`line ${i + j + 1} does not map`)
      return mapped["row"]
    })
    Fs.writeSync(out, String(copyText(columns, batch)))
  }
  Fs.closeSync(out)
  return { records: lines.length, columns: columns.join(", ") }
}

const syncLoad = async (env: Setup.Environment): Promise<Table> => {
  const file = env.records.ndjson
  const table: Table = {
    title: "6. Sync: one part into a database",
    note:
      `The ${human(file.size)} NDJSON file as one ATTRIBUTES part: ours is \`Sink.loadPart\` of \`fileRecords\` ` +
      "(the sync workflow's load step: through the 307 to nginx, decoded, mapped, staged in one transaction; " +
      "Postgres by COPY FROM STDIN, SQLite by 500-row INSERTs). Limits: Postgres, `psql \\copy` of the same rows " +
      "(prepared as COPY text beforehand: no download, no parsing; its process start included); SQLite, a bare " +
      "loop reading the file from disk, `JSON.parse` and the sink's row mapping per line, one prepared INSERT, one " +
      "transaction (better-sqlite3). Same table, emptied before each run (outside the timing); Postgres 15 with its " +
      "default settings on a Unix socket. Ratio = our records/s ÷ the limit's; peak RSS of our process, and above " +
      "its own RSS once set up (client, sink and migrations built).",
    header: ["database", "limit", "batch-export", "ratio", "per round", "peak RSS", "target"],
    rows: []
  }
  const check = (label: string, got: number, expected: number) => expectCount(label, got, expected)
  const records = Fs.readFileSync(env.ndjsonPath, "utf8")
    .split("\n")
    .filter((l) => l !== "").length

  // SQLite: every run on a fresh copy of a migrated, empty file
  const template = Path.join(env.scratch, "sink-template.db")
  await migrate({ kind: "sqlite", filename: template })
  let n = 0
  const sqliteRun = (impl: Impl) => async () => {
    const filename = Path.join(env.scratch, `sink-${++n}.db`)
    Fs.copyFileSync(template, filename)
    const result = await child({
      kind: "sinkLoad",
      impl,
      api: env.api,
      fileId: file.id,
      ndjson: env.ndjsonPath,
      database: { kind: "sqlite", filename }
    })
    check(`sqlite ${impl}`, result.count, records)
    for (const suffix of ["", "-wal", "-shm"]) Fs.rmSync(`${filename}${suffix}`, { force: true })
    return result
  }
  const [bare, oursSqlite] = await alternate(sqliteRun("reference"), sqliteRun("ours"))
  table.rows.push(
    row(
      "SQLite",
      records,
      "bare loop",
      bare.map((r) => r.seconds),
      oursSqlite
    )
  )

  if (!Postgres.available() && process.env["CI"] !== "true") {
    table.rows.push(["Postgres", "Postgres 15 is not installed: skipped", "—", "—", "—", "—", "—"])
    return table
  }
  const server = Postgres.start()
  try {
    server.psql("postgres", "CREATE DATABASE bench")
    const database = { kind: "pg", socketDir: server.socketDir, port: server.port, database: "bench" } as const
    await migrate({ ...database, inserts: false })
    const copyText = Path.join(env.scratch, "rows.copy")
    const prepared = await copyFile(env.ndjsonPath, copyText)
    check("copy file", prepared.records, records)
    const empty = () => server.psql("bench", "TRUNCATE batch_profiles_staging, batch_parts", "CHECKPOINT")
    const staged = () => Number(server.psql("bench", "SELECT count(*) FROM batch_profiles_staging").trim())
    const psqlCopy = async () => {
      empty()
      const result = await timed("psql copy", Postgres.psqlPath, [
        ...server.connection("bench"),
        "-XAtq",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        `\\copy batch_profiles_staging (${prepared.columns}) FROM '${copyText}'`
      ])
      const count = staged()
      check("psql copy", count, records)
      return { seconds: result.wall, count, maxRssBytes: result.maxRssBytes }
    }
    const ours = (inserts: boolean) => async () => {
      empty()
      const result = await child({
        kind: "sinkLoad",
        impl: "ours",
        api: env.api,
        fileId: file.id,
        ndjson: env.ndjsonPath,
        database: { ...database, inserts }
      })
      check("postgres ours", result.count, records)
      check("postgres ours, staged", staged(), records)
      return result
    }
    const [copies = [], oursPg = [], oursInserts = []] = await rotate([psqlCopy, ours(false), ours(true)])
    table.rows.push(
      row(
        "Postgres 15",
        records,
        "`psql \\copy`",
        copies.map((r) => r.seconds),
        oursPg
      )
    )
    table.rows.push(
      row(
        "Postgres 15, multi-row INSERTs (no PgCopy)",
        records,
        "`psql \\copy`",
        copies.map((r) => r.seconds),
        oursInserts,
        "—"
      )
    )
  } finally {
    server.stop()
  }
  return table
}

/** One row of benchmark 6. */
const row = (
  database: string,
  records: number,
  limitName: string,
  limit: ReadonlyArray<number>,
  ours: ReadonlyArray<Result>,
  target = "≥ 0.7×; ≤ set-up + 128 MB"
): ReadonlyArray<string> => {
  const lim = summarize(limit)
  const our = summarize(ours.map((r) => r.seconds))
  const peak = summarize(ours.map((r) => r.maxRssBytes))
  const above = summarize(ours.map((r) => r.maxRssBytes - (r.setUpRssBytes ?? 0)))
  const rate = (s: Summary) => `${fixed(records / s.median / 1000, 0)}k records/s`
  return [
    `${database} (${records} records)`,
    `${limitName}: ${seconds(lim)}, ${rate(lim)}`,
    `${seconds(our)}, ${rate(our)}`,
    ratio(lim.median / our.median),
    perRound(
      limit,
      ours.map((r) => r.seconds),
      0.7
    ),
    `${rss(peak)}; ${mib(above.median)} above set-up`,
    target
  ]
}

// ---- benchmark 7: sync across runners

/** Benchmark 7's work (smoke: 2 projects): 12 projects × (ATTRIBUTES + EVENTS), parts at `rate` bytes/s per connection. */
// Projects are paced at 20 API requests/s (as the CLI's sync tests do): at Batch's 1/s, a project's 16 requests
// (2 × create, 4 looks, 3 links) would take 16 s whatever the runners, the floor of every round.
const scale: Cluster.Scale & { readonly rate: number } = smoke
  ? { projects: 2, partsPerExport: 2, bytesPerPart: 16 * 1024, pollsPerStatus: 0, requestsPerSecond: 20, rate: 4 * MiB }
  : {
      projects: 12,
      partsPerExport: 3,
      bytesPerPart: 1_000_000,
      pollsPerStatus: 1,
      requestsPerSecond: 20,
      rate: 256 * 1024
    }
/**
 * The rows: 1, 2, 3 runners loading 4 parts at once each (`runner --concurrency`, its default), then 1 runner
 * loading 12 at once (as many as 3 runners of 4): whether runners add anything but load slots.
 */
const SCALE_VARIANTS: ReadonlyArray<{ readonly runners: number; readonly loads: number }> = smoke
  ? // each path once (several runners, another --concurrency), within the smoke's minute
    [
      { runners: 1, loads: 4 },
      { runners: 3, loads: 4 },
      { runners: 1, loads: 12 }
    ]
  : [
      { runners: 1, loads: 4 },
      { runners: 2, loads: 4 },
      { runners: 3, loads: 4 },
      { runners: 1, loads: 12 }
    ]

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits until `runners` sessions hold the shard locks of the work group between them (advisory locks, one
 * session per runner): the runners joined one after another, and shards move to a newcomer in the seconds after it
 * registers. Timing starts on a settled cluster.
 */
const settled = async (server: Postgres.Server, runners: number, shards: number) => {
  let seen = ""
  for (let i = 0; i < 600; i++) {
    const held = server
      .psql("postgres", "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted GROUP BY pid")
      .split("\n")
      .filter((line) => line !== "")
      .map(Number)
    seen = held.join(", ")
    const total = held.reduce((sum, n) => sum + n, 0)
    if (held.length === runners && total === shards && Math.min(...held) >= shards / runners / 2) return
    await sleep(100)
  }
  throw new Error(`the shards did not settle on ${runners} runners within 60 s (locks held: ${seen})`)
}

interface ScaleRound {
  readonly runners: number
  readonly wall: number
  readonly clientCpu: number
  readonly rows: number
  readonly runnerCpu: ReadonlyArray<number>
  readonly ran: ReadonlyArray<number>
  readonly inFlight: number
  /** median seconds from an execution's `running` line to its end */
  readonly execution: number
  readonly connections: number
  readonly figures: ReturnType<typeof Cluster.databaseFigures>
}

const SHARDS = 300

/** One round on `runners` runners: a fresh database and fresh projects, then the timed `sync` client. */
const scaleRound =
  (server: Postgres.Server, nginxUrl: string, root: string, runners: number, loads: number) =>
  async (): Promise<ScaleRound> => {
    const database = `scale_${runners}_${Date.now()}`
    server.psql("postgres", `CREATE DATABASE ${database}`)
    const dir = Path.join(root, database)
    const projects = await Cluster.startProjects(scale, nginxUrl, dir)
    const started: Array<Cluster.Runner> = []
    try {
      const url = Cluster.urlOf(server, database)
      const common = ["--config", projects.config, "--database", url]
      // one after another: the first creates the tables, the others find them
      for (let i = 0; i < runners; i++) {
        started.push(
          await Cluster.startRunner(
            CLI,
            [...common, "--poll-interval", "1", "--concurrency", String(loads)],
            projects.env
          )
        )
      }
      await settled(server, runners, SHARDS)
      const connections = Cluster.sampleConnections(server, database)
      const start = process.hrtime.bigint()
      const report = Path.join(Os.tmpdir(), `batch-export-bench-time-${process.pid}`)
      const run = await exec(
        "/usr/bin/time",
        ["-o", report, "-f", "%U %S", process.execPath, CLI, "sync", ...common, "--json"],
        projects.env
      )
      const [user = NaN, system = NaN] = (Fs.readFileSync(report, "utf8").trim().split("\n").at(-1) ?? "")
        .split(" ")
        .map(Number)
      Fs.rmSync(report, { force: true })
      if (run.code !== 0) throw new Error(`sync on ${runners} runners failed (${run.code}):\n${run.stderr}`)
      const wall = Number(process.hrtime.bigint() - start) / 1e9
      const peak = await connections()
      const runnerCpu = started.map((runner) => runner.cpuSeconds())
      const codes = await Promise.all(started.splice(0).map(async (runner) => ({ runner, code: await runner.stop() })))
      for (const { code } of codes) expectCount("runner exit code after SIGTERM", code, 143)
      const stopped = codes.map(({ runner }) => runner)

      // every execution succeeded, every row landed once, no export was created twice, the runners ran them all
      const outcomes = run.stdout
        .trim()
        .split("\n")
        .map((line): unknown => JSON.parse(line))
      const executions = scale.projects * Cluster.definitions.length
      expectCount("sync outcomes", outcomes.length, executions)
      const succeeded = outcomes.filter(
        (o) => typeof o === "object" && o !== null && "outcome" in o && o.outcome === "success"
      ).length
      expectCount("successful executions", succeeded, executions)
      const figures = Cluster.databaseFigures(server, database)
      const created = await projects.created()
      for (const exports of created.exports) expectCount("exports created per project", exports, 2)
      expectCount("profile rows", figures.profiles, created.records.ATTRIBUTES)
      expectCount("event rows", figures.events, created.records.EVENTS)
      expectCount("successful run rows", figures.succeeded, executions)
      expectCount("records in the run rows", figures.records, figures.profiles + figures.events)
      const ran = Cluster.ranPerRunner(stopped)
      expectCount(
        "executions the runners ran",
        ran.reduce((sum, n) => sum + n, 0),
        executions
      )
      const result: ScaleRound = {
        runners,
        wall,
        clientCpu: user + system,
        rows: figures.profiles + figures.events,
        runnerCpu,
        ran,
        inFlight: Cluster.maxInFlight(stopped),
        execution: summarize(Cluster.executionSeconds(stopped)).median,
        connections: peak,
        figures
      }
      record(`sync scale ${runners} × ${loads}`, result)
      return result
    } finally {
      await Promise.all(started.map((runner) => runner.stop()))
      await projects.close()
      Fs.rmSync(dir, { recursive: true, force: true })
      // a failed round may leave sessions behind (a client still stopping): dropped with them, never masking the
      // round's own error
      try {
        server.psql("postgres", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
      } catch (error) {
        console.error(`could not drop ${database}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }

const syncScale = async (env: Setup.Environment): Promise<Table> => {
  const executions = scale.projects * Cluster.definitions.length
  const table: Table = {
    title: "7. Sync across runners",
    note:
      `${scale.projects} emulated projects × 2 definitions (ATTRIBUTES, EVENTS) = ${executions} executions, each ` +
      `export ${scale.partsPerExport} parts of ${human(scale.bytesPerPart)} through the 307 to nginx at ` +
      `${fixed(scale.rate / 1024, 0)} KiB/s per connection; the emulator moves one status per look ` +
      `(pollsPerStatus ${scale.pollsPerStatus}), runners look every second (\`--poll-interval 1\`). Each round: a fresh ` +
      "Postgres database, N `batch-export runner` processes (the CLI bundle) started one after another and their " +
      "shards settled, then `batch-export sync --json` timed from spawn to exit (a client: runners are up). Checked: " +
      "every execution succeeded, every row landed once (rows = the records of the emulators' files), one export " +
      "per definition created, the runners ran every execution. Speed-up = 1 runner's wall ÷ N runners' (per " +
      "round: within each round). Per execution: the database's committed transactions, rows written (inserted + " +
      "updated + deleted, `pg_stat_database`, from creation to the last runner's exit: set-up, idle polling and " +
      "shutdown included) and engine messages + replies (`cluster_messages`, `cluster_replies`), ÷ executions. CPU: " +
      "user + system seconds of each runner process (`/proc/<pid>/stat` just before its SIGTERM) and of the client " +
      "(`/usr/bin/time`). Most in flight: executions running at once across the runners; one execution: the median " +
      "time from an execution's `running` line to its `success` line (both from the runners' stderr).",
    header: [
      "runners",
      "wall (sync client)",
      "rows/s",
      "speed-up vs 1",
      "per round",
      "ran per runner; most in flight; one execution; peak connections",
      "per execution: transactions, rows written, engine messages",
      "CPU: runners (each), client",
      "target"
    ],
    rows: []
  }
  if (!Postgres.available() && process.env["CI"] !== "true") {
    table.rows.push(["—", "Postgres 15 is not installed: skipped", "—", "—", "—", "—", "—", "—", "—"])
    return table
  }
  const root = Path.join(env.scratch, "scale")
  Fs.mkdirSync(root, { recursive: true })
  const nginx = await Setup.startNginx(root, scale.rate)
  const server = Postgres.start()
  try {
    const results = await rotate(
      SCALE_VARIANTS.map(({ loads, runners }) => scaleRound(server, nginx.url, root, runners, loads))
    )
    const median = (values: ReadonlyArray<number>) => summarize(values).median
    SCALE_VARIANTS.forEach(({ loads, runners }, index) => {
      const rounds = results[index] ?? []
      // against one runner of the default concurrency
      const one = results[0] ?? []
      const wall = summarize(rounds.map((r) => r.wall))
      const rows = rounds[0]?.rows ?? 0
      const per = (pick: (r: ScaleRound) => number) => fixed(median(rounds.map(pick)) / executions, 0)
      const cpu = summarize(rounds.flatMap((r) => r.runnerCpu))
      table.rows.push([
        `${runners} × ${loads} loads${loads === 4 ? "" : " (`runner --concurrency " + String(loads) + "`)"}`,
        seconds(wall),
        `${fixed(rows / wall.median / 1000, 1)}k (${rows} rows)`,
        index === 0 ? "—" : ratio(median(one.map((r) => r.wall)) / wall.median),
        index === 0
          ? "—"
          : perRound(
              one.map((r) => r.wall),
              rounds.map((r) => r.wall),
              1.8
            ),
        `${rounds.map((r) => r.ran.join("+")).join(", ")}; ${median(rounds.map((r) => r.inFlight))}; ` +
          `${fixed(median(rounds.map((r) => r.execution)), 1)} s; ${median(rounds.map((r) => r.connections))}`,
        `${per((r) => r.figures.commits)}, ${per((r) => r.figures.inserted + r.figures.updated + r.figures.deleted)}, ` +
          `${per((r) => r.figures.messages + r.figures.replies)}`,
        `${seconds(cpu)}; ${fixed(median(rounds.map((r) => r.clientCpu)), 2)} s`,
        runners === 3 ? "≥ 1.8×" : "—"
      ])
    })
  } finally {
    server.stop()
    await nginx.stop()
  }
  return table
}

// ---- main

const machine = () => {
  const free = ChildProcess.spawnSync("free", ["-g"], { encoding: "utf8" }).stdout.trimEnd()
  return { nproc: Os.availableParallelism(), free, node: process.version, load: Os.loadavg() }
}

const main = async () => {
  if (!Fs.existsSync(CHILD) || !Fs.existsSync(CLI))
    throw new Error("build first: pnpm build (tsc -b and the CLI bundle)")
  checkSameUndici()
  const started = Date.now()
  const before = machine()
  const setupStart = Date.now()
  const env = await Setup.start(smoke ? "smoke" : "full", sizes)
  // Ctrl-C: stop nginx and the API, remove the outputs (the current child is in our process group and gets it too)
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void env.close().finally(() => process.exit(130)))
  }
  console.log(`data ready in ${((Date.now() - setupStart) / 1000).toFixed(1)} s (${env.nginxVersion})`)
  const tables: Array<Table> = []
  try {
    const benchmarks: ReadonlyArray<readonly [number, (env: Setup.Environment) => Promise<Table>]> = [
      [1, oneFile],
      [2, recordRates],
      [3, multiPart],
      [4, memory],
      [5, apiOverhead],
      [6, syncLoad],
      [7, syncScale]
    ]
    for (const [n, benchmark] of benchmarks) {
      if (!only.has(n)) continue
      const table = await benchmark(env)
      tables.push(table)
      // smoke sizes measure nothing: the tables (with their "misses") would only be noise in `pnpm check`
      console.log(
        smoke ? `benchmark ${n}: ran, checks passed (${table.title.replace(/^\d+\.\s*/, "")})` : render(table)
      )
    }
  } finally {
    await env.close()
  }
  const after = machine()
  const header = [
    `## Run ${name}${smoke ? " (smoke: tiny sizes, one round; numbers prove only that it runs)" : ""}`,
    "",
    `- machine: ${before.nproc} CPUs (\`nproc\`), node ${before.node}, ${env.nginxVersion}, ` +
      `load average ${before.load.map((l) => l.toFixed(2)).join(" ")} at start, ` +
      `${after.load.map((l) => l.toFixed(2)).join(" ")} at the end`,
    `- \`free -g\`:`,
    "",
    "```",
    before.free,
    "```",
    "",
    `- rounds: ${rounds} (alternating), duration ${((Date.now() - started) / 1000).toFixed(0)} s`,
    `- command: \`node bench/dist/src/main.js ${args.join(" ")}\``,
    ""
  ].join("\n")
  const report = [header, ...tables.map(render)].join("\n")
  // a smoke run proves nothing worth keeping: out of the repository's tracked files
  const dir = Path.join(REPO, smoke ? ".tmp" : "bench/results")
  Fs.mkdirSync(dir, { recursive: true })
  Fs.writeFileSync(Path.join(dir, `${name}.md`), report)
  Fs.writeFileSync(Path.join(dir, `${name}.json`), JSON.stringify({ machine: { before, after }, samples }, null, 2))
  console.log(`\nwritten: ${Path.relative(REPO, Path.join(dir, name))}.md and .json`)
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error))
  process.exit(1)
})
