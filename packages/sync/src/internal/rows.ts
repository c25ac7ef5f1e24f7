/**
 * From one export record to one staging row.
 *
 * ATTRIBUTES records must be profile records (the shape of core's `Records.ProfileRecord`, checked by hand
 * here for the same reason core does: a few property reads instead of a Schema decode per record). EVENTS and
 * REACHABILITY records have no documented shape: the raw record is kept whole, and the identifiers and
 * fields the emulator's records carry are copied out when present (NULL otherwise).
 */
type Struct = { readonly [key: string]: unknown }

const isStruct = (u: unknown): u is Struct => typeof u === "object" && u !== null && !Array.isArray(u)

// Postgres stores no U+0000, neither in text nor in jsonb (one such value would fail its whole part, on every
// retry): it becomes U+FFFD, on both databases so that they hold the same rows.
const NUL = "\u0000"
const REPLACEMENT = "\uFFFD"

const withoutNul = (value: unknown): unknown =>
  typeof value === "string"
    ? value.replaceAll(NUL, REPLACEMENT)
    : Array.isArray(value)
      ? value.map(withoutNul)
      : isStruct(value)
        ? Object.fromEntries(Object.entries(value).map(([key, v]) => [key.replaceAll(NUL, REPLACEMENT), withoutNul(v)]))
        : value

const stringOrNull = (u: unknown): string | null => (typeof u === "string" ? u.replaceAll(NUL, REPLACEMENT) : null)

/** JSON text of a value, or the reason it has none (a BigInt, a cycle, `undefined`). */
const toJson = (value: unknown): string | { readonly error: string } => {
  try {
    const text: unknown = JSON.stringify(value)
    if (typeof text !== "string") return { error: "the record is not a JSON value" }
    // the escape is rare: only then is the value walked
    return text.includes("\\u0000") ? JSON.stringify(withoutNul(value)) : text
  } catch (error) {
    return { error: `the record cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
}

/** The columns of each staging table that a row fills, in the order COPY sends them (the keys of the rows below). */
export const stagingColumns: Record<"ATTRIBUTES" | "EVENTS" | "REACHABILITY", ReadonlyArray<string>> = {
  ATTRIBUTES: [
    "project",
    "export_id",
    "part",
    "line",
    "profile_key",
    "custom_id",
    "installation_ids",
    "attributes",
    "extra"
  ],
  EVENTS: ["project", "export_id", "part", "line", "custom_id", "name", "event_time", "record"],
  REACHABILITY: ["project", "export_id", "part", "line", "custom_id", "channel", "status", "event_time", "record"]
}

/** A staging row, or why the record cannot be one. */
export type Mapped = { readonly row: Record<string, string | number | null> } | { readonly error: string }

/** Line `line` of part `part` of an export, as a row of its type's staging table. */
export type ToRow = (record: unknown, project: string, exportId: string, part: number, line: number) => Mapped

/**
 * Which profile a record is, so that a snapshot holds each profile once: its custom id when it has one, else
 * its smallest installation id (an installation belongs to one profile), else its position in the export (a
 * record without identifiers cannot be matched with anything, so it stays its own row). The prefixes keep the
 * three kinds apart.
 */
export const profileKey = (
  customId: string | null,
  installationIds: ReadonlyArray<string>,
  exportId: string,
  part: number,
  line: number
): string => {
  if (customId !== null && customId.length > 0) return `custom_id:${customId}`
  if (installationIds.length > 0) return `installation_id:${installationIds.reduce((a, b) => (b < a ? b : a))}`
  return `record:${exportId}:${part}:${line}`
}

/** What a profile record has beyond its custom id, installation ids and attributes, kept so nothing is lost. */
const extraOf = (record: Struct, identifiers: Struct | undefined): Struct | undefined => {
  // for…in and plain comparisons: this runs for every record, and most records have nothing extra
  let extra: Record<string, unknown> | undefined
  for (const key in record) {
    if (key !== "identifiers" && key !== "attributes") (extra ??= {})[key] = record[key]
  }
  if (identifiers !== undefined) {
    let others: Record<string, unknown> | undefined
    for (const key in identifiers) {
      if (key !== "custom_id" && key !== "installation_ids") (others ??= {})[key] = identifiers[key]
    }
    if (others !== undefined) (extra ??= {})["identifiers"] = others
  }
  return extra
}

export const profileRow: ToRow = (record, project, exportId, part, line) => {
  if (!isStruct(record)) return { error: "a profile record must be a JSON object" }
  const identifiers = record["identifiers"]
  if (identifiers !== undefined && !isStruct(identifiers)) return { error: "identifiers must be an object" }
  const customId = identifiers?.["custom_id"]
  if (customId !== undefined && customId !== null && typeof customId !== "string") {
    return { error: "identifiers.custom_id must be a string or null" }
  }
  const installationIds = identifiers?.["installation_ids"] ?? []
  if (!Array.isArray(installationIds)) return { error: "identifiers.installation_ids must be an array of strings" }
  let nul = false
  for (const id of installationIds) {
    if (typeof id !== "string") return { error: "identifiers.installation_ids must be an array of strings" }
    if (id.includes(NUL)) nul = true
  }
  const ids: ReadonlyArray<string> = installationIds
  const attributes = record["attributes"]
  if (attributes !== undefined && !isStruct(attributes)) return { error: "attributes must be an object" }
  const extra = extraOf(record, identifiers)
  const attributesJson = attributes === undefined ? null : toJson(attributes)
  const extraJson = extra === undefined ? null : toJson(extra)
  if (attributesJson !== null && typeof attributesJson !== "string") return attributesJson
  if (extraJson !== null && typeof extraJson !== "string") return extraJson
  const custom = stringOrNull(customId)
  // ids are compared as stored: with U+0000 replaced (rare: only then is a copy made)
  const storedIds = nul ? ids.map((id) => id.replaceAll(NUL, REPLACEMENT)) : ids
  return {
    row: {
      project,
      export_id: exportId,
      part,
      line,
      profile_key: profileKey(custom, storedIds, exportId, part, line),
      custom_id: custom,
      installation_ids: JSON.stringify(storedIds),
      attributes: attributesJson,
      extra: extraJson
    }
  }
}

const customIdOf = (record: Struct): string | null => {
  const identifiers = record["identifiers"]
  return isStruct(identifiers) ? stringOrNull(identifiers["custom_id"]) : stringOrNull(record["custom_id"])
}

const eventTimeOf = (record: Struct): string | null =>
  stringOrNull(record["timestamp"]) ?? stringOrNull(record["time"]) ?? stringOrNull(record["date"])

/** A record kept whole, with its custom id, its time and the `fields` its type names copied out. */
const rawRow =
  (fields: (record: Struct) => { readonly [column: string]: string | null }): ToRow =>
  (record, project, exportId, part, line) => {
    const json = toJson(record)
    if (typeof json !== "string") return json
    const struct = isStruct(record) ? record : {}
    return {
      row: {
        project,
        export_id: exportId,
        part,
        line,
        custom_id: customIdOf(struct),
        ...fields(struct),
        event_time: eventTimeOf(struct),
        record: json
      }
    }
  }

export const eventRow: ToRow = rawRow((record) => ({
  name: stringOrNull(record["name"]) ?? stringOrNull(record["event"])
}))

export const reachabilityRow: ToRow = rawRow((record) => ({
  channel: stringOrNull(record["channel"]),
  status: stringOrNull(record["status"])
}))
