import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import { Emulator } from "../src/index.js"
import { sign, verify } from "../src/internal/signing.js"
import { apiClient, ClientLive } from "./helpers.js"

const SECRET = "test-secret"
const fileId = FastCheck.stringMatching(/^file_[a-z0-9]{32}$/)
const expires = FastCheck.integer({ min: 0, max: 4_000_000_000 })

/** Replaces the character at `index` (mod length) with a different one from the same alphabet. */
const tamper = (value: string, index: number, alphabet: string) => {
  const i = index % value.length
  const current = alphabet.indexOf(value[i]!)
  const next = alphabet[(current + 1 + (index % (alphabet.length - 1))) % alphabet.length]!
  return value.slice(0, i) + next + value.slice(i + 1)
}

describe("signed links", () => {
  it("property: a genuine signature verifies; any single-character change to id, expiry or signature does not", () => {
    FastCheck.assert(
      FastCheck.property(fileId, expires, FastCheck.nat(), (id, exp, index) => {
        const signature = sign(SECRET, id, exp)
        assert.isTrue(verify(SECRET, id, String(exp), signature))
        assert.isFalse(
          verify(SECRET, tamper(id, index, "abcdefghijklmnopqrstuvwxyz0123456789_"), String(exp), signature)
        )
        assert.isFalse(verify(SECRET, id, tamper(String(exp), index, "0123456789"), signature))
        assert.isFalse(verify(SECRET, id, String(exp), tamper(signature, index, "0123456789abcdef")))
        assert.isFalse(verify("other-secret", id, String(exp), signature))
      }),
      { numRuns: 300 }
    )
  })

  it("rejects malformed inputs", () => {
    const signature = sign(SECRET, "file_a", 10)
    assert.isFalse(verify(SECRET, "file_a", "10.0", signature))
    assert.isFalse(verify(SECRET, "file_a", "", signature))
    assert.isFalse(verify(SECRET, "file_a", "10", signature.toUpperCase()))
    assert.isFalse(verify(SECRET, "file_a", "10", signature.slice(2)))
  })

  it.scoped("over the wire: tampered query strings are all refused with 403", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const file = (yield* emulator.exports)[0]!.files[0]!
      const api = yield* apiClient(emulator)
      const location = new URL(
        (yield* api.get("/exports/download", { urlParams: { id: file.id } })).headers["location"]!
      )
      const client = yield* HttpClient.HttpClient
      const samples = FastCheck.sample(
        FastCheck.tuple(FastCheck.constantFrom("expires", "signature"), FastCheck.nat()),
        { numRuns: 25, seed: 1 }
      )
      for (const [param, index] of samples) {
        const url = new URL(location)
        const alphabet = param === "expires" ? "0123456789" : "0123456789abcdef"
        url.searchParams.set(param, tamper(url.searchParams.get(param)!, index, alphabet))
        const response = yield* client.get(url.toString())
        assert.strictEqual(response.status, 403, url.search)
      }
      assert.strictEqual((yield* client.get(location.toString())).status, 200)
    }).pipe(Effect.provide(ClientLive))
  )
})
