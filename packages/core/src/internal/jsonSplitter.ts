/**
 * Splits a byte stream of JSON values into one text per top-level value, in constant memory (one value at a
 * time). Two layouts are understood: a single JSON array (its elements are the values) and a sequence of
 * values separated by white space (NDJSON, or pretty-printed objects one after the other). Structural bytes
 * are ASCII and never occur inside a multi-byte UTF-8 sequence, so chunks may be split anywhere.
 */

export interface Value {
  readonly text: string
  /** 1-based line on which the value starts. */
  readonly line: number
}

export class SplitError {
  /** The values completed in the same chunk before the error. */
  before: ReadonlyArray<Value> = []
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
const BOM = [0xef, 0xbb, 0xbf]

const isSpace = (b: number) => b === SPACE || b === LF || b === CR || b === TAB

type Layout = "unknown" | "array" | "values"

export class JsonSplitter {
  private layout: Layout = "unknown"
  private depth = 0
  private inString = false
  private escaped = false
  private inValue = false
  private primitive = false
  private valueLine = 1
  private line = 1
  private parts: Array<Uint8Array> = []
  /** In array layout: a value or `]` is due (after `[` or `,`), or a `,` or `]` (after a value). */
  private expectValue = true
  private arrayClosed = false
  private bomChecked = false
  private readonly decoder = new TextDecoder("utf-8", { fatal: true })

  /** Feeds one chunk; returns the values completed in it (a `SplitError` carries those found before it). */
  push(chunk: Uint8Array): Array<Value> {
    const out: Array<Value> = []
    try {
      this.scan(chunk, out)
    } catch (error) {
      if (error instanceof SplitError) error.before = out
      throw error
    }
    return out
  }

  private scan(chunk: Uint8Array, out: Array<Value>): void {
    let start = 0
    let i = 0
    if (!this.bomChecked && chunk.length > 0) {
      this.bomChecked = true
      if (chunk.length >= 3 && chunk[0] === BOM[0] && chunk[1] === BOM[1] && chunk[2] === BOM[2]) i = start = 3
    }
    const base = () => (this.layout === "array" ? 1 : 0)
    const finish = (end: number) => {
      this.parts.push(chunk.subarray(start, end))
      out.push({ text: this.decode(), line: this.valueLine })
      this.inValue = false
      this.primitive = false
      if (this.layout === "array") this.expectValue = false
    }
    for (; i < chunk.length; i++) {
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
        else if (b === OPEN_ARRAY || b === OPEN_OBJECT) this.depth++
        else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
          this.depth--
          if (this.depth === base()) finish(i + 1)
        }
        continue
      }
      // between values
      if (isSpace(b)) continue
      if (this.layout === "unknown") {
        if (b === OPEN_ARRAY) {
          this.layout = "array"
          this.depth = 1
          continue
        }
        this.layout = "values"
      }
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
      start = i
      if (b === OPEN_ARRAY || b === OPEN_OBJECT) this.depth++
      else if (b === QUOTE) {
        this.inString = true
        this.primitive = true
      } else this.primitive = true
    }
    if (this.inValue) this.parts.push(chunk.subarray(start))
  }

  /** Ends the input: flushes a last value without a trailing newline, or reports truncation. */
  end(): Array<Value> {
    if (this.inValue && this.primitive && !this.inString) {
      this.inValue = false
      return [{ text: this.decode(), line: this.valueLine }]
    }
    if (this.inValue) throw new SplitError(this.valueLine, "the input ends inside a value")
    if (this.layout === "array" && !this.arrayClosed)
      throw new SplitError(this.line, "the input ends before the closing ]")
    return []
  }

  private decode(): string {
    const parts = this.parts
    this.parts = []
    let length = 0
    for (const p of parts) length += p.length
    const joined = new Uint8Array(length)
    let offset = 0
    for (const p of parts) {
      joined.set(p, offset)
      offset += p.length
    }
    try {
      // one copy per value; values are records of a few KB
      return this.decoder.decode(joined)
    } catch {
      throw new SplitError(this.valueLine, "invalid UTF-8")
    }
  }
}
