/**
 * The floor of the idle import, in a module of its own: importing it loads nothing of the library.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

/**
 * The floor of the idle import: `@effect/platform-node`'s undici client alone, resolved as the library resolves it
 * (any client on it pays for this before a line of its own).
 *
 * @since 0.1.0
 * @category imports
 */
export const importTransport = async (): Promise<void> => {
  const library = fileURLToPath(import.meta.resolve("@batch-export/node"))
  // the ESM build, as the library imports it (`require.resolve` would give the CommonJS one: a second `effect`)
  const manifest = createRequire(library).resolve("@effect/platform-node/package.json")
  const json: unknown = JSON.parse(Fs.readFileSync(manifest, "utf8"))
  const entry = field(field(field(json, "exports"), "./NodeHttpClient"), "import")
  if (typeof entry !== "string") throw new Error("@effect/platform-node has no ESM NodeHttpClient export")
  await import(pathToFileURL(Path.join(Path.dirname(manifest), entry)).href)
}

const field = (value: unknown, name: string): unknown =>
  typeof value === "object" && value !== null ? Object.getOwnPropertyDescriptor(value, name)?.value : undefined
