/**
 * Export files as typed records: bytes in, one value per record out, in constant memory.
 *
 * Batch calls its export files "JSON files" without saying more. This module sniffs the layout instead of
 * assuming one: gzip (by its magic bytes) is decompressed first; then either a single JSON array or a
 * sequence of values (NDJSON, blank lines, CRLF and a last line without newline included).
 *
 * @since 0.1.0
 */
import { Chunk, Effect, Either, Option, ParseResult, Schema, Stream } from "effect"
import { JsonSplitter, SplitError } from "./internal/jsonSplitter.js"

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
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The part number, named in errors. */
  readonly part?: number | undefined
}

const GZIP_MAGIC = [0x1f, 0x8b] as const

/**
 * Decompresses gzip when the stream starts with its magic bytes; passes anything else through.
 *
 * @since 0.1.0
 * @category decoding
 */
export const gunzipIfNeeded = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options?: Options
): Stream.Stream<Uint8Array, E | RecordDecodeError, R> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      // Stream.peel turns upstream failures into defects, so the head is pulled by hand.
      const pull = yield* Stream.toPull(bytes)
      const head: Array<Uint8Array> = []
      let seen = 0
      while (seen < GZIP_MAGIC.length) {
        const next = yield* Effect.either(pull)
        if (Either.isLeft(next)) {
          const before = Stream.fromIterable(head)
          return Option.match(next.left, {
            onNone: () => before,
            onSome: (error) => Stream.concat(before, Stream.fail(error))
          })
        }
        for (const chunk of next.right) {
          head.push(chunk)
          seen += chunk.length
        }
      }
      const all = Stream.concat(Stream.fromIterable(head), Stream.repeatEffectChunkOption(pull))
      const magic = head.flatMap((c) => Array.from(c.subarray(0, GZIP_MAGIC.length))).slice(0, GZIP_MAGIC.length)
      return magic[0] === GZIP_MAGIC[0] && magic[1] === GZIP_MAGIC[1] ? gunzip(all, options) : all
    })
  )

const gunzip = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options?: Options
): Stream.Stream<Uint8Array, E | RecordDecodeError, R> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      let upstream: Option.Option<E> = Option.none()
      const readable = yield* Stream.toReadableStreamEffect(
        bytes.pipe(Stream.tapError((e) => Effect.sync(() => void (upstream = Option.some(e)))))
      )
      return Stream.fromReadableStream({
        evaluate: () =>
          readable.pipeThrough(
            new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>
          ),
        onError: (cause): E | RecordDecodeError =>
          Option.getOrElse(
            upstream,
            (): E | RecordDecodeError =>
              new RecordDecodeError({
                ...(options?.part === undefined ? {} : { part: options.part }),
                line: 0,
                detail: `gzip: ${cause instanceof Error ? cause.message : String(cause)}`
              })
          )
      })
    })
  )

const located = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options?: Options
): Stream.Stream<{ readonly value: unknown; readonly line: number }, E | RecordDecodeError, R> =>
  Stream.suspend(() => {
    const splitter = new JsonSplitter()
    const fail = (error: unknown) =>
      new RecordDecodeError({
        ...(options?.part === undefined ? {} : { part: options.part }),
        line: error instanceof SplitError ? error.line : 0,
        detail: error instanceof SplitError ? error.detail : String(error)
      })
    type Located = { readonly value: unknown; readonly line: number }
    /** Every value up to the first failure, then that failure: good records before a bad one still flow. */
    const parse = (
      found: ReadonlyArray<{ readonly text: string; readonly line: number }>,
      failure?: RecordDecodeError
    ): Array<Either.Either<Located, RecordDecodeError>> => {
      const out: Array<Either.Either<Located, RecordDecodeError>> = []
      for (const { line, text } of found) {
        try {
          out.push(Either.right({ value: JSON.parse(text) as unknown, line }))
        } catch (error) {
          out.push(Either.left(fail(new SplitError(line, error instanceof Error ? error.message : String(error)))))
          return out
        }
      }
      if (failure !== undefined) out.push(Either.left(failure))
      return out
    }
    const guarded = (produce: () => ReadonlyArray<{ readonly text: string; readonly line: number }>) => {
      try {
        return parse(produce())
      } catch (error) {
        return parse(error instanceof SplitError ? error.before : [], fail(error))
      }
    }
    return gunzipIfNeeded(bytes, options).pipe(
      Stream.mapConcat((chunk) => guarded(() => splitter.push(chunk))),
      Stream.concat(Stream.suspend(() => Stream.fromIterable(guarded(() => splitter.end())))),
      Stream.mapEffect((step) => step)
    )
  })

/**
 * Splits (possibly gzipped) bytes into parsed JSON values, one per record.
 *
 * @since 0.1.0
 * @category decoding
 */
export const values = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options?: Options
): Stream.Stream<unknown, E | RecordDecodeError, R> => Stream.map(located(bytes, options), ({ value }) => value)

/**
 * Decodes every record with `schema` (`ProfileRecord` by default); a record the schema rejects fails with
 * the line it starts on.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode: {
  <E, R>(
    bytes: Stream.Stream<Uint8Array, E, R>,
    options?: Options
  ): Stream.Stream<ProfileRecord, E | RecordDecodeError, R>
  <A, I, E, R>(
    bytes: Stream.Stream<Uint8Array, E, R>,
    options: Options & { readonly schema: Schema.Schema<A, I, never> }
  ): Stream.Stream<A, E | RecordDecodeError, R>
} = <A, E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options?: Options & { readonly schema?: Schema.Schema<A, any, never> }
): Stream.Stream<any, E | RecordDecodeError, R> => {
  const schema = (options?.schema ?? ProfileRecord) as Schema.Schema<unknown, unknown, never>
  const decodeOne = ParseResult.decodeUnknownEither(schema)
  return located(bytes, options).pipe(
    Stream.mapEffect(({ line, value }) =>
      Effect.mapError(
        decodeOne(value),
        (issue) =>
          new RecordDecodeError({
            ...(options?.part === undefined ? {} : { part: options.part }),
            line,
            detail: ParseResult.TreeFormatter.formatIssueSync(issue)
          })
      )
    )
  )
}
