/**
 * The sync configuration file: a JSON document naming the database, the Batch projects (each with the name of
 * the environment variable holding its REST key, never the key) and the export definitions each project runs.
 * See the package README for a full example.
 *
 * Loading it ({@link load}) decodes it strictly (an unknown field is an error), checks every cron, reads each
 * project's REST key from the environment, and fails with one {@link SyncConfigError} whose message is one line
 * naming the file, the JSON path and the field: `sync.json: projects[1].restKeyEnv: missing`. Nothing else runs
 * before it succeeded, so a bad file starts nothing and creates no database.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Cron from "effect/Cron"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * The schedule of a definition without one: every day at 00:00 UTC.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSchedule = "0 0 * * *"

/**
 * How far back the first run of an EVENTS or REACHABILITY definition looks when it names no `lookBackDays`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLookBackDays = 7

/**
 * Batch keeps 90 days of events and reachability history.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxLookBackDays = 90

/**
 * The pace of a project's Batch API requests when its configuration names none: 1 request per second, the
 * per-project limit Batch is reported to apply (third-party notes; Batch documents no number for the export
 * endpoints). Storage downloads are not counted.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRequestsPerSecond = 1

const Name = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    message: () => "a name of letters, digits, '_', '.' or '-' (at most 64), starting with a letter or digit"
  })
)

const Names = Schema.NonEmptyArray(Schema.NonEmptyString)

const CronText = Schema.String.pipe(
  Schema.filter(
    (text) =>
      Either.match(Cron.parse(text), {
        onLeft: (error) => `not a cron (${error.message}): ${JSON.stringify(text)}`,
        onRight: () => true
      }),
    // for property tests: random text is seldom a cron
    { arbitrary: () => (fc) => fc.constantFrom("0 0 * * *", "*/5 * * * *", "0 2 * * 1-5", "*/10 * * * * *") }
  )
)

const EnvName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: () => "the name of an environment variable" })
)

const common = {
  name: Name,
  identifiers: Schema.optional(Names),
  segment: Schema.optional(Schema.NonEmptyString),
  /** A cron (5 fields, or 6 with seconds first), in UTC. Default {@link defaultSchedule}. */
  schedule: Schema.optional(CronText)
}

const LookBackDays = Schema.Int.pipe(
  Schema.between(1, maxLookBackDays, {
    message: () => `whole days from 1 to ${maxLookBackDays} (Batch keeps ${maxLookBackDays} days of history)`
  })
)

/**
 * One export definition: what to export and when.
 *
 * @since 0.1.0
 * @category models
 */
export const Definition = Schema.Union(
  Schema.Struct({
    ...common,
    type: Schema.Literal("ATTRIBUTES"),
    attributes: Schema.optional(Names)
  }).pipe(
    Schema.filter(
      (definition) =>
        definition.attributes !== undefined ||
        definition.identifiers !== undefined || {
          path: ["attributes"],
          message: "an ATTRIBUTES export needs attributes or identifiers"
        }
    )
  ),
  Schema.Struct({
    ...common,
    type: Schema.Literal("EVENTS"),
    events: Schema.optional(Names),
    lookBackDays: Schema.optional(LookBackDays)
  }),
  Schema.Struct({ ...common, type: Schema.Literal("REACHABILITY"), lookBackDays: Schema.optional(LookBackDays) })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Definition = typeof Definition.Type

const RequestsPerSecond = Schema.Number.pipe(
  Schema.filter((n) => (Number.isFinite(n) && n > 0) || "a positive number of requests per second, e.g. 0.5 or 10", {
    // 1 ms apart at the most: a pace finer than that is no pace
    arbitrary: () => (fc) => fc.double({ min: 0.001, max: 1000, noNaN: true })
  })
)

const Project = Schema.Struct({
  name: Name,
  projectKey: Schema.NonEmptyString,
  /** The environment variable holding the project's REST API key. */
  restKeyEnv: EnvName,
  /** The API's base URL (default Batch's): for an emulator or a test. */
  api: Schema.optional(Schema.String.pipe(Schema.pattern(/^https?:\/\/\S+$/, { message: () => "an http(s) URL" }))),
  /**
   * The most Batch API requests of this project started per second across the whole cluster (spaced, no
   * burst). Default {@link defaultRequestsPerSecond}.
   */
  requestsPerSecond: Schema.optional(RequestsPerSecond),
  /** The names of the definitions this project runs. */
  exports: Schema.NonEmptyArray(Name)
})

// the object first: a wrong `{ "env": … }` is then reported inside it (database.env), not as "expected string"
const DatabaseField = Schema.Union(
  Schema.Struct({ env: EnvName }).annotations({ identifier: '{ "env": NAME }' }),
  Schema.NonEmptyString
)

/**
 * The file, as written.
 *
 * @since 0.1.0
 * @category models
 */
export const File = Schema.Struct({
  /** A SQLite file (relative to the config file), a `postgres://` URL, or `{ "env": NAME }` for a URL. */
  database: Schema.optional(DatabaseField),
  projects: Schema.NonEmptyArray(Project),
  exports: Schema.NonEmptyArray(Definition)
})

/**
 * @since 0.1.0
 * @category models
 */
export type File = typeof File.Type

/**
 * Where the sync keeps its tables.
 *
 * @since 0.1.0
 * @category models
 */
export type DatabaseLocation =
  | { readonly _tag: "Sqlite"; readonly filename: string }
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted }

/**
 * A project as loaded: its REST key read from the environment (and `Redacted`).
 *
 * @since 0.1.0
 * @category models
 */
export interface LoadedProject {
  readonly name: string
  readonly projectKey: string
  readonly restApiKey: Redacted.Redacted
  readonly api: string | undefined
  /** The file's `requestsPerSecond`, or {@link defaultRequestsPerSecond}. */
  readonly requestsPerSecond: number
  readonly exports: ReadonlyArray<string>
}

/**
 * A loaded configuration. `definitions` holds each definition by name.
 *
 * @since 0.1.0
 * @category models
 */
export interface SyncConfig {
  readonly file: string
  readonly database: DatabaseLocation
  readonly projects: ReadonlyArray<LoadedProject>
  readonly definitions: ReadonlyMap<string, Definition>
}

/**
 * The configuration could not be used. `message` is one line: the file, then the JSON path (`projects[1].
 * restKeyEnv`), then what is wrong. It never holds a key.
 *
 * @since 0.1.0
 * @category errors
 */
export class SyncConfigError extends Schema.TaggedError<SyncConfigError>()("SyncConfigError", {
  file: Schema.String,
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.path === "" ? `${this.file}: ${this.detail}` : `${this.file}: ${this.path}: ${this.detail}`
  }
}

/** `["projects", 1, "restKeyEnv"]` as `projects[1].restKeyEnv`. */
const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (text, key) => (typeof key === "number" ? `${text}[${key}]` : text === "" ? String(key) : `${text}.${String(key)}`),
    ""
  )

/** Fields that would hold a key: refused with a message that says where the key goes instead. */
const keyFields = new Set(["restKey", "restApiKey", "apiKey", "key", "rest_api_key"])

/** The first issue of a decoding failure, as one line's path and detail. */
const firstIssue = (error: ParseResult.ParseError): { readonly path: string; readonly detail: string } => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const issue = issues[0]
  if (issue === undefined) return { path: "", detail: "invalid" }
  const last = issue.path[issue.path.length - 1]
  const path = formatPath(issue.path)
  if (issue._tag === "Missing") return { path, detail: "missing" }
  if (issue._tag === "Unexpected") {
    return typeof last === "string" && keyFields.has(last)
      ? {
          path,
          detail: "a REST key is never written in the file: put it in an environment variable named by restKeyEnv"
        }
      : { path, detail: "unknown field" }
  }
  // a union's message lists every member's: keep the first line
  return { path, detail: issue.message.split("\n")[0] ?? "invalid" }
}

const decodeFile = Schema.decodeUnknownEither(File, { onExcessProperty: "error", errors: "first" })

/**
 * Decodes the file's parsed JSON and checks what the schema cannot: unique names, definitions that exist.
 * `file` names the file in errors.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (file: string, json: unknown): Either.Either<File, SyncConfigError> =>
  decodeFile(json).pipe(
    Either.mapLeft((error) => new SyncConfigError({ file, ...firstIssue(error) })),
    Either.flatMap((decoded) => {
      const fail = (path: string, detail: string) => Either.left(new SyncConfigError({ file, path, detail }))
      const definitions = new Set<string>()
      for (const [i, definition] of decoded.exports.entries()) {
        if (definitions.has(definition.name)) return fail(`exports[${i}].name`, `${definition.name} is defined twice`)
        definitions.add(definition.name)
      }
      const projects = new Set<string>()
      for (const [i, project] of decoded.projects.entries()) {
        if (projects.has(project.name)) return fail(`projects[${i}].name`, `${project.name} is defined twice`)
        projects.add(project.name)
        for (const [j, name] of project.exports.entries()) {
          if (!definitions.has(name)) return fail(`projects[${i}].exports[${j}]`, `no export definition named ${name}`)
        }
      }
      return Either.right(decoded)
    })
  )

/** `JSON.parse`'s message without the excerpt of the text it quotes (`…"abc"… is not valid JSON`). */
const withoutExcerpt = (message: string): string =>
  message.replace(/,?\s*(\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, " is not valid JSON")

/**
 * "not set", naming the variable only when its name looks like one (upper case): a REST key pasted into
 * `restKeyEnv` by mistake also matches the pattern of a name, and must not be printed back.
 */
const unsetVariable = (name: string): string =>
  /^[A-Z_][A-Z0-9_]*$/.test(name)
    ? `environment variable ${name} is not set`
    : "the environment variable named there is not set (restKeyEnv holds a variable's name, never the key)"

const isPostgresUrl = (text: string) => /^postgres(ql)?:\/\//i.test(text)

/**
 * Where a `--database` value or the file's `database` string points: a `postgres://` URL, else a SQLite file
 * (relative to `base`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const databaseOf = (value: string, resolve: (path: string) => string): DatabaseLocation =>
  isPostgresUrl(value) ? { _tag: "Postgres", url: Redacted.make(value) } : { _tag: "Sqlite", filename: resolve(value) }

const readEnv = (name: string) =>
  Config.option(Config.redacted(name)).pipe(Effect.orElseSucceed(() => Option.none<Redacted.Redacted>()))

/** A Postgres URL kept in the environment variable `name`. */
const databaseFromEnv = (name: string, fail: (at: string, detail: string) => SyncConfigError) =>
  Effect.flatMap(
    readEnv(name),
    Option.match({
      onNone: () => Effect.fail(fail("database.env", `environment variable ${name} is not set`)),
      onSome: (url) =>
        isPostgresUrl(Redacted.value(url))
          ? Effect.succeed<DatabaseLocation>({ _tag: "Postgres", url })
          : Effect.fail(fail("database.env", `${name} must hold a postgres:// URL`))
    })
  )

/**
 * Reads, decodes and checks the file at `path`, reads each project's REST key (and a database URL given as
 * `{ "env": NAME }`) from the environment (the current `ConfigProvider`), and resolves a SQLite path against the
 * file's directory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (path: string): Effect.Effect<SyncConfig, SyncConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const file = paths.basename(path)
    const fail = (at: string, detail: string) => new SyncConfigError({ file, path: at, detail })
    const text = yield* fs
      .readFileString(path)
      .pipe(
        Effect.mapError((error) =>
          fail("", error._tag === "SystemError" && error.reason === "NotFound" ? "no such file" : "cannot be read")
        )
      )
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      // Node's message quotes the text around the error, which may be a key or a password pasted there
      catch: (error) => fail("", `not JSON (${error instanceof Error ? withoutExcerpt(error.message) : "unreadable"})`)
    })
    const decoded = yield* decode(file, json)
    const resolve = (relative: string) => paths.resolve(paths.dirname(path), relative)
    const database: DatabaseLocation =
      decoded.database === undefined
        ? databaseOf("./batch-export.db", resolve)
        : typeof decoded.database === "string"
          ? databaseOf(decoded.database, resolve)
          : yield* databaseFromEnv(decoded.database.env, fail)
    const projects: Array<LoadedProject> = []
    for (const [i, project] of decoded.projects.entries()) {
      const key = yield* readEnv(project.restKeyEnv)
      if (Option.isNone(key) || Redacted.value(key.value) === "") {
        return yield* fail(`projects[${i}].restKeyEnv`, unsetVariable(project.restKeyEnv))
      }
      projects.push({
        name: project.name,
        projectKey: project.projectKey,
        restApiKey: key.value,
        api: project.api,
        requestsPerSecond: project.requestsPerSecond ?? defaultRequestsPerSecond,
        exports: project.exports
      })
    }
    return {
      file,
      database,
      projects,
      definitions: new Map(decoded.exports.map((definition) => [definition.name, definition]))
    }
  })
