import { ApiError } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Equal from "effect/Equal"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as fs from "node:fs"

const spec = JSON.parse(fs.readFileSync(new URL("../openapi/exports-download.json", import.meta.url), "utf8"))
const now = Date.UTC(2026, 10, 29, 12, 0, 0)
const facts = (status: number, body = "", headers: Record<string, string> = {}) => ({
  endpoint: "GET /exports/download",
  status,
  headers,
  body,
  now
})

describe("ApiError.classify", () => {
  it("contract: every documented error status of /exports/download has its own class with that status", () => {
    const documented = Object.keys(spec.paths["/exports/download"].get.responses)
      .map(Number)
      .filter((s) => s >= 400)
    assert.deepStrictEqual(documented, [400, 401, 404, 409, 429, 500, 503])
    const tags = new Set<string>()
    for (const status of documented) {
      const error = ApiError.classify(facts(status))
      assert.strictEqual(error.status, status)
      assert.notStrictEqual(error._tag, "UnexpectedStatus")
      assert.isTrue(error instanceof ApiError.byStatus[status as keyof typeof ApiError.byStatus])
      tags.add(error._tag)
    }
    assert.strictEqual(tags.size, documented.length)
  })

  it("contract: the documented error body fields are the ones we read", () => {
    const schema = spec.components.schemas.Error
    assert.deepStrictEqual([...schema.required].sort(), ["error_code", "error_message"])
  })

  it("adds Batch's error_code and error_message when the body has them", () => {
    const error = ApiError.classify(
      facts(401, JSON.stringify({ error_code: "AUTHENTICATION_INVALID", error_message: "nope" }))
    )
    assert.instanceOf(error, ApiError.Unauthorized)
    assert.strictEqual(error.errorCode, "AUTHENTICATION_INVALID")
    assert.strictEqual(error.errorMessage, "nope")
    assert.strictEqual(error.message, "GET /exports/download answered HTTP 401 AUTHENTICATION_INVALID: nope")
  })

  it("accepts numeric codes and partial bodies", () => {
    const numeric = ApiError.classify(facts(400, `{"error_code":31,"error_message":"bad id","extra":true}`))
    assert.strictEqual(numeric.errorCode, 31)
    const partial = ApiError.classify(facts(404, `{"error_message":"gone"}`))
    assert.strictEqual(partial.errorCode, undefined)
    assert.strictEqual(partial.errorMessage, "gone")
  })

  it("any body, including HTML or garbage, still yields the class chosen by status", () => {
    const statuses = FastCheck.constantFrom(400, 401, 404, 409, 429, 500, 503, 418, 502, 200, 302)
    FastCheck.assert(
      FastCheck.property(statuses, FastCheck.string(), (status, body) => {
        const error = ApiError.classify(facts(status, body))
        const expected = ApiError.byStatus[status as keyof typeof ApiError.byStatus] ?? ApiError.UnexpectedStatus
        return error instanceof expected && error.status === status
      })
    )
    const html = ApiError.classify(facts(500, "<html><body>Bad gateway</body></html>"))
    assert.instanceOf(html, ApiError.InternalServerError)
    assert.strictEqual(html.errorCode, undefined)
    assert.strictEqual(html.message, "GET /exports/download answered HTTP 500")
  })

  it("carries a valid Retry-After on 429 and 503, and ignores an invalid one", () => {
    const tooMany = ApiError.classify(facts(429, "", { "retry-after": "7" }))
    assert.instanceOf(tooMany, ApiError.TooManyRequests)
    if (tooMany instanceof ApiError.TooManyRequests) {
      // Equal.equals, not deepStrictEqual: the latter passes for Option.none() against Option.some(x)
      assert.isTrue(
        Equal.equals(Option.fromNullable(tooMany.retryAfter).pipe(Option.map(Duration.toMillis)), Option.some(7000))
      )
    }
    const maintenance = ApiError.classify(facts(503, "", { "retry-after": "Sun, 29 Nov 2026 12:01:00 GMT" }))
    assert.instanceOf(maintenance, ApiError.ServiceUnavailable)
    if (maintenance instanceof ApiError.ServiceUnavailable) {
      assert.strictEqual(maintenance.retryAfter && Duration.toMillis(maintenance.retryAfter), 60_000)
    }
    const invalid = ApiError.classify(facts(429, "", { "retry-after": "later" }))
    assert.isTrue(invalid instanceof ApiError.TooManyRequests && invalid.retryAfter === undefined)
  })

  it("a key or a signed URL the server echoes in error_code or error_message is scrubbed at once", () => {
    const key = "sk_live/EchoedKey+42"
    const signed = "https://storage.example/bucket/f.json?X-Amz-Signature=abcdef0123&X-Amz-Credential=AKIA42"
    const body = JSON.stringify({
      error_code: `BAD_${key}`,
      error_message: `key ${key} (${encodeURIComponent(key)}, Bearer ${key}, ${key.toUpperCase()}) refused; link ${signed}`
    })
    for (const status of [400, 401, 404, 409, 429, 500, 503, 502]) {
      const error = ApiError.classify({ ...facts(status, body), secrets: [key] })
      const shown = [error.errorCode, error.errorMessage, error.message, String(error), JSON.stringify(error)].join(
        "\n"
      )
      for (const secret of [key, encodeURIComponent(key), key.toUpperCase(), "abcdef0123", "AKIA42", "bucket"]) {
        assert.notInclude(shown, secret, `${status}: ${secret}`)
      }
      assert.strictEqual(error.errorCode, "BAD_<redacted>")
      assert.include(error.errorMessage, "https://storage.example/<redacted>")
    }
    // numeric codes are kept as they are
    assert.strictEqual(ApiError.classify({ ...facts(400, `{"error_code":42}`), secrets: ["42424"] }).errorCode, 42)
  })

  it("only 429 and 503 are retryable", () => {
    for (const status of [400, 401, 404, 409, 500, 502, 418]) {
      assert.isFalse(ApiError.isRetryable(ApiError.classify(facts(status))), String(status))
    }
    assert.isTrue(ApiError.isRetryable(ApiError.classify(facts(429))))
    assert.isTrue(ApiError.isRetryable(ApiError.classify(facts(503))))
  })
})
