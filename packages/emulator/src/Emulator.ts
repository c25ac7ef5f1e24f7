/**
 * A local, faithful emulator of Batch's export API (`/{version}/exports/*`, `/{version}/profiles/export`) plus a
 * separate storage origin serving the signed download links, over real sockets on 127.0.0.1.
 *
 * @since 0.1.0
 */
import type { ExportStatus } from "@batch-export/core"
import type { NoSuchElementException } from "effect/Cause"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { ServeError } from "@effect/platform/HttpServerError"
import type * as Dataset from "./Dataset.js"
import * as internal from "./internal/emulator.js"
import type * as Reply from "./Reply.js"

/**
 * Scripted replies for {@link Service.script}: `Emulator.Reply.status(429, { headers: { "retry-after": "7" } })`,
 * `Emulator.Reply.dropAfter(1000)`, `Emulator.Reply.stallAfter(0)`, and for the storage origin
 * `Emulator.Reply.wrongLength(n)`, `changedContent()`, `gzip()`, `noRange()`, `redirect(location, status?)`,
 * `storage({ gzip: true, dropAfter: 100 })`.
 *
 * @since 0.1.0
 */
export * as Reply from "./Reply.js"

/**
 * The running emulator.
 *
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@batch-export/emulator/Emulator")<Emulator, Service>() {}

/**
 * An export present when the emulator starts.
 *
 * @since 0.1.0
 * @category models
 */
export interface SeedExport {
  /** default `"SUCCESS"`; seeded exports keep this status (only exports created through the API progress) */
  readonly status?: ExportStatus.KnownStatus | undefined
  /** number of files (ignored for `"ERROR"`, which has none) */
  readonly parts: number
  /** default 200 */
  readonly recordsPerPart?: number | undefined
  /**
   * alternative to `recordsPerPart`: each file gets records until it is at least this many bytes long; files past
   * `Dataset.maxBlockBytes` repeat their first block and are streamed, never held whole (see `Dataset.Part`)
   */
  readonly bytesPerPart?: number | undefined
  /** default `"ATTRIBUTES"` */
  readonly exportType?: Dataset.ExportType | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** default `"emulator_rest_key_0000000000000000"` */
  readonly restApiKey?: string | undefined
  /** default `"project_emulator0000000000000000000000"` */
  readonly projectKey?: string | undefined
  /** default 1; every id and every byte generated is a function of it */
  readonly seed?: number | undefined
  /** default: one SUCCESS ATTRIBUTES export with 2 parts of 200 records each */
  readonly exports?: ReadonlyArray<SeedExport> | undefined
  /** default 0 (a free port) */
  readonly apiPort?: number | undefined
  /** default 0 (a free port) */
  readonly storagePort?: number | undefined
  /** lifetime of the signed links, default `"20 minutes"` */
  readonly linkTtl?: Duration.DurationInput | undefined
  /**
   * Exports created through the API report CREATED, PENDING, RUNNING, then SUCCESS (or ERROR), moving one step
   * every `pollsPerStatus` calls to `/exports/view`: with 1, the 1st view says CREATED and the 4th SUCCESS. 0 makes
   * them SUCCESS at the first view. Default 1.
   */
  readonly pollsPerStatus?: number | undefined
  /** records in each file of exports created through the API, default 100 */
  readonly recordsPerPart?: number | undefined
  /** files of exports created through the API, default 2 */
  readonly partsPerExport?: number | undefined
  /** when set, files of exports created through the API are this many bytes long (at least), as `SeedExport.bytesPerPart` */
  readonly bytesPerPart?: number | undefined
  /**
   * The storage origin answers 400 `InvalidArgument` when a request carries an `Authorization` header (like S3 with
   * a pre-signed URL), so a client leaking its API key is caught loudly. Default `true`.
   */
  readonly storageRejectsAuthorization?: boolean | undefined
  /**
   * Where `/exports/download` sends the client: when set, its 307 carries `Location: location(file, expires)` instead
   * of the emulator's own signed storage link, e.g. to put a real nginx behind the emulated API. `expires` is the
   * link's end of validity in unix seconds (now + `linkTtl`, on the `Clock`). The storage origin keeps running.
   */
  readonly location?:
    | ((file: { readonly id: string; readonly exportId: string; readonly part: number }, expires: number) => string)
    | undefined
}

/**
 * One file of an export, as the emulator knows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileInfo {
  readonly id: string
  /** 1-based */
  readonly part: number
  /** bytes */
  readonly size: number
}

/**
 * An export, as the emulator knows it (files are listed whatever the status, so tests can try to download them).
 *
 * @since 0.1.0
 * @category models
 */
export interface ExportInfo {
  readonly id: string
  readonly status: ExportStatus.KnownStatus
  readonly exportType: Dataset.ExportType
  readonly files: ReadonlyArray<FileInfo>
}

/**
 * The emulated routes a reply can be scripted for. `"storage"` is every request to the storage origin.
 *
 * @since 0.1.0
 * @category models
 */
export type Route = "download" | "view" | "list" | "create" | "storage"

/**
 * A request either origin received.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly origin: "api" | "storage"
  readonly method: string
  /** without the query string */
  readonly path: string
  /** first value of each parameter */
  readonly query: Readonly<Record<string, string>>
  /** lower-case names; repeated headers joined with ", " */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** e.g. `http://127.0.0.1:41234`, without a version: clients append `/2.10/exports/download` */
  readonly apiUrl: string
  /** e.g. `http://127.0.0.1:41235` */
  readonly storageUrl: string
  readonly restApiKey: string
  readonly projectKey: string
  readonly exports: Effect.Effect<ReadonlyArray<ExportInfo>>
  /**
   * The exact bytes the storage origin serves for this file, or with `changed` those it serves under
   * `Reply.changedContent()` (deterministic, with their own strong `ETag`). A file past `Dataset.maxBlockBytes` is
   * materialized whole here (the storage origin streams it).
   */
  readonly fileBytes: (
    fileId: string,
    options?: { readonly changed?: boolean | undefined }
  ) => Effect.Effect<Uint8Array, NoSuchElementException>
  /**
   * Queues replies for `route` (FIFO). Each call to that route consumes one reply, before any other check
   * (authentication included); once the queue is empty the normal behaviour resumes. On the storage origin, requests
   * to `/redirected/…` (see `Reply.redirect`) consume none.
   */
  readonly script: (route: Route, ...replies: ReadonlyArray<Reply.Reply>) => Effect.Effect<void>
  /** every request both origins received, in arrival order */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly clearRequests: Effect.Effect<void>
  /** TCP connections currently open on each origin */
  readonly openConnections: Effect.Effect<{ readonly api: number; readonly storage: number }>
}

/**
 * Starts both origins on 127.0.0.1; they stop when the scope closes (open connections are destroyed).
 *
 * @example
 * ```ts
 * import { Emulator } from "@batch-export/emulator"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function* () {
 *   const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 2 }] })
 *   const exports = yield* emulator.exports
 *   // point a client at it: BATCH_API_URL, BATCH_REST_API_KEY and BATCH_PROJECT_KEY
 *   console.log(emulator.apiUrl, emulator.restApiKey, emulator.projectKey, exports[0]?.files.length)
 * })
 *
 * // the emulator stops when the scope closes
 * Effect.runPromise(Effect.scoped(program))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Service, ServeError, Scope.Scope> = internal.make

/**
 * The emulator as a scoped layer. A failure to listen (e.g. a fixed port already in use) is a defect.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<Emulator> =>
  Layer.orDie(Layer.scoped(Emulator, internal.make(options)))

/**
 * The default REST API key.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRestApiKey: string = internal.defaultRestApiKey

/**
 * The default project key.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultProjectKey: string = internal.defaultProjectKey
