import { RetryAfter } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Equal from "effect/Equal"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
const now = Date.UTC(2026, 10, 29, 12, 0, 0)
const millis = (value: string) => Option.map(RetryAfter.parse(value, now), Duration.toMillis)
/** `assert.deepStrictEqual` cannot tell `Option.none()` from `Option.some(x)`; `Equal.equals` can. */
const assertMillis = (value: string, expected: number) => {
  const actual = millis(value)
  assert.isTrue(Equal.equals(actual, Option.some(expected)), `${value}: ${String(actual)}`)
}

describe("RetryAfter", () => {
  it("reads delta-seconds", () => {
    assertMillis("7", 7000)
    assertMillis(" 0 ", 0)
    FastCheck.assert(
      FastCheck.property(FastCheck.nat(10_000_000), (n) => Option.getOrThrow(millis(String(n))) === n * 1000)
    )
  })

  it("reads the three HTTP-date forms relative to now", () => {
    assertMillis("Sun, 29 Nov 2026 12:00:30 GMT", 30_000)
    assertMillis("Sunday, 29-Nov-26 12:01:00 GMT", 60_000)
    assertMillis("Sun Nov 29 12:00:05 2026", 5_000)
  })

  it("a date in the past means retry now", () => {
    assertMillis("Sun, 29 Nov 2026 11:00:00 GMT", 0)
  })

  it("rejects anything else", () => {
    for (const value of ["", "-1", "1.5", "soon", "1e3", "0x10", "Sun, 99 Nov 2026 25:00:00 GMT"]) {
      assert.isTrue(Option.isNone(RetryAfter.parse(value, now)), value)
    }
  })
})
