import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

// The CLI's modules import one way: a command (src/commands/*) loads its handler (src/internal/handlers/*) with
// `import()`, and what both use (renderers, the demo's constants, the records id check) lives below them
// (src/internal/render/*, …). A handler importing its command back made a circle per command: the module
// graph must stay a tree-like DAG for the lazy loading (and the bundle's chunks) to mean what they say.

const src = fileURLToPath(new URL("../src/", import.meta.url))

/** Every .ts file under `dir`, as paths relative to src/. */
const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith(".ts") ? [Path.relative(src, path)] : []
  })

/**
 * The modules of src/ each module imports: static, `import type`, re-exports and `import()` alike (a type-only
 * import is a circle for the reader, if not for Node).
 */
const importGraph = (root: string, files: ReadonlyArray<string>): ReadonlyMap<string, ReadonlyArray<string>> =>
  new Map(
    files.map((file) => {
      const text = readFileSync(Path.join(root, file), "utf8")
      const imported = ts
        .preProcessFile(text, true, true)
        .importedFiles.map((ref) => ref.fileName)
        .filter((name) => name.startsWith("."))
        .map((name) => Path.normalize(Path.join(Path.dirname(file), name)).replace(/\.js$/, ".ts"))
      return [file, imported] as const
    })
  )

/** The circles of `graph`, each as the path of modules from a module back to itself (one per circle found). */
const circles = (graph: ReadonlyMap<string, ReadonlyArray<string>>): ReadonlyArray<ReadonlyArray<string>> => {
  const found: Array<ReadonlyArray<string>> = []
  const done = new Set<string>()
  const visit = (file: string, path: ReadonlyArray<string>): void => {
    const at = path.indexOf(file)
    if (at !== -1) {
      found.push([...path.slice(at), file])
      return
    }
    if (done.has(file)) return
    for (const next of graph.get(file) ?? []) visit(next, [...path, file])
    done.add(file)
  }
  for (const file of graph.keys()) visit(file, [])
  return found
}

describe("the CLI's module graph", () => {
  const graph = importGraph(src, sources(src))

  it("resolves every relative import to a file of src/", () => {
    for (const [file, imported] of graph) {
      for (const target of imported) assert.isTrue(graph.has(target), `${file} imports ${target}, not in src/`)
    }
  })

  it("has no import circle", () => {
    assert.deepStrictEqual(
      circles(graph).map((circle) => circle.join(" -> ")),
      []
    )
  })

  it("finds a circle when there is one (the check itself)", () => {
    const graph = new Map([
      ["commands/a.ts", ["internal/handlers/a.ts", "internal/render/a.ts"]],
      ["internal/handlers/a.ts", ["internal/render/a.ts", "commands/a.ts"]],
      ["internal/render/a.ts", []]
    ])
    assert.deepStrictEqual(circles(graph), [["commands/a.ts", "internal/handlers/a.ts", "commands/a.ts"]])
  })
})
