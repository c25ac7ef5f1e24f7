import { Emulator } from "@batch-export/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import { jsonText } from "../src/internal/output.js"
import { envFor } from "./support/harness.js"
import { built, run } from "./support/process.js"

/** What a terminal acts on and `JSON.stringify` leaves raw: DEL, C1, U+2028/U+2029 and the bidi controls. */
const RAW_CONTROL = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/
/** The same, with C0 other than the line feeds JSON lines are separated by. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

/** CSI and OSC as 8-bit C1 (U+009B, U+009D), NEL, the separators, DEL, every bidi control, and C0's ESC. */
const HOSTILE =
  "A\u009b31mB\u009d0;pwned\u0007C\u0085D\u2028E\u2029F\u007fG\u202eH\u2066I\u2069J\u200eK\u200fL\u061cM\u202aN\x1b[2J"

const unsafeCharacters = [
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x061c,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  ...Array.from({ length: 5 }, (_, i) => 0x202a + i),
  ...Array.from({ length: 4 }, (_, i) => 0x2066 + i)
].map((code) => String.fromCharCode(code))

// any value JSON carries, with the characters a hostile server would use mixed into its strings
const hostileText = FastCheck.array(
  FastCheck.oneof(FastCheck.string({ unit: "grapheme" }), FastCheck.constantFrom(...unsafeCharacters))
).map((pieces) => pieces.join(""))
const hostileJson = FastCheck.letrec((tie) => ({
  value: FastCheck.oneof(
    { depthSize: "small" },
    hostileText,
    FastCheck.double({ noNaN: true, noDefaultInfinity: true }),
    FastCheck.boolean(),
    FastCheck.constant(null),
    FastCheck.array(tie("value"), { maxLength: 4 }),
    FastCheck.dictionary(hostileText, tie("value"), { maxKeys: 4 })
  )
})).value

describe("jsonText", () => {
  it("for any value: the text parses to the same value as JSON.stringify's, and holds no raw control", () => {
    FastCheck.assert(
      FastCheck.property(hostileJson, (value) => {
        const text = jsonText(value)
        assert.deepStrictEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)))
        assert.notMatch(text, RAW_CONTROL)
      })
    )
  })
})

/** The lines a command printed, each checked to hold no control character, parsed. */
const parsedLines = (output: string): Array<Record<string, unknown>> =>
  output
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      assert.notMatch(line, CONTROL, JSON.stringify(line))
      return JSON.parse(line)
    })

describe.skipIf(!built)("--json output of the built executable", () => {
  it.scopedLive(
    "view, list, list --all, records and a --json error: C1, separators and bidi controls as \\uXXXX",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 3 }] })
        const [exp] = yield* emulator.exports
        const env = envFor(emulator)
        const hostile = {
          id: exp!.id,
          scope: `PROFILE${HOSTILE}`,
          status: "SUCCESS",
          files: [],
          request: { note: HOSTILE, [HOSTILE]: [HOSTILE] }
        }
        const output = (result: { readonly stdout: Buffer }) => result.stdout.toString("utf8")

        yield* emulator.script("view", Emulator.Reply.status(200, { body: hostile }))
        const view = yield* run(["view", exp!.id, "--json"], env)
        assert.strictEqual(view.code, 0, view.stderr)
        // pretty-printed: one JSON text on several lines
        assert.notMatch(output(view), CONTROL)
        assert.deepStrictEqual(JSON.parse(output(view)), hostile)

        const page = { exports: [hostile], has_more: false }
        yield* emulator.script("list", Emulator.Reply.status(200, { body: page }))
        const list = yield* run(["list", "--json"], env)
        assert.strictEqual(list.code, 0, list.stderr)
        assert.notMatch(output(list), CONTROL)
        assert.strictEqual(JSON.parse(output(list)).exports[0].scope, hostile.scope)

        yield* emulator.script("list", Emulator.Reply.status(200, { body: page }))
        const all = yield* run(["list", "--all", "--json"], env)
        assert.strictEqual(all.code, 0, all.stderr)
        assert.deepStrictEqual(
          parsedLines(output(all)).map((line) => line.scope),
          [hostile.scope]
        )

        const records = [{ identifiers: { custom_id: HOSTILE } }, { attributes: { [HOSTILE]: `x${HOSTILE}` } }]
        yield* emulator.script(
          "storage",
          Emulator.Reply.status(200, { body: records.map((record) => JSON.stringify(record)).join("\n") + "\n" })
        )
        const printed = yield* run(["records", exp!.files[0]!.id], env)
        assert.strictEqual(printed.code, 0, printed.stderr)
        assert.deepStrictEqual(parsedLines(output(printed)), records)

        yield* emulator.script(
          "view",
          Emulator.Reply.status(400, { body: { error_code: `BAD${HOSTILE}`, error_message: HOSTILE } })
        )
        const failed = yield* run(["view", exp!.id, "--json"], env)
        assert.strictEqual(failed.code, 1, failed.stderr)
        assert.deepStrictEqual(
          parsedLines(failed.stderr).map((line) => line.errorCode),
          [`BAD${HOSTILE}`]
        )
      }),
    60_000
  )

  it.scopedLive(
    "a --json error never shows the REST key a server echoes, whatever the status and the body",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 3 }] })
        const [exp] = yield* emulator.exports
        const key = emulator.restApiKey
        const signed = "https://storage.example/bucket/f.json?X-Amz-Signature=0123456789abcdef"
        const echoes = `key ${key} (Bearer ${key}, ${encodeURIComponent(key)}, ${key.toUpperCase()}) refused; ${signed}`
        const env = { ...envFor(emulator), BATCH_MAX_RETRIES: "0" }
        for (const status of [400, 401, 404, 409, 429, 500, 503]) {
          for (const body of [{ error_code: key, error_message: echoes }, `<html>${echoes}</html>`]) {
            yield* emulator.script("view", Emulator.Reply.status(status, { body }))
            const failed = yield* run(["view", exp!.id, "--json"], env)
            const label = `${status} ${typeof body}: ${failed.stderr}`
            assert.strictEqual(failed.stdout.length, 0, label)
            const [error] = parsedLines(failed.stderr)
            assert.strictEqual(error?.["status"], status, label)
            if (typeof body === "object") assert.strictEqual(error?.["errorCode"], "<redacted>", label)
            for (const secret of [key.toLowerCase(), "x-amz-signature", "0123456789abcdef"]) {
              assert.notInclude(failed.stderr.toLowerCase(), secret, label)
            }
          }
        }
      }),
    60_000
  )
})
