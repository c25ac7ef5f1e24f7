/**
 * One measurement in its own process: `node bench/dist/src/child.js '<Spec as JSON>'`. Prints one JSON `Result`
 * line. Imports and set-up happen before the clock starts; the reference never loads Effect or the library.
 *
 * @since 0.1.0
 */
import type { Api, Format, Impl, LinkImpl, RecordsImpl, Result, SinkDatabase, Spec } from "./spec.js"

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

const field = (value: Record<string, unknown>, name: string): Record<string, unknown> => {
  const inner = value[name]
  if (!isRecord(inner)) throw new Error(`spec.${name}: expected an object`)
  return inner
}

const text = (value: Record<string, unknown>, name: string): string => {
  const inner = value[name]
  if (typeof inner !== "string") throw new Error(`spec.${name}: expected a string`)
  return inner
}

const int = (value: Record<string, unknown>, name: string): number => {
  const inner = value[name]
  if (typeof inner !== "number" || !Number.isInteger(inner)) throw new Error(`spec.${name}: expected an integer`)
  return inner
}

const oneOf = <A extends string>(value: Record<string, unknown>, name: string, choices: ReadonlyArray<A>): A => {
  const inner = text(value, name)
  const found = choices.find((choice) => choice === inner)
  if (found === undefined) throw new Error(`spec.${name}: expected one of ${choices.join(", ")}`)
  return found
}

/** Hand-rolled, so that a reference process loads nothing but undici. */
const parseSpec = (json: string): Spec => {
  const raw: unknown = JSON.parse(json)
  if (!isRecord(raw)) throw new Error("spec: expected an object")
  const kind = oneOf(raw, "kind", ["download", "records", "downloadAll", "link", "sinkLoad", "idle"])
  if (kind === "idle") return { kind, what: oneOf(raw, "what", ["bare", "effect", "transport", "library"]) }
  const api: Api = {
    url: text(field(raw, "api"), "url"),
    restApiKey: text(field(raw, "api"), "restApiKey"),
    projectKey: text(field(raw, "api"), "projectKey")
  }
  const impl = (): Impl => oneOf<Impl>(raw, "impl", ["ours", "reference"])
  if (kind === "downloadAll") {
    return {
      kind,
      impl: impl(),
      api,
      exportId: text(raw, "exportId"),
      directory: text(raw, "directory"),
      concurrency: int(raw, "concurrency")
    }
  }
  const fileId = text(raw, "fileId")
  switch (kind) {
    case "sinkLoad": {
      const database = field(raw, "database")
      const where: SinkDatabase =
        oneOf(database, "kind", ["sqlite", "pg"]) === "sqlite"
          ? { kind: "sqlite", filename: text(database, "filename") }
          : {
              kind: "pg",
              socketDir: text(database, "socketDir"),
              port: int(database, "port"),
              database: text(database, "database"),
              inserts: database["inserts"] === true
            }
      return { kind, impl: impl(), api, fileId, ndjson: text(raw, "ndjson"), database: where }
    }
    case "download":
      return {
        kind,
        impl: impl(),
        api,
        fileId,
        path: text(raw, "path"),
        warmUp: raw["warmUp"] === undefined ? undefined : text(raw, "warmUp")
      }
    case "records":
      return {
        kind,
        impl: oneOf<RecordsImpl>(raw, "impl", ["ours", "reference", "validated"]),
        api,
        fileId,
        format: oneOf<Format>(raw, "format", ["ndjson", "gzip", "array"]),
        warmUp: raw["warmUp"] === undefined ? undefined : text(raw, "warmUp")
      }
    case "link":
      return {
        kind,
        impl: oneOf<LinkImpl>(raw, "impl", ["ours", "reference", "platform", "platformScoped"]),
        api,
        fileId,
        calls: int(raw, "calls")
      }
  }
}

/** Times `work` after `setUp` has run (imports, layers, warm-up). */
const measure = async <S>(setUp: () => Promise<S>, work: (state: S) => Promise<number>): Promise<Result> => {
  const state = await setUp()
  const setUpRssBytes = process.memoryUsage.rss()
  const start = process.hrtime.bigint()
  const count = await work(state)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return { seconds, count, maxRssBytes: process.resourceUsage().maxRSS * 1024, setUpRssBytes }
}

// loaded on demand: an idle measurement of bare node loads neither undici nor the library
const reference = () => import("./reference.js")

const library = async (api: Api) => (await import("./adapter.js")).make(api)

/**
 * The library's own `ProfileRecord` check (core's `internal/profileRecord.js`, which imports nothing at run time),
 * loaded from the built core by path: it is not a public export, and the bare loop must not load Effect.
 */
const profileCheck = async (): Promise<(value: unknown) => boolean> => {
  const module: unknown = await import(
    new URL("../../../packages/core/dist/src/internal/profileRecord.js", import.meta.url).href
  )
  if (!isRecord(module) || typeof module["isProfileRecord"] !== "function") {
    throw new Error("core's internal/profileRecord.js has no isProfileRecord")
  }
  const check: unknown = module["isProfileRecord"]
  return (value) => typeof check === "function" && check(value) === true
}

const WARM_UP_CALLS = 50

const run = async (spec: Spec): Promise<Result> => {
  switch (spec.kind) {
    case "idle": {
      // the work is the import itself
      const start = process.hrtime.bigint()
      if (spec.what === "effect") await import("effect")
      if (spec.what === "transport") await (await import("./transport.js")).importTransport()
      if (spec.what === "library") await (await import("./adapter.js")).importLibrary()
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      return { seconds, count: 1, maxRssBytes: process.resourceUsage().maxRSS * 1024 }
    }
    case "download": {
      const { warmUp } = spec
      const warm = `${spec.path}.warm-up`
      return spec.impl === "reference"
        ? measure(
            async () => {
              const ref = await reference()
              if (warmUp !== undefined) await ref.downloadToFile(spec.api, warmUp, warm)
              return ref
            },
            (ref) => ref.downloadToFile(spec.api, spec.fileId, spec.path)
          )
        : measure(
            async () => {
              const lib = await library(spec.api)
              if (warmUp !== undefined) await lib.downloadToFile(warmUp, warm)
              return lib
            },
            (lib) => lib.downloadToFile(spec.fileId, spec.path)
          )
    }
    case "records": {
      const { warmUp } = spec
      return spec.impl !== "ours"
        ? measure(
            async () => {
              const ref = await reference()
              const check = spec.impl === "validated" ? await profileCheck() : undefined
              if (warmUp !== undefined) await ref.countRecords(spec.api, warmUp, "ndjson", check)
              return { ref, check }
            },
            ({ check, ref }) => ref.countRecords(spec.api, spec.fileId, spec.format, check)
          )
        : measure(
            async () => {
              const lib = await library(spec.api)
              if (warmUp !== undefined) await lib.countRecords(warmUp)
              return lib
            },
            (lib) => lib.countRecords(spec.fileId)
          )
    }
    case "sinkLoad": {
      const { database } = spec
      if (spec.impl === "reference") {
        // the Postgres limit is `psql \copy`, run by the orchestrator; here, SQLite's
        if (database.kind !== "sqlite") throw new Error("sinkLoad reference: SQLite only")
        return measure(
          async () => (await import("./bareSqlite.js")).make(database.filename),
          (bare) => bare.load(spec.ndjson)
        )
      }
      return measure(
        async () => (await import("./adapter.js")).makeSink(spec.api, database),
        (sink) => sink.load(spec.fileId)
      )
    }
    case "downloadAll":
      return spec.impl === "reference"
        ? measure(reference, (ref) => ref.downloadAll(spec.api, spec.exportId, spec.directory, spec.concurrency))
        : measure(
            () => library(spec.api),
            (lib) => lib.downloadAll(spec.exportId, spec.directory, spec.concurrency)
          )
    case "link":
      if (spec.impl === "platform" || spec.impl === "platformScoped") {
        const scoped = spec.impl === "platformScoped"
        return measure(
          async () => {
            const floor = await (await import("./platform.js")).make(spec.api, scoped)
            await floor.links(spec.fileId, WARM_UP_CALLS)
            return floor
          },
          (floor) => floor.links(spec.fileId, spec.calls)
        )
      }
      return spec.impl === "reference"
        ? measure(
            async () => {
              const ref = await reference()
              for (let i = 0; i < WARM_UP_CALLS; i++) await ref.link(spec.api, spec.fileId)
              return ref
            },
            async (ref) => {
              for (let i = 0; i < spec.calls; i++) await ref.link(spec.api, spec.fileId)
              return spec.calls
            }
          )
        : measure(
            async () => {
              const lib = await library(spec.api)
              await lib.downloadLinks(spec.fileId, WARM_UP_CALLS)
              return lib
            },
            (lib) => lib.downloadLinks(spec.fileId, spec.calls)
          )
  }
}

const main = async () => {
  const json = process.argv[2]
  if (json === undefined) throw new Error("usage: child.js '<spec json>'")
  const result = await run(parseSpec(json))
  process.stdout.write(`${JSON.stringify(result)}\n`)
  // the library's runtime keeps no handle open, but an idle keep-alive socket may: leave now
  process.exit(0)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
