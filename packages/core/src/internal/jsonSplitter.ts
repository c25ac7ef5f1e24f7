/**
 * Splits a byte stream of JSON values into one text per top-level value, in constant memory (one value at a
 * time, at most `maxValueBytes` of it). Two layouts are understood: a single JSON array (its elements are the
 * values) and a sequence of values separated by white space (NDJSON, or pretty-printed objects one after the
 * other). Structural bytes are ASCII and never occur inside a multi-byte UTF-8 sequence, so chunks may be split
 * anywhere. This byte-by-byte scan is the general path; `records.ts` only sends it what its line fast path
 * cannot read.
 */

/** A structural error, at a 1-based line. */
export class SplitError {
  constructor(
    readonly line: number,
    readonly detail: string
  ) {}
}

const SPACE = 0x20,
  TAB = 0x09,
  LF = 0x0a,
  CR = 0x0d,
  QUOTE = 0x22,
  BACKSLASH = 0x5c,
  COMMA = 0x2c,
  OPEN_ARRAY = 0x5b,
  CLOSE_ARRAY = 0x5d,
  OPEN_OBJECT = 0x7b,
  CLOSE_OBJECT = 0x7d

const isSpace = (b: number) => b === SPACE || b === LF || b === CR || b === TAB

/** `array`: the input starts inside a JSON array, after its `[`; `values`: a sequence of values. */
export type Layout = "array" | "values"

export interface SplitterOptions {
  /** The line the input starts on. */
  readonly line: number
  readonly layout: Layout
  /** In an array: whether an element is due (after `[` or `,`) rather than a `,` or the closing `]`. */
  readonly expectValue: boolean
  readonly maxValueBytes: number
  readonly maxDepth: number
  /** Receives each value's text and the line it starts on, in order; may throw to stop. */
  readonly emit: (text: string, line: number) => void
}

export const tooLarge = (maxValueBytes: number) => `a record exceeds maxRecordBytes (${maxValueBytes} bytes)`
export const tooDeep = (maxDepth: number) => `a record nests deeper than ${maxDepth} levels`

export class JsonSplitter {
  private readonly layout: Layout
  private depth = 0
  private inString = false
  private escaped = false
  private inValue = false
  private primitive = false
  private valueLine: number
  private line: number
  private parts: Array<Uint8Array> = []
  private partsBytes = 0
  /** In array layout: a value or `]` is due (after `[` or `,`), or a `,` or `]` (after a value). */
  private expectValue: boolean
  private arrayClosed = false
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

  constructor(private readonly options: SplitterOptions) {
    this.layout = options.layout
    this.depth = options.layout === "array" ? 1 : 0
    this.expectValue = options.expectValue
    this.line = this.valueLine = options.line
  }

  /** Feeds one chunk; values are emitted as they complete, a structural error is thrown as a `SplitError`. */
  push(chunk: Uint8Array): void {
    const { maxDepth, maxValueBytes } = this.options
    let start = 0
    const base = () => (this.layout === "array" ? 1 : 0)
    const finish = (end: number) => {
      this.keep(chunk.subarray(start, end))
      this.inValue = false
      this.primitive = false
      if (this.layout === "array") this.expectValue = false
      this.options.emit(this.decode(), this.valueLine)
    }
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!
      if (b === LF) this.line++
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (b === BACKSLASH) this.escaped = true
        else if (b === QUOTE) {
          this.inString = false
          if (this.inValue && this.primitive && this.depth === base()) finish(i + 1)
        }
        continue
      }
      if (this.inValue && this.primitive) {
        // a number or a literal ends at white space or a structural byte
        if (
          isSpace(b) ||
          b === COMMA ||
          b === CLOSE_ARRAY ||
          b === CLOSE_OBJECT ||
          b === OPEN_ARRAY ||
          b === OPEN_OBJECT ||
          b === QUOTE
        ) {
          finish(i)
        } else continue
      }
      if (this.inValue) {
        if (b === QUOTE) this.inString = true
        else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
          // a cap here keeps every later step (parse, schema, error formatting) off deep recursion
          if (++this.depth - base() > maxDepth) throw new SplitError(this.valueLine, tooDeep(maxDepth))
        } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
          this.depth--
          if (this.depth === base()) finish(i + 1)
        }
        continue
      }
      // between values
      if (isSpace(b)) continue
      if (this.layout === "array") {
        if (this.arrayClosed) throw new SplitError(this.line, "unexpected content after the closing ]")
        if (b === CLOSE_ARRAY) {
          this.arrayClosed = true
          this.depth = 0
          continue
        }
        if (b === COMMA) {
          if (this.expectValue) throw new SplitError(this.line, "unexpected ,")
          this.expectValue = true
          continue
        }
        if (!this.expectValue) throw new SplitError(this.line, "expected , or ] between array elements")
      } else if (b === COMMA || b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
        throw new SplitError(this.line, `unexpected ${String.fromCharCode(b)}`)
      }
      // a value starts
      this.inValue = true
      this.valueLine = this.line
      this.parts = []
      this.partsBytes = 0
      start = i
      if (b === OPEN_ARRAY || b === OPEN_OBJECT) this.depth++
      else if (b === QUOTE) {
        this.inString = true
        this.primitive = true
      } else this.primitive = true
    }
    if (this.inValue) {
      // copied: the caller may reuse its buffer, and a kept view would pin the whole chunk
      this.keep(chunk.slice(start))
      if (this.partsBytes > maxValueBytes) throw new SplitError(this.valueLine, tooLarge(maxValueBytes))
    }
  }

  /** Ends the input: flushes a last value without a trailing newline, or reports truncation. */
  end(): void {
    if (this.inValue && this.primitive && !this.inString) {
      this.inValue = false
      this.options.emit(this.decode(), this.valueLine)
    } else if (this.inValue) throw new SplitError(this.valueLine, "the input ends inside a value")
    if (this.layout === "array" && !this.arrayClosed)
      throw new SplitError(this.line, "the input ends before the closing ]")
  }

  private keep(part: Uint8Array): void {
    this.parts.push(part)
    this.partsBytes += part.length
  }

  private decode(): string {
    const parts = this.parts
    const length = this.partsBytes
    this.parts = []
    this.partsBytes = 0
    if (length > this.options.maxValueBytes) throw new SplitError(this.valueLine, tooLarge(this.options.maxValueBytes))
    const joined = parts.length === 1 ? parts[0]! : concat(parts, length)
    try {
      return this.decoder.decode(joined)
    } catch {
      throw new SplitError(this.valueLine, "invalid UTF-8")
    }
  }
}

/** Joins byte arrays whose total length is known. */
export const concat = (parts: ReadonlyArray<Uint8Array>, length: number): Uint8Array => {
  const joined = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    joined.set(p, offset)
    offset += p.length
  }
  return joined
}
