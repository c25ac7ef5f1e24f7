import { Failure } from "@batch-export/cli"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Option from "effect/Option"
describe("Failure", () => {
  it("a defect's line keeps no signed URL", () => {
    const line = Failure.lineOf(Cause.die(new Error("fetch failed: GET https://s.example/files/f?signature=abc123")))
    assert.isTrue(Option.isSome(line))
    const text = Option.getOrThrow(line)
    assert.include(text, "unexpected Error")
    assert.include(text, "https://s.example")
    assert.notInclude(text, "signature=abc123")
  })
})
