/**
 * What the orchestrator asks a child process to measure, and what the child reports back (one JSON line).
 *
 * @since 0.1.0
 */

/**
 * The emulated API and its credentials (the emulator's own fake ones).
 *
 * @since 0.1.0
 * @category models
 */
export interface Api {
  readonly url: string
  readonly restApiKey: string
  readonly projectKey: string
}

/**
 * @since 0.1.0
 * @category models
 */
export type Format = "ndjson" | "gzip" | "array"

/**
 * @since 0.1.0
 * @category models
 */
export type Impl = "ours" | "reference"

/**
 * Records also run the bare loop with the library's own `ProfileRecord` check on every value ("validated"): the
 * limit for a reader that validates, as the target asks of ours.
 *
 * @since 0.2.0
 * @category models
 */
export type RecordsImpl = Impl | "validated"

/**
 * Who asks for links in benchmark 5: also the platform floor, a bare `@effect/platform` client (alone, or with
 * `HttpClient.withScope` as ours must be to release every connection with its call).
 *
 * @since 0.1.0
 * @category models
 */
export type LinkImpl = Impl | "platform" | "platformScoped"

/**
 * One measurement, run in a fresh process so its peak RSS is its own.
 *
 * @since 0.1.0
 * @category models
 */
export type Spec =
  | {
      readonly kind: "download"
      readonly impl: Impl
      readonly api: Api
      readonly fileId: string
      readonly path: string
      /** a file downloaded once before the clock starts (steady state: code compiled, heap grown) */
      readonly warmUp?: string | undefined
    }
  | {
      readonly kind: "records"
      readonly impl: RecordsImpl
      readonly api: Api
      readonly fileId: string
      readonly format: Format
      /** an NDJSON file counted once before the clock starts (steady state) */
      readonly warmUp?: string | undefined
    }
  | {
      readonly kind: "downloadAll"
      readonly impl: Impl
      readonly api: Api
      readonly exportId: string
      readonly directory: string
      readonly concurrency: number
    }
  | {
      readonly kind: "link"
      readonly impl: LinkImpl
      readonly api: Api
      readonly fileId: string
      readonly calls: number
    }
  | {
      readonly kind: "sinkLoad"
      readonly impl: Impl
      readonly api: Api
      /** the part ours streams from storage */
      readonly fileId: string
      /** the same bytes on disk, which the bare SQLite loop reads */
      readonly ndjson: string
      readonly database: SinkDatabase
    }
  | { readonly kind: "idle"; readonly what: "bare" | "effect" | "transport" | "library" }

/**
 * Where benchmark 6 loads: a SQLite file (migrated already), or a Postgres database on a Unix socket.
 *
 * @since 0.1.0
 * @category models
 */
export type SinkDatabase =
  | { readonly kind: "sqlite"; readonly filename: string }
  | {
      readonly kind: "pg"
      readonly socketDir: string
      readonly port: number
      readonly database: string
      /** without `Database.PgCopy`: the sink's multi-row INSERTs, for comparison */
      readonly inserts: boolean
    }

/**
 * What a child prints: the work time (imports and set-up excluded), what it did, and its peak RSS.
 *
 * @since 0.1.0
 * @category models
 */
export interface Result {
  readonly seconds: number
  /** bytes written, records counted, calls made: whatever the kind counts */
  readonly count: number
  readonly maxRssBytes: number
  /** RSS once set up, before the work (benchmark 6: the process's idle) */
  readonly setUpRssBytes?: number | undefined
}
