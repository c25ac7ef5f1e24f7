/**
 * The staging row of a profile record (`internal/rows.ts`): what the sink stores beyond the columns it extracts,
 * which profile a record is, and what it refuses. Both databases get these same rows.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Rows from "../src/internal/rows.js"

const row = (record: unknown) => {
  const mapped = Rows.profileRow(record, "p", "export_1", 2, 7)
  if ("error" in mapped) throw new Error(`expected a row: ${mapped.error}`)
  return mapped.row
}

const error = (record: unknown) => {
  const mapped = Rows.profileRow(record, "p", "export_1", 2, 7)
  return "error" in mapped ? mapped.error : undefined
}

describe("profileRow", () => {
  it("keeps what a record has beyond its ids and attributes in `extra` (top level and inside identifiers)", () => {
    const mapped = row({
      identifiers: { custom_id: "u1", installation_ids: [], email_hash: "h" },
      attributes: { a: 1 },
      region: "FR"
    })
    assert.deepStrictEqual(JSON.parse(String(mapped["extra"])), { region: "FR", identifiers: { email_hash: "h" } })
    assert.isNull(row({ identifiers: { custom_id: "u1" }, attributes: {} })["extra"])
  })

  it("a profile is its custom id, else its smallest installation id as stored, else its place in the export", () => {
    assert.strictEqual(
      row({ identifiers: { custom_id: "u1", installation_ids: ["z"] } })["profile_key"],
      "custom_id:u1"
    )
    assert.strictEqual(row({ identifiers: { installation_ids: ["c", "a", "b"] } })["profile_key"], "installation_id:a")
    // U+0000 is stored as U+FFFD, and the smallest id is taken among the stored ones
    const nul = row({ identifiers: { installation_ids: ["a\u0000x", "a\uFFFD"] } })
    assert.strictEqual(nul["profile_key"], "installation_id:a\uFFFD")
    assert.deepStrictEqual(JSON.parse(String(nul["installation_ids"])), ["a\uFFFDx", "a\uFFFD"])
    assert.strictEqual(row({ attributes: { a: 1 } })["profile_key"], "record:export_1:2:7")
  })

  it("refuses what is not a profile record, naming the field", () => {
    assert.strictEqual(error(42), "a profile record must be a JSON object")
    assert.strictEqual(error({ identifiers: [] }), "identifiers must be an object")
    assert.strictEqual(error({ identifiers: { custom_id: 3 } }), "identifiers.custom_id must be a string or null")
    assert.strictEqual(
      error({ identifiers: { installation_ids: ["a", 1] } }),
      "identifiers.installation_ids must be an array of strings"
    )
    assert.strictEqual(
      error({ identifiers: { installation_ids: "a" } }),
      "identifiers.installation_ids must be an array of strings"
    )
    assert.strictEqual(error({ attributes: [1] }), "attributes must be an object")
  })
})
