/**
 * What a database error keeps of its cause: never a password, whether in a URL or on its own.
 */
import { assert, describe, it } from "@effect/vitest"
import { SinkError } from "../src/SinkError.js"

describe("SinkError", () => {
  it("keeps the driver's reason and code, without a URL's credentials or a known secret", () => {
    const driver = Object.assign(new Error("password authentication failed (p4ss:word in logs)"), { code: "28P01" })
    const error = SinkError.fromUnknown("connect", ["p4ss:word"])({
      message: "connect to postgres://sync:p4ss:word@db.example:5432/batch failed",
      cause: driver
    })
    assert.strictEqual(error.code, "28P01")
    assert.include(error.detail, "password authentication failed")
    assert.notInclude(error.detail, "p4ss")
    assert.notInclude(JSON.stringify(error), "p4ss")
    assert.include(error.message, "database error in connect (28P01)")
  })

  it("removes control characters and bounds the length", () => {
    const error = SinkError.fromUnknown("loadPart")(new Error(`\u001b[31mred\u001b[0m\n${"x".repeat(2_000)}`))
    assert.notInclude(error.detail, "\u001b")
    assert.notInclude(error.detail, "\n")
    assert.isAtMost(error.detail.length, 500)
  })

  it("is transient when the database was away or busy, not when it refused or is full", () => {
    const error = (code: string | undefined, detail = "failed") =>
      new SinkError({ operation: "loadPart", detail, ...(code === undefined ? {} : { code }) })
    for (const code of ["08006", "57P01", "57P03", "53300", "ECONNREFUSED", "ECONNRESET", "ENOENT", "SQLITE_BUSY"]) {
      assert.isTrue(error(code).transient, code)
    }
    assert.isTrue(error(undefined, "Client has encountered a connection error and is not queryable").transient)
    assert.isTrue(error(undefined, "Connection terminated unexpectedly").transient)
    for (const code of ["SQLITE_FULL", "53100", "28P01", "42P01", "23505", "SQLITE_READONLY", undefined]) {
      assert.isFalse(error(code).transient, String(code))
    }
  })
})
