/**
 * A hand-written check for `Records.ProfileRecord`, used instead of the Schema decoder on the hot path.
 *
 * Why: the records benchmark (100 MB NDJSON) spent more time in the generic Schema decoder than in
 * `JSON.parse`; this check is a handful of property reads. It must mean exactly what the schema means, for every
 * value `JSON.parse` can return: where it answers `true`, the Schema decode succeeds with a value deep-equal to
 * its input (only key order may differ: the schema lists `identifiers` and `attributes` first), so the input is
 * used as is. Where it answers `false`, the caller runs the Schema decoder, which gives the exact result and
 * message. `test/ProfileRecord.test.ts` checks both directions on arbitrary JSON values.
 */
import type { ProfileRecord } from "../Records.js"

type Struct = { readonly [key: string]: unknown }

/** `Predicate.isRecord`, and no own `__proto__` key (the schema's rebuilt output would drop it). */
const isStruct = (u: unknown): u is Struct =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !Object.hasOwn(u, "__proto__")

export const isProfileRecord = (u: unknown): u is ProfileRecord => {
  if (!isStruct(u)) return false
  const identifiers = u["identifiers"]
  if (identifiers !== undefined) {
    if (!isStruct(identifiers)) return false
    const customId = identifiers["custom_id"]
    if (customId !== undefined && customId !== null && typeof customId !== "string") return false
    const installationIds = identifiers["installation_ids"]
    if (installationIds !== undefined) {
      if (!Array.isArray(installationIds)) return false
      for (const id of installationIds) if (typeof id !== "string") return false
    }
  }
  const attributes = u["attributes"]
  return attributes === undefined || isStruct(attributes)
}
