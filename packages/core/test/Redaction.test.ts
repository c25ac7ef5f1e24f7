import { Redaction } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
const forbidden = (code: number) =>
  code <= 0x1f ||
  (code >= 0x7f && code <= 0x9f) ||
  code === 0x061c ||
  code === 0x200e ||
  code === 0x200f ||
  (code >= 0x202a && code <= 0x202e) ||
  (code >= 0x2066 && code <= 0x2069)

/** Unicode's own line and paragraph separators: line breaks, which `sanitize` turns into one space. */
const separator = (code: number) => code === 0x2028 || code === 0x2029

const controls = [
  0x2028,
  0x2029,
  ...Array.from({ length: 0x20 }, (_, i) => i),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x061c,
  0x200e,
  0x200f,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069
].map((code) => String.fromCharCode(code))

// any text, with the characters a hostile server would use mixed in often
const hostile = FastCheck.array(
  FastCheck.oneof(FastCheck.string({ unit: "grapheme" }), FastCheck.constantFrom(...controls))
).map((pieces) => pieces.join(""))

describe("Redaction.sanitize", () => {
  it("leaves no C0, DEL, C1 or bidi control in any text", () => {
    FastCheck.assert(
      FastCheck.property(hostile, (text) => {
        const out = Redaction.sanitize(text)
        for (const char of out) assert.isFalse(forbidden(char.codePointAt(0)!), JSON.stringify(out))
      })
    )
  })

  it("keeps text without controls or line breaks exactly, and is idempotent", () => {
    FastCheck.assert(
      FastCheck.property(hostile, (text) => {
        const once = Redaction.sanitize(text)
        assert.strictEqual(Redaction.sanitize(once), once)
        const clean = [...text]
          .filter((char) => !forbidden(char.codePointAt(0)!) && !separator(char.codePointAt(0)!))
          .join("")
        assert.strictEqual(Redaction.sanitize(clean), clean)
      })
    )
  })

  it("a terminal attack becomes inert text on one line", () => {
    assert.strictEqual(
      Redaction.sanitize("RUNNING\x1b[2J\x1b]0;pwned\x07\r\n\u009b2J\u202eSUCCESS\u2066"),
      "RUNNING[2J]0;pwned 2JSUCCESS"
    )
  })
})
