// Generates the API reference of every published package from its JSDoc with @effect/docgen (which also
// type-checks and runs every @example) into packages/<name>/docs, the Markdown the READMEs link to. A package
// without any @example fails: its examples are the only checked ones.
//
// With --check (run by `pnpm check`): regenerates, then fails when that changed a file of packages/*/docs (the
// reference there was stale: commit what this wrote).
import { spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { delimiter, join, relative, resolve, sep } from "node:path"

const packages = ["core", "node", "emulator", "cli", "sync"]
const check = process.argv.includes("--check")
const docgen = resolve("node_modules/.bin/docgen")
// docgen type-checks the examples by spawning `tsc` (and runs them with `tsx`) from the PATH
const env = { ...process.env, PATH: `${resolve("node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}` }

const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })

/** Every generated file (docgen's scratch examples/ aside) with its text. */
const snapshot = () =>
  new Map(
    packages
      .map((name) => resolve("packages", name, "docs"))
      .filter((dir) => existsSync(dir))
      .flatMap(files)
      .filter((file) => !file.includes(`${sep}docs${sep}examples${sep}`))
      .map((file) => [file, readFileSync(file, "utf8")])
  )

const markdownFiles = (dir) => files(dir).filter((file) => file.endsWith(".md"))

/** docgen in one package: its output, printed at its end (two run at once: each is mostly `tsc`, on one core). */
const generate = (name) =>
  new Promise((done) => {
    const cwd = resolve("packages", name)
    const child = spawn(docgen, [], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32"
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("close", (code) => {
      process.stdout.write(`docgen: packages/${name}\n${output}`)
      let ok = code === 0
      if (ok && output.includes("No examples found")) {
        console.error(`docs: packages/${name} has no @example: add one to its main entry point`)
        ok = false
      }
      if (ok) {
        // docgen's Markdown formatting turns the opening front-matter fence into a thematic break (`***`),
        // which GitHub then renders as text; put the fence back.
        for (const file of markdownFiles(join(cwd, "docs"))) {
          const text = readFileSync(file, "utf8")
          if (text.startsWith("***\n\n")) writeFileSync(file, "---\n" + text.slice(5))
        }
      }
      done(ok)
    })
  })

const before = check ? snapshot() : new Map()
const queue = [...packages]
const results = await Promise.all(
  [0, 1].map(async () => {
    let ok = true
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) ok = (await generate(name)) && ok
    return ok
  })
)
let failed = results.includes(false)

if (check && !failed) {
  const after = snapshot()
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
    (file) => before.get(file) !== after.get(file)
  )
  if (changed.length > 0) {
    console.error(
      "docs --check: the API reference was stale; `pnpm run docs` rewrote (commit them):\n" +
        changed.map((file) => `  ${relative(process.cwd(), file)}`).join("\n")
    )
    failed = true
  }
}
process.exit(failed ? 1 : 0)
