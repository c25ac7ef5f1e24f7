/**
 * The reference clients: what a user writes by hand with the undici that `@effect/platform-node` ships, going
 * through the same 307 as the library (ask the API for the link, then GET the `Location`).
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import { pipeline } from "node:stream/promises"
import { fileURLToPath } from "node:url"
import { createGunzip } from "node:zlib"
import { request } from "undici"
import type { Api, Format } from "./spec.js"

/**
 * The undici `@effect/platform-node` resolves and the one imported here must be the same files, or the comparison
 * measures two transports.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkSameUndici = (): void => {
  const ours = createRequire(import.meta.url).resolve("undici")
  // the library's own resolution chain: @batch-export/node → @effect/platform-node → undici
  const library = fileURLToPath(import.meta.resolve("@batch-export/node"))
  const platform = createRequire(createRequire(library).resolve("@effect/platform-node/NodeHttpClient")).resolve(
    "undici"
  )
  if (Fs.realpathSync(ours) !== Fs.realpathSync(platform)) {
    throw new Error(`bench undici (${ours}) is not @effect/platform-node's (${platform}): pin the same version`)
  }
}

/**
 * `GET /{version}/exports/download`: the signed storage URL from the 307.
 *
 * @since 0.1.0
 * @category reference
 */
export const link = async (api: Api, fileId: string): Promise<string> => {
  const response = await request(`${api.url}/2.10/exports/download?id=${encodeURIComponent(fileId)}`, {
    headers: { authorization: `Bearer ${api.restApiKey}`, "x-batch-project": api.projectKey }
  })
  await response.body.dump()
  const location = response.headers["location"]
  if (response.statusCode !== 307 || typeof location !== "string") {
    throw new Error(`expected a 307 with a Location, got ${response.statusCode}`)
  }
  return location
}

const storage = async (api: Api, fileId: string) => {
  const response = await request(await link(api, fileId))
  if (response.statusCode !== 200) {
    await response.body.dump()
    throw new Error(`storage answered ${response.statusCode}`)
  }
  return response.body
}

/**
 * undici `request` → `pipeline` → `fs.createWriteStream`; returns the bytes written.
 *
 * @since 0.1.0
 * @category reference
 */
export const downloadToFile = async (api: Api, fileId: string, path: string): Promise<number> => {
  await pipeline(await storage(api, fileId), Fs.createWriteStream(path))
  return Fs.statSync(path).size
}

/**
 * The bare record loop: `split("\n")` + `JSON.parse`, no validation unless `check` is given (then every value must
 * pass it). A JSON array is written one record per line
 * (`[`, `{…},`, …, `]`), so the same loop only strips the brackets and commas.
 *
 * @since 0.1.0
 * @category reference
 */
export const countRecords = async (
  api: Api,
  fileId: string,
  format: Format,
  check?: (value: unknown) => boolean
): Promise<number> => {
  const body = await storage(api, fileId)
  const text = format === "gzip" ? body.pipe(createGunzip()) : body
  text.setEncoding("utf8")
  let count = 0
  let rest = ""
  const parse = (line: string) => {
    let value: unknown
    if (format === "array") {
      if (line === "[" || line === "]" || line === "") return
      value = JSON.parse(line.endsWith(",") ? line.slice(0, -1) : line)
    } else {
      if (line === "") return
      value = JSON.parse(line)
    }
    if (check !== undefined && !check(value)) throw new Error(`record ${count + 1} is not a ProfileRecord`)
    count++
  }
  for await (const chunk of text) {
    const lines = (rest + String(chunk)).split("\n")
    rest = lines.pop() ?? ""
    for (const line of lines) parse(line)
  }
  parse(rest)
  return count
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/**
 * `GET /exports/view`, then every file with {@link downloadToFile}, `concurrency` at a time (a bare worker pool);
 * returns the bytes written.
 *
 * @since 0.1.0
 * @category reference
 */
export const downloadAll = async (
  api: Api,
  exportId: string,
  directory: string,
  concurrency: number
): Promise<number> => {
  const response = await request(`${api.url}/2.10/exports/view?id=${encodeURIComponent(exportId)}`, {
    headers: { authorization: `Bearer ${api.restApiKey}`, "x-batch-project": api.projectKey }
  })
  const body: unknown = await response.body.json()
  const files = isRecord(body) && Array.isArray(body["files"]) ? body["files"] : []
  const ids = files.flatMap((file: unknown) => (isRecord(file) && typeof file["id"] === "string" ? [file["id"]] : []))
  let next = 0
  let total = 0
  const worker = async () => {
    for (let index = next++; index < ids.length; index = next++) {
      const bytes = await downloadToFile(api, ids[index]!, `${directory}/part-${index + 1}.json`)
      total += bytes
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker))
  return total
}
