import { Records } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { isProfileRecord } from "../src/internal/profileRecord.js"

const json = FastCheck.jsonValue({ maxDepth: 3 })
const maybe = <A>(arb: FastCheck.Arbitrary<A>) => FastCheck.option(arb, { nil: undefined })
/** Values shaped like profiles, with every field now and then of the wrong type, or a `__proto__` key. */
const profileLike = FastCheck.record(
  {
    identifiers: FastCheck.oneof(
      FastCheck.record(
        {
          custom_id: FastCheck.oneof(FastCheck.string(), FastCheck.constant(null), json),
          installation_ids: FastCheck.oneof(FastCheck.array(FastCheck.string()), FastCheck.array(json), json),
          __proto__: json,
          other: json
        },
        { requiredKeys: [] }
      ),
      json
    ),
    attributes: FastCheck.oneof(FastCheck.dictionary(FastCheck.string(), json), json),
    __proto__: maybe(json),
    extra: json
  },
  { requiredKeys: [] }
)
/** Only what `JSON.parse` can return: `__proto__` becomes an own key, as it does in a real file. */
const parsed = FastCheck.oneof(json, profileLike).map((v) => JSON.parse(JSON.stringify(v) ?? "null") as unknown)

const decodeSchema = Schema.decodeUnknownEither(Records.ProfileRecord)

describe("ProfileRecord's hand-written check", () => {
  it("agrees with the Schema decode on arbitrary JSON values", () => {
    let accepted = 0
    FastCheck.assert(
      FastCheck.property(parsed, (value) => {
        const schema = decodeSchema(value)
        if (isProfileRecord(value)) {
          accepted++
          // accepted as is: the schema accepts too, with a deep-equal value
          assert.isTrue(Either.isRight(schema))
          if (Either.isRight(schema)) assert.deepStrictEqual(schema.right, value)
        } else if (!JSON.stringify(value).includes('"__proto__"')) {
          // refused: the schema refuses too (records with `__proto__` keys are left to the schema)
          assert.isTrue(Either.isLeft(schema), JSON.stringify(value))
        }
      }),
      { numRuns: 2000 }
    )
    assert.isAbove(accepted, 300)
  })

  it.effect("decode gives the same records and errors with the fast check as through the schema alone", () =>
    Effect.promise(() =>
      FastCheck.assert(
        FastCheck.asyncProperty(FastCheck.array(parsed, { maxLength: 6 }), async (records) => {
          const bytes = new TextEncoder().encode(records.map((r) => JSON.stringify(r)).join("\n"))
          // a distinct schema object with the same meaning (and messages) takes the plain Schema path
          const viaSchema = Schema.Struct(Records.ProfileRecord.fields, ...Records.ProfileRecord.records)
          const run = <A>(stream: Stream.Stream<A, Records.RecordDecodeError>) =>
            Effect.runPromise(Stream.runCollect(Stream.either(stream)).pipe(Effect.map(Chunk.toReadonlyArray)))
          const fast = await run(Records.decode(Stream.make(bytes)))
          const plain = await run(Records.decode(Stream.make(bytes), { schema: viaSchema }))
          assert.deepStrictEqual(fast, plain)
        }),
        { numRuns: 100 }
      )
    )
  )
})
