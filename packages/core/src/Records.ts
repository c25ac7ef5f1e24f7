/**
 * Export files as typed records: bytes in, one value per record out, in constant memory.
 *
 * Batch calls its export files "JSON files" without saying more. This module sniffs the layout instead of
 * assuming one: gzip (by its magic bytes) is decompressed first; then either a single JSON array or a
 * sequence of values (NDJSON, blank lines, CRLF and a last line without newline included).
 *
 * Bounded whatever the input: a record may hold at most `maxRecordBytes` (16 MiB by default), nest at most
 * 512 levels, and gzip may inflate to at most `maxDecompressedBytes`; past any bound the stream fails with a
 * `RecordDecodeError` naming it, having buffered no more than the bound plus one chunk.
 *
 * @since 0.1.0
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { dual } from "effect/Function"
import * as Gzip from "./Gzip.js"
import { isProfileRecord } from "./internal/profileRecord.js"
import { type Accept, type Failure, RecordScanner } from "./internal/records.js"

/**
 * A record that could not be read: where (part, 1-based line) and why.
 *
 * @since 0.1.0
 * @category errors
 */
export class RecordDecodeError extends Schema.TaggedError<RecordDecodeError>()("RecordDecodeError", {
  part: Schema.optional(Schema.Number),
  line: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    const where = this.part === undefined ? `line ${this.line}` : `part ${this.part}, line ${this.line}`
    return `malformed record at ${where}: ${this.detail}`
  }
}

/**
 * A profile record of an ATTRIBUTES export: identifiers and attributes, both open (custom attributes
 * are the user's own). Unknown top-level keys are kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProfileRecord = Schema.Struct(
  {
    identifiers: Schema.optional(
      Schema.Struct(
        {
          custom_id: Schema.optional(Schema.NullOr(Schema.String)),
          installation_ids: Schema.optional(Schema.Array(Schema.String))
        },
        Schema.Record({ key: Schema.String, value: Schema.Unknown })
      )
    ),
    attributes: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category schemas
 */
export type ProfileRecord = typeof ProfileRecord.Type

/**
 * The default bound on one record's size: 16 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxRecordBytes = 16 * 1024 * 1024

/**
 * How deeply a record may nest arrays and objects. Deeper input fails as a `RecordDecodeError` instead of
 * risking a stack overflow in later steps (schemas, error formatting).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxDepth = 512

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends Gzip.Options {
  /** The part number, named in errors. */
  readonly part?: number | undefined
  /** Fail when one record is larger than this many bytes (default {@link defaultMaxRecordBytes}). */
  readonly maxRecordBytes?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DecodeOptions<A = ProfileRecord, I = unknown> extends Options {
  /** The record schema (default {@link ProfileRecord}). */
  readonly schema?: Schema.Schema<A, I, never> | undefined
}

const isStream = (u: unknown): u is Stream.Stream<unknown, unknown, unknown> =>
  Predicate.hasProperty(u, Stream.StreamTypeId)

/** Marks upstream failures so that they pass the gzip step unchanged, whatever their type. */
class Upstream<E> {
  readonly _tag = "Upstream"
  constructor(readonly error: E) {}
}

const recordError = (options: Options | undefined, line: number, detail: string) =>
  new RecordDecodeError({ ...(options?.part === undefined ? {} : { part: options.part }), line, detail })

/**
 * Decompresses when the stream starts with gzip's magic bytes; passes anything else through.
 *
 * @deprecated Use `Gzip.gunzipIfNeeded`, whose errors say what failed; this one reports them as a
 * `RecordDecodeError` at line 0.
 * @since 0.1.0
 * @category decoding
 */
export const gunzipIfNeeded = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options?: Options
): Stream.Stream<Uint8Array, E | RecordDecodeError, R> =>
  bytes.pipe(
    Stream.mapError((error) => new Upstream(error)),
    Gzip.gunzipIfNeeded(options),
    Stream.mapError((error) => (error._tag === "Upstream" ? error.error : recordError(options, 0, error.message)))
  )

/** Runs the scanner over the (inflated) bytes: one chunk of records out per chunk of bytes in. */
const records = <A, E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  accept: Accept<A>,
  options: Options | undefined
): Stream.Stream<A, E | RecordDecodeError, R> => {
  const channel = Channel.suspend(() => {
    const scanner = new RecordScanner({
      accept,
      maxRecordBytes: options?.maxRecordBytes ?? defaultMaxRecordBytes,
      maxDepth
    })
    type Out = Channel.Channel<
      Chunk.Chunk<A>,
      Chunk.Chunk<Uint8Array>,
      E | RecordDecodeError,
      E | RecordDecodeError,
      unknown,
      unknown
    >
    /** Records completed so far, then the failure if there is one: good records before a bad one still flow. */
    const flush = (failure: Failure | undefined, next: () => Out): Out => {
      const out = scanner.out
      scanner.out = []
      const rest = failure === undefined ? next() : Channel.fail(recordError(options, failure.line, failure.detail))
      return out.length === 0 ? rest : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), rest)
    }
    const loop: Out = Channel.readWithCause({
      onInput: (input: Chunk.Chunk<Uint8Array>) => {
        let failure: Failure | undefined
        for (const chunk of input) {
          failure = scanner.push(chunk)
          if (failure !== undefined) break
        }
        return flush(failure, () => loop)
      },
      onFailure: Channel.failCause,
      onDone: () => flush(scanner.end(), () => Channel.void)
    })
    return loop
  })
  return Stream.pipeThroughChannel(gunzipIfNeeded(bytes, options), channel)
}

const keep: Accept<unknown> = (value, out) => {
  out.push(value)
  return undefined
}

/** Schema errors are formatted once, at the failing record, and kept short. */
const schemaAccept = <A, I>(schema: Schema.Schema<A, I, never>): Accept<A> => {
  const decodeEither = ParseResult.decodeUnknownEither(schema)
  return (value, out) => {
    try {
      const result = decodeEither(value)
      if (Either.isRight(result)) {
        out.push(result.right)
        return undefined
      }
      const text = ParseResult.TreeFormatter.formatIssueSync(result.left)
      return text.length > 2000 ? `${text.slice(0, 2000)}…` : text
    } catch (error) {
      // a recursive user schema on a deep value, say: still a record error, never a defect
      return `the record could not be checked: ${error instanceof Error ? error.message : String(error)}`
    }
  }
}

const profileViaSchema = schemaAccept(ProfileRecord)
/** The hand-written check first (see internal/profileRecord.ts); the schema decides and explains otherwise. */
const profileAccept: Accept<ProfileRecord> = (value, out) => {
  if (isProfileRecord(value)) {
    out.push(value)
    return undefined
  }
  return profileViaSchema(value, out)
}

/**
 * Splits (possibly gzipped) bytes into parsed JSON values, one per record.
 *
 * @example
 * ```ts
 * import { Records } from "@batch-export/core"
 * import { Effect, Stream } from "effect"
 *
 * // an export file's bytes, as they arrive (NDJSON here; a JSON array or gzip are recognised too)
 * const bytes = Stream.make(new TextEncoder().encode('{"identifiers":{"custom_id":"a"}}\n{"identifiers":{}}\n'))
 *
 * Effect.runPromise(Stream.runCount(Records.values(bytes))).then((count) => console.log(count)) // 2
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const values: {
  (options?: Options): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<unknown, E | RecordDecodeError, R>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: Options): Stream.Stream<unknown, E | RecordDecodeError, R>
} = dual(
  (args) => isStream(args[0]),
  <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: Options): Stream.Stream<unknown, E | RecordDecodeError, R> =>
    records(self, keep, options)
)

/**
 * Decodes every record with `schema` (`ProfileRecord` by default); a record the schema rejects fails with
 * the line it starts on. Data-first or pipeable: `Records.decode(bytes)` or `bytes.pipe(Records.decode())`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode: {
  <A = ProfileRecord, I = unknown>(
    options?: DecodeOptions<A, I>
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<A, E | RecordDecodeError, R>
  <E, R, A = ProfileRecord, I = unknown>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: DecodeOptions<A, I>
  ): Stream.Stream<A, E | RecordDecodeError, R>
} = dual(
  (args) => isStream(args[0]),
  <E, R, A, I>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: DecodeOptions<A, I>
  ): Stream.Stream<A | ProfileRecord, E | RecordDecodeError, R> => {
    const schema = options?.schema
    // ProfileRecord, whether defaulted or passed explicitly, takes the hand-written check
    return schema === undefined || schema === ProfileRecord
      ? records(self, profileAccept, options)
      : records(self, schemaAccept(schema), options)
  }
)
