/**
 * Deterministic test data for the emulator: identifiers and NDJSON export files.
 *
 * Everything here is a pure function of its inputs (a `seed` and record indices): the same arguments always give
 * the same bytes, on every platform. Values deliberately include multi-byte UTF-8 (`Zoë`, `北京`, emoji) so that
 * clients which split or decode chunked bodies incorrectly are caught.
 *
 * @since 0.1.0
 */
import { alnum, hex, mix, random, type Random } from "./internal/prng.js"

/**
 * The export types accepted by `POST /profiles/export`.
 *
 * @since 0.1.0
 * @category models
 */
export type ExportType = "ATTRIBUTES" | "EVENTS" | "REACHABILITY"

/**
 * One line of a `PROFILE_ATTRIBUTES` export file.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProfileRecord {
  readonly identifiers: {
    readonly custom_id?: string
    readonly installation_ids?: ReadonlyArray<string>
  }
  readonly attributes?: Readonly<Record<string, unknown>>
}

/**
 * One line of a `PROFILE_EVENTS` export file (the real format is undocumented; this shape is the emulator's own).
 *
 * @since 0.1.0
 * @category models
 */
export interface EventRecord {
  readonly identifiers: { readonly custom_id: string }
  readonly name: string
  readonly timestamp: string
  readonly attributes: Readonly<Record<string, unknown>>
}

/**
 * One line of a `PROFILE_REACHABILITY` export file (the real format is undocumented; this shape is the emulator's
 * own).
 *
 * @since 0.1.0
 * @category models
 */
export interface ReachabilityRecord {
  readonly identifiers: { readonly custom_id: string }
  readonly channel: "email" | "sms" | "push"
  readonly status: "subscribed" | "unsubscribed"
  readonly timestamp: string
}

/**
 * A time window in epoch milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Window {
  readonly from: number
  readonly to: number
}

const ID_KINDS = { export: 1, file: 2, project: 3 } as const

/**
 * A Batch-looking identifier: `export_`, `file_` or `project_` followed by 32 lower-case alphanumerics, derived
 * from `seed` and the numbers in `path` (e.g. an export index and a part number).
 *
 * @since 0.1.0
 * @category schemas
 */
export const id = (kind: "export" | "file" | "project", seed: number, ...path: ReadonlyArray<number>): string =>
  `${kind}_${alnum(random(mix(seed, ID_KINDS[kind], ...path)), 32)}`

/**
 * Formats epoch milliseconds as RFC 3339 UTC without milliseconds, the way Batch does (`2024-02-28T16:28:42Z`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatDate = (millis: number): string => `${new Date(millis).toISOString().slice(0, 19)}Z`

interface Locale {
  readonly language: string
  readonly region: string
  readonly timezone: string
  readonly city: string
  readonly dial: string
}

const LOCALES: ReadonlyArray<Locale> = [
  { language: "fr", region: "FR", timezone: "Europe/Paris", city: "Paris", dial: "+336" },
  { language: "fr", region: "FR", timezone: "Europe/Paris", city: "Besançon", dial: "+337" },
  { language: "de", region: "DE", timezone: "Europe/Berlin", city: "München", dial: "+49151" },
  { language: "es", region: "ES", timezone: "Europe/Madrid", city: "A Coruña", dial: "+346" },
  { language: "en", region: "GB", timezone: "Europe/London", city: "London", dial: "+447" },
  { language: "en", region: "US", timezone: "America/New_York", city: "New York", dial: "+1212" },
  { language: "zh", region: "CN", timezone: "Asia/Shanghai", city: "北京", dial: "+86139" },
  { language: "ja", region: "JP", timezone: "Asia/Tokyo", city: "東京", dial: "+8190" },
  { language: "pt", region: "BR", timezone: "America/Sao_Paulo", city: "São Paulo", dial: "+55119" },
  { language: "pl", region: "PL", timezone: "Europe/Warsaw", city: "Łódź", dial: "+4850" }
]

const FIRST_NAMES = [
  "Zoë",
  "José",
  "Amélie",
  "Łukasz",
  "Søren",
  "Chloé",
  "Björn",
  "Inès",
  "François",
  "Mia",
  "Liam",
  "Jürgen",
  "Siobhán",
  "Hélène",
  "Ana",
  "Noah",
  "美咲",
  "Yūki"
]

const LAST_NAMES = [
  "Martin",
  "Müller",
  "García",
  "Dubois",
  "Nowak",
  "Ødegaard",
  "Ferreira",
  "O'Brien",
  "Nguyễn",
  "Šimić",
  "Yılmaz",
  "Leroy",
  "Rossi",
  "王",
  "佐藤"
]

const NICKNAMES = ["🚀 Rocket", "Le Chef 👨‍🍳", "Ñandú", "Kraków ❤️", "«Bibi»", "tab\there", 'quote"d']
const PLANS = ["free", "silver", "gold", "platinum"]
const TOPICS = ["news", "offers", "product", "événements", "tips"]
const EVENT_NAMES = ["app_open", "purchase", "add_to_cart", "view_item", "sign_up"]
const ITEMS = ["Crème brûlée", "Smørrebrød", "Bœuf bourguignon", "抹茶ラテ", "Pão de queijo", "Coffee"]
const CHANNELS: ReadonlyArray<ReachabilityRecord["channel"]> = ["email", "sms", "push"]

/** 2024-01-01T00:00:00Z: the reference date for generated values. */
const EPOCH = 1_704_067_200_000
const DAY = 86_400_000

/**
 * The default window used for EVENTS / REACHABILITY records when none is given: the 90 days before
 * 2024-04-01T00:00:00Z.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultWindow: Window = { from: EPOCH + 1 * DAY, to: EPOCH + 91 * DAY }

const ascii = (value: string): string =>
  value
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/ł/gi, "l")
    .replace(/ø/gi, "o")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")

const ASCII = new Map<string, string>([...FIRST_NAMES, ...LAST_NAMES].map((name) => [name, ascii(name)]))

const customId = (index: number): string => `user-${String(index + 1).padStart(6, "0")}`

const uuid = (rng: Random): string =>
  `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${(8 + rng.int(4)).toString(16)}${hex(rng, 3)}-${hex(rng, 12)}`

const recordRandom = (seed: number, salt: number, index: number): Random => random(mix(seed, salt, index))

/**
 * The full profile with index `index` (0-based) of the project generated from `seed`. Its `custom_id` is
 * `user-` followed by `index + 1` on six digits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const profile = (seed: number, index: number): ProfileRecord => {
  const rng = recordRandom(seed, 0x50524f46, index)
  const locale = rng.pick(LOCALES)
  const first = rng.pick(FIRST_NAMES)
  const last = rng.pick(LAST_NAMES)
  const installations = rng.int(3)
  const installation_ids: Array<string> = []
  for (let i = 0; i < installations; i++) installation_ids.push(uuid(rng))
  const email = `${ASCII.get(first) || "user"}.${ASCII.get(last) || "profile"}.${index + 1}@example.com`
  const attributes: Record<string, unknown> = {
    $email_address: email,
    $email_marketing: rng.chance(0.7) ? "subscribed" : "unsubscribed",
    $language: locale.language,
    $region: locale.region,
    $timezone: locale.timezone
  }
  if (rng.chance(0.6)) {
    attributes.$phone_number = `${locale.dial}${String(rng.int(100_000_000)).padStart(8, "0")}`
    attributes.$sms_marketing = rng.chance(0.5) ? "subscribed" : "unsubscribed"
  }
  attributes.first_name = first
  attributes.last_name = last
  attributes.city = locale.city
  attributes.plan = rng.pick(PLANS)
  attributes.lifetime_value = Math.round(rng.next() * 500_000) / 100
  attributes.signup_date = formatDate(EPOCH - rng.int(3 * 365) * DAY - rng.int(DAY / 1000) * 1000)
  attributes.topics = TOPICS.filter(() => rng.chance(0.4))
  if (rng.chance(0.25)) attributes.nickname = rng.pick(NICKNAMES)
  return { identifiers: { custom_id: customId(index), installation_ids }, attributes }
}

/**
 * The custom event with index `index` (0-based), timestamped inside `window`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const event = (seed: number, index: number, window: Window = defaultWindow): EventRecord => {
  const rng = recordRandom(seed, 0x4556454e, index)
  const name = rng.pick(EVENT_NAMES)
  const attributes: Record<string, unknown> =
    name === "purchase" || name === "add_to_cart"
      ? { item: rng.pick(ITEMS), amount: Math.round(rng.next() * 20_000) / 100, currency: "EUR" }
      : { source: rng.pick(["push", "email", "organic", "deeplink"]) }
  return {
    identifiers: { custom_id: customId(rng.int(Math.max(1, index + 1))) },
    name,
    timestamp: formatDate(pickTime(rng, window)),
    attributes
  }
}

/**
 * The reachability (opt-in / opt-out) event with index `index` (0-based), timestamped inside `window`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const reachability = (seed: number, index: number, window: Window = defaultWindow): ReachabilityRecord => {
  const rng = recordRandom(seed, 0x52454143, index)
  return {
    identifiers: { custom_id: customId(rng.int(Math.max(1, index + 1))) },
    channel: rng.pick(CHANNELS),
    status: rng.chance(0.6) ? "subscribed" : "unsubscribed",
    timestamp: formatDate(pickTime(rng, window))
  }
}

const pickTime = (rng: Random, window: Window): number => {
  const span = Math.max(0, window.to - window.from)
  return window.from + Math.floor((rng.next() * span) / 1000) * 1000
}

/**
 * Which fields an ATTRIBUTES export keeps, mirroring the `attributes` / `identifiers` arrays of the creation
 * request. A missing list keeps nothing of that kind; `undefined` projection keeps everything.
 *
 * @since 0.1.0
 * @category models
 */
export interface Projection {
  readonly attributes?: ReadonlyArray<string> | undefined
  readonly identifiers?: ReadonlyArray<string> | undefined
}

/**
 * Applies a {@link Projection} to a profile.
 *
 * @since 0.1.0
 * @category constructors
 */
export const project = (record: ProfileRecord, projection: Projection | undefined): ProfileRecord => {
  if (projection === undefined) return record
  const identifiers: Record<string, unknown> = {}
  for (const key of projection.identifiers ?? []) {
    const value = (record.identifiers as Record<string, unknown>)[key]
    if (value !== undefined) identifiers[key] = value
  }
  if (projection.attributes === undefined) return { identifiers }
  const attributes: Record<string, unknown> = {}
  for (const key of projection.attributes) {
    const value = record.attributes?.[key]
    if (value !== undefined) attributes[key] = value
  }
  return { identifiers, attributes }
}

/**
 * Options of {@link parts}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PartsOptions {
  readonly seed: number
  /** default `"ATTRIBUTES"` */
  readonly exportType?: ExportType | undefined
  /** number of files, default 1 */
  readonly parts?: number | undefined
  /** records in each file, default 100; ignored when `bytesPerPart` is set */
  readonly recordsPerPart?: number | undefined
  /**
   * when set, each file gets records until it is at least this many bytes long; beyond {@link maxBlockBytes} it
   * repeats its first block of records (see {@link Part})
   */
  readonly bytesPerPart?: number | undefined
  /** ATTRIBUTES only */
  readonly projection?: Projection | undefined
  /** EVENTS / REACHABILITY only, default {@link defaultWindow} */
  readonly window?: Window | undefined
}

/**
 * Parts longer than this repeat their first block of whole records instead of generating every record, so a 1 GiB
 * part costs one block of memory and of generation time (its `custom_id`s repeat every block).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBlockBytes = 1024 * 1024

/**
 * One generated export file: NDJSON (one JSON object per line, every line `\n` terminated, UTF-8). Up to
 * {@link maxBlockBytes}, `block` is the whole file; beyond, the file is `block` repeated, the last copy cut at a line
 * end, so its bytes are computed on demand (see {@link slices}) and never held whole.
 *
 * @since 0.1.0
 * @category models
 */
export interface Part {
  readonly block: Uint8Array
  /** bytes in the file (at least `block.length`) */
  readonly size: number
  /** records (lines) in the file */
  readonly records: number
  /** offsets in `block` just after each `\n`, ascending */
  readonly lineEnds: ReadonlyArray<number>
}

const encoder = new TextEncoder()

/**
 * The line (without its trailing `\n`) of record `index` of an export.
 *
 * @since 0.1.0
 * @category constructors
 */
export const line = (options: PartsOptions, index: number): string => {
  switch (options.exportType ?? "ATTRIBUTES") {
    case "ATTRIBUTES":
      return JSON.stringify(project(profile(options.seed, index), options.projection))
    case "EVENTS":
      return JSON.stringify(event(options.seed, index, options.window))
    case "REACHABILITY":
      return JSON.stringify(reachability(options.seed, index, options.window))
  }
}

/** The file of `minBytes` (at least) made of `block` repeated, the last copy cut at the first line end that fits. */
const repeated = (block: Uint8Array, lineEnds: ReadonlyArray<number>, minBytes: number): Part => {
  const copies = Math.floor(minBytes / block.length)
  const rest = minBytes - copies * block.length
  let cut = 0
  while (cut < lineEnds.length && lineEnds[cut]! < rest) cut++
  const tail = rest === 0 ? 0 : cut + 1
  return {
    block,
    lineEnds,
    size: copies * block.length + (rest === 0 ? 0 : lineEnds[cut]!),
    records: copies * lineEnds.length + tail
  }
}

/**
 * Generates the files of one export. Record indices run on across parts, so part 2 continues where part 1 ended
 * (a repeated part contributes the records of its block).
 *
 * @since 0.1.0
 * @category constructors
 */
export const parts = (options: PartsOptions): ReadonlyArray<Part> => {
  const count = Math.max(0, options.parts ?? 1)
  const perPart = Math.max(0, options.recordsPerPart ?? 100)
  const minBytes = options.bytesPerPart
  const blockBytes = minBytes === undefined ? undefined : Math.min(minBytes, maxBlockBytes)
  const out: Array<Part> = []
  let index = 0
  for (let p = 0; p < count; p++) {
    const lines: Array<string> = []
    const lineEnds: Array<number> = []
    let size = 0
    while (blockBytes !== undefined ? size < blockBytes : lines.length < perPart) {
      const text = line(options, index) + "\n"
      lines.push(text)
      size += utf8Length(text)
      lineEnds.push(size)
      index++
    }
    const block = encoder.encode(lines.join(""))
    out.push(
      minBytes !== undefined && minBytes > block.length
        ? repeated(block, lineEnds, minBytes)
        : { block, lineEnds, size: block.length, records: lines.length }
    )
  }
  return out
}

/**
 * The bytes `[start, end)` of a part, as views into its block of at most `chunkSize` bytes each, produced on demand.
 *
 * @since 0.1.0
 * @category constructors
 */
export function* slices(part: Part, start = 0, end = part.size, chunkSize = 64 * 1024): Generator<Uint8Array> {
  const { block } = part
  let offset = Math.max(0, start)
  const stop = Math.min(end, part.size)
  while (offset < stop) {
    const inBlock = offset % block.length
    const length = Math.min(chunkSize, block.length - inBlock, stop - offset)
    yield block.subarray(inBlock, inBlock + length)
    offset += length
  }
}

/**
 * All the bytes of a part in one array (for tests and small parts: a repeated part is materialized whole).
 *
 * @since 0.1.0
 * @category constructors
 */
export const bytes = (part: Part): Uint8Array => {
  if (part.size === part.block.length) return part.block
  const out = new Uint8Array(part.size)
  let offset = 0
  for (const slice of slices(part, 0, part.size, part.block.length)) {
    out.set(slice, offset)
    offset += slice.length
  }
  return out
}

/**
 * Convenience: the bytes of a single NDJSON file of `records` full profiles.
 *
 * @since 0.1.0
 * @category constructors
 */
export const ndjson = (seed: number, records: number): Uint8Array =>
  parts({ seed, parts: 1, recordsPerPart: records })[0]!.block

const utf8Length = (text: string): number => {
  let length = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 0x80) length += code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 1 : 2
  }
  return length
}
