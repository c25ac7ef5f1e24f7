/**
 * Bytes to records, one input chunk at a time: everything a chunk completes is parsed, checked and collected
 * in one synchronous pass, so the stream around it pays per chunk, not per record.
 *
 * The layouts met in practice take a line fast path: newlines are found with `indexOf`, the bytes between the
 * first and the last newline of a chunk are decoded to text in one call, and each line goes to `JSON.parse`.
 * NDJSON lines are records; inside a JSON array (after its `[`), a line is one element with an optional
 * trailing comma, the layout a serializer writes one element per line. A line the fast path does not
 * understand as a whole (pretty-printed values, several values on a line, the closing `]`, invalid UTF-8, a
 * line longer than `maxRecordBytes`, or than 1 MiB in an array) is handed, with everything after it, to the
 * byte-level `JsonSplitter`, in the state the line path had reached; it gives the same values or the precise
 * error. The line path accepts only what `JSON.parse` accepts as one whole value, and a JSON string holds no raw
 * newline, so no value can span lines there.
 */
import { concat, JsonSplitter, SplitError, tooDeep } from "./jsonSplitter.js"

/** A record that could not be read, at a 1-based line. */
export class Failure {
  constructor(
    readonly line: number,
    readonly detail: string
  ) {}
}

/**
 * Checks one parsed value and, when it is accepted, pushes the record to `out`; otherwise returns why not.
 * Pushing (rather than returning a wrapper) keeps the fast path free of allocations per record.
 */
export type Accept<A> = (value: unknown, out: Array<A>) => string | undefined

const LF = 0x0a,
  CR = 0x0d,
  SPACE = 0x20,
  TAB = 0x09,
  COMMA = 0x2c,
  OPEN_ARRAY = 0x5b
const BOM = [0xef, 0xbb, 0xbf] as const
const BLANK = /^[ \t\r]*$/
const encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)
const ARRAY_LINE_BYTES = 1024 * 1024

/** White space within a line (a line holds no LF). */
const isBlank = (code: number) => code === SPACE || code === TAB || code === CR

const START = 0,
  LINES = 1,
  ARRAY = 2,
  GENERAL = 3

export interface ScannerOptions<A> {
  readonly accept: Accept<A>
  readonly maxRecordBytes: number
  readonly maxDepth: number
}

export class RecordScanner<A> {
  /** The records completed so far; the caller takes them after each push. */
  out: Array<A> = []
  private mode = START
  /** Bytes seen at the very start that may still be a split byte-order mark. */
  private prefix: Uint8Array | undefined
  private bomDone = false
  /** The line the next byte belongs to. */
  private line = 1
  /** The bytes of the current, unfinished line. */
  private carry: Array<Uint8Array> = []
  private carryBytes = 0
  /** In an array: an element is due (after `[` or `,`); otherwise a `,` or the closing `]` is. */
  private expectValue = true
  private splitter: JsonSplitter | undefined
  private splitterLine = 0
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

  constructor(private readonly options: ScannerOptions<A>) {}

  /** The line from which the splitter reads, once it does (tests check that common layouts stay on a line path). */
  get generalFrom(): number | undefined {
    return this.splitter === undefined ? undefined : this.splitterLine
  }

  /** Feeds one chunk; returns the failure that ends the input, if any (records before it are in `out`). */
  push(chunk: Uint8Array): Failure | undefined {
    return this.guard(() => {
      if (this.mode === LINES || this.mode === ARRAY) this.lines(chunk, 0)
      else if (this.mode === GENERAL) this.splitter!.push(chunk)
      else this.start(chunk)
    })
  }

  /** Ends the input: the last line without a newline, or truncation. */
  end(): Failure | undefined {
    return this.guard(() => {
      if (this.prefix !== undefined) {
        // fewer than three bytes, all a prefix of the BOM: they are data
        const prefix = this.prefix
        this.prefix = undefined
        this.bomDone = true
        this.start(prefix)
      }
      if ((this.mode === LINES || this.mode === ARRAY) && this.carryBytes > 0) {
        const bytes = this.takeCarry()
        const text = this.decode(bytes)
        if (text === undefined || !this.readLine(text)) this.general([bytes])
      }
      // the closing `]` is still due: the splitter reports the truncation
      if (this.mode === ARRAY) this.general([])
      if (this.mode === GENERAL) this.splitter!.end()
    })
  }

  private guard(run: () => void): Failure | undefined {
    try {
      run()
      return undefined
    } catch (error) {
      if (error instanceof Failure) return error
      if (error instanceof SplitError) return new Failure(error.line, error.detail)
      throw error
    }
  }

  private start(chunk: Uint8Array): void {
    let bytes = chunk
    if (this.prefix !== undefined) {
      bytes = concat([this.prefix, chunk], this.prefix.length + chunk.length)
      this.prefix = undefined
    }
    if (!this.bomDone) {
      const known = Math.min(BOM.length, bytes.length)
      let matched = 0
      while (matched < known && bytes[matched] === BOM[matched]) matched++
      if (matched < known) this.bomDone = true
      else if (known < BOM.length) {
        this.prefix = bytes.slice()
        return
      } else {
        this.bomDone = true
        bytes = bytes.subarray(BOM.length)
      }
    }
    let i = 0
    for (; i < bytes.length; i++) {
      const b = bytes[i]!
      if (b === LF) this.line++
      else if (b !== SPACE && b !== TAB && b !== CR) break
    }
    if (i === bytes.length) return
    if (bytes[i] === OPEN_ARRAY) {
      // the rest of the line after `[` is read as any other line of the array
      this.mode = ARRAY
      this.expectValue = true
      this.lines(bytes, i + 1)
    } else {
      this.mode = LINES
      this.lines(bytes, i)
    }
  }

  private lines(chunk: Uint8Array, from: number): void {
    let pos = from
    const first = chunk.indexOf(LF, pos)
    if (first < 0) return this.keep(chunk, pos)
    if (this.carryBytes > 0) {
      // the line begun in an earlier chunk
      if (this.carryBytes + first - pos > this.lineBound()) {
        return this.general([...this.takeCarryParts(), chunk.subarray(pos)])
      }
      this.carry.push(chunk.subarray(pos, first))
      this.carryBytes += first - pos
      const bytes = this.takeCarry()
      const text = this.decode(bytes)
      if (text === undefined || !this.readLine(text)) {
        return this.general([bytes, Uint8Array.of(LF), chunk.subarray(first + 1)])
      }
      this.line++
      pos = first + 1
    }
    const last = chunk.lastIndexOf(LF)
    if (last >= pos) {
      // one decode for every line of the chunk: newlines never occur inside a multi-byte sequence
      const text = this.decode(chunk.subarray(pos, last))
      if (text === undefined) return this.general([chunk.subarray(pos)])
      let begin = 0
      for (;;) {
        const next = text.indexOf("\n", begin)
        const end = next < 0 ? text.length : next
        if (end > begin && !this.readLine(text.slice(begin, end))) {
          const rest = encoder.encode(text.slice(begin) + "\n")
          return this.general([rest, chunk.subarray(last + 1)])
        }
        this.line++
        if (next < 0) break
        begin = next + 1
      }
      pos = last + 1
    }
    this.keep(chunk, pos)
  }

  /** Reads one complete line; `false` when the line path cannot read it (the general path decides). */
  private readLine(text: string): boolean {
    return this.mode === ARRAY ? this.element(text) : this.value(text) || BLANK.test(text)
  }

  /** One line inside the array: blank, or one element and an optional comma, each with white space around. */
  private element(text: string): boolean {
    let end = text.length
    while (end > 0 && isBlank(text.charCodeAt(end - 1))) end--
    let begin = 0
    while (begin < end && isBlank(text.charCodeAt(begin))) begin++
    if (begin === end) return true
    if (!this.expectValue) return false
    const comma = text.charCodeAt(end - 1) === COMMA
    if (comma) {
      end--
      while (end > begin && isBlank(text.charCodeAt(end - 1))) end--
    }
    if (!this.value(begin === 0 && end === text.length ? text : text.slice(begin, end))) return false
    this.expectValue = comma
    return true
  }

  /** Reads `text` as one whole record; `false` when it is not one JSON value of at most `maxRecordBytes`. */
  private value(text: string): boolean {
    const { accept, maxDepth, maxRecordBytes } = this.options
    // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: the exact count is needed only in between
    if (text.length > maxRecordBytes || (text.length * 3 > maxRecordBytes && utf8Length(text) > maxRecordBytes)) {
      return false
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return false
    }
    // nesting d needs 2·d brackets; only long lines can be too deep
    if (text.length > 2 * maxDepth && deeperThan(value, maxDepth)) this.fail(tooDeep(maxDepth))
    const rejected = accept(value, this.out)
    if (rejected !== undefined) this.fail(rejected)
    return true
  }

  private decode(bytes: Uint8Array): string | undefined {
    try {
      return this.decoder.decode(bytes)
    } catch {
      return undefined
    }
  }

  /**
   * How long an unfinished line may grow before the splitter takes over: `maxRecordBytes` for NDJSON; in an
   * array at most 1 MiB, as a line that long is likelier a compact array (`[{…},{…},…]` on one line) than one
   * element, and the splitter streams its elements instead of holding up to `maxRecordBytes` of them first.
   */
  private lineBound(): number {
    return this.mode === ARRAY ? Math.min(this.options.maxRecordBytes, ARRAY_LINE_BYTES) : this.options.maxRecordBytes
  }

  /** Keeps the start of an unfinished line; past `lineBound` the splitter takes over and decides. */
  private keep(chunk: Uint8Array, from: number): void {
    if (from >= chunk.length) return
    if (this.carryBytes + chunk.length - from > this.lineBound()) {
      return this.general([...this.takeCarryParts(), chunk.subarray(from)])
    }
    this.carryBytes += chunk.length - from
    // copied: the source may reuse its buffer, and a view would keep the whole chunk alive
    this.carry.push(chunk.slice(from))
  }

  private takeCarry(): Uint8Array {
    const bytes = this.carry.length === 1 ? this.carry[0]! : concat(this.carry, this.carryBytes)
    this.carry = []
    this.carryBytes = 0
    return bytes
  }

  private takeCarryParts(): Array<Uint8Array> {
    const parts = this.carry
    this.carry = []
    this.carryBytes = 0
    return parts
  }

  /** Hands the input, from the current line on, to the byte-level splitter, in the state the line path reached. */
  private general(input: Array<Uint8Array>): void {
    const { accept, maxDepth, maxRecordBytes } = this.options
    const splitter = new JsonSplitter({
      line: this.line,
      layout: this.mode === ARRAY ? "array" : "values",
      expectValue: this.expectValue,
      maxDepth,
      maxValueBytes: maxRecordBytes,
      emit: (text, line) => {
        let value: unknown
        try {
          value = JSON.parse(text)
        } catch (error) {
          throw new Failure(line, error instanceof Error ? error.message : String(error))
        }
        const rejected = accept(value, this.out)
        if (rejected !== undefined) throw new Failure(line, rejected)
      }
    })
    this.mode = GENERAL
    this.splitter = splitter
    this.splitterLine = this.line
    for (let i = 0; i < input.length; i++) {
      // handed over piece by piece and let go of: the splitter keeps its own copy of an unfinished value, so a
      // record past the bound is held once (bound + one chunk), not twice
      const bytes = input[i]!
      input[i] = EMPTY
      splitter.push(bytes)
    }
  }

  private fail(detail: string): never {
    throw new Failure(this.line, detail)
  }
}

/** Whether a parsed value nests containers deeper than `max`, without recursion. */
const deeperThan = (value: unknown, max: number): boolean => {
  const values: Array<unknown> = [value]
  const depths: Array<number> = [1]
  while (values.length > 0) {
    const v = values.pop()
    const depth = depths.pop()!
    if (typeof v !== "object" || v === null) continue
    if (depth > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) {
        values.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

const utf8Length = (text: string): number => {
  let length = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    // two-byte forms add one; three-byte add two; a surrogate pair (two units) makes four bytes
    if (code >= 0x80) length += code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 1 : 2
  }
  return length
}
