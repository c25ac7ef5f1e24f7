/**
 * How the create step recognises the export an earlier attempt created: the echoed request compared as Batch
 * may spell it.
 */
import { assert, describe, it } from "@effect/vitest"
import { sameJson } from "../src/internal/createOnce.js"

describe("sameJson", () => {
  it("ignores key order and absent keys, keeps array order, and reads dates as instants", () => {
    const sent = {
      export_type: "EVENTS",
      from: "2026-12-06T02:00:00.000Z",
      to: "2026-12-07T02:00:00.000Z",
      events: ["open", "purchase"],
      filter: undefined
    }
    const echoed = {
      to: "2026-12-07T03:00:00+01:00",
      events: ["open", "purchase"],
      from: "2026-12-06T02:00:00Z",
      export_type: "EVENTS"
    }
    assert.isTrue(sameJson(sent, echoed))
    assert.isFalse(sameJson(sent, { ...echoed, events: ["purchase", "open"] }))
    assert.isFalse(sameJson(sent, { ...echoed, to: "2026-12-07T02:00:01Z" }))
    assert.isFalse(sameJson(sent, { ...echoed, filter: { segment: "VIP" } }))
    assert.isFalse(sameJson(sent, undefined))
    assert.isFalse(sameJson("2026-12-07", "2026-12-07T00:00:00Z"))
  })
})
