// Generates the API reference of every published package from its JSDoc with @effect/docgen (which also
// type-checks every @example) into packages/<name>/docs, the Markdown the READMEs link to.
import { spawnSync } from "node:child_process"
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { delimiter, join, resolve } from "node:path"

const packages = ["core", "node", "emulator", "cli", "sync"]
const docgen = resolve("node_modules/.bin/docgen")
// docgen type-checks the examples by spawning `tsc` (and runs them with `tsx`) from the PATH
const env = { ...process.env, PATH: `${resolve("node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}` }

const markdownFiles = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? markdownFiles(path) : name.endsWith(".md") ? [path] : []
  })

let failed = false
for (const name of packages) {
  const cwd = resolve("packages", name)
  console.log(`docgen: packages/${name}`)
  const result = spawnSync(docgen, [], { cwd, env, stdio: "inherit", shell: process.platform === "win32" })
  if (result.status !== 0) {
    failed = true
    continue
  }
  // docgen's Markdown formatting turns the opening front-matter fence into a thematic break (`***`),
  // which GitHub then renders as text; put the fence back.
  for (const file of markdownFiles(join(cwd, "docs"))) {
    const text = readFileSync(file, "utf8")
    if (text.startsWith("***\n\n")) writeFileSync(file, "---\n" + text.slice(5))
  }
}
process.exit(failed ? 1 : 0)
