/**
 * The SQLite limit of benchmark 6: a bare loop that reads the NDJSON file from disk, `JSON.parse`s each line, maps
 * it with the sink's own row mapping (`packages/sync`'s `internal/rows.js`, loaded from the built package by path:
 * the same columns and JSON text as ours, and no Effect) and inserts it with one prepared statement, in one
 * transaction, through better-sqlite3 (WAL, as `@effect/sql-sqlite-node` opens it).
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"

type Row = Record<string, string | number | null>
type ProfileRow = (
  record: unknown,
  project: string,
  exportId: string,
  part: number,
  line: number
) => { readonly row: Row } | { readonly error: string }

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/** The sink's row mapping and its staging columns, from sync's built `internal/rows.js`. */
const rowsModule = async (): Promise<{ readonly map: ProfileRow; readonly columns: ReadonlyArray<string> }> => {
  const module: unknown = await import(
    new URL("../../../packages/sync/dist/src/internal/rows.js", import.meta.url).href
  )
  const mapper = isRecord(module) ? module["profileRow"] : undefined
  const staging = isRecord(module) ? module["stagingColumns"] : undefined
  const columns = isRecord(staging) ? staging["ATTRIBUTES"] : undefined
  if (typeof mapper !== "function" || !Array.isArray(columns) || !columns.every((c) => typeof c === "string")) {
    throw new Error("sync's internal/rows.js has no profileRow or stagingColumns")
  }
  const map: ProfileRow = (record, project, exportId, part, line) => {
    const mapped: unknown = mapper(record, project, exportId, part, line)
    if (isRecord(mapped) && isRecord(mapped["row"])) {
      const row: Row = {}
      for (const column of columns) {
        const value = mapped["row"][column]
        row[column] = typeof value === "string" || typeof value === "number" ? value : null
      }
      return { row }
    }
    return { error: isRecord(mapped) && typeof mapped["error"] === "string" ? mapped["error"] : "unmappable" }
  }
  return { map, columns }
}

/**
 * Opens the database and prepares the statement (set-up); `load` is the timed work and returns the rows inserted.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = async (filename: string) => {
  const Sqlite = (await import("better-sqlite3")).default
  const { columns, map } = await rowsModule()
  const db = new Sqlite(filename)
  db.pragma("journal_mode = WAL")
  const insert = db.prepare(
    `INSERT INTO batch_profiles_staging (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`
  )
  return {
    load: async (ndjson: string): Promise<number> => {
      let line = 0
      let rest = ""
      db.exec("BEGIN")
      const take = (text: string) => {
        if (text === "") return
        line++
        const mapped = map(JSON.parse(text), "bench", "bench", 1, line)
        if ("error" in mapped) throw new Error(`line ${line}: ${mapped.error}`)
        insert.run(mapped.row)
      }
      for await (const chunk of Fs.createReadStream(ndjson, { encoding: "utf8", highWaterMark: 1 << 20 })) {
        const lines = (rest + String(chunk)).split("\n")
        rest = lines.pop() ?? ""
        for (const text of lines) take(text)
      }
      take(rest)
      db.exec("COMMIT")
      db.close()
      return line
    }
  }
}
