// Runs the Effect language-service diagnostics (errors only) over every TypeScript project.
// The cli and examples projects reference all the others but sync, so checking them, sync and the packing test covers
// the whole tree.
import { spawnSync } from "node:child_process"
import { resolve } from "node:path"

const projects = [
  "packages/cli/tsconfig.json",
  "packages/sync/tsconfig.json",
  "examples/tsconfig.json",
  "packaging/tsconfig.json"
]
let failed = false
for (const project of projects) {
  const result = spawnSync(
    resolve("node_modules/.bin/effect-language-service"),
    ["diagnostics", "--project", resolve(project), "--severity", "error", "--format", "text"],
    { stdio: "inherit", shell: process.platform === "win32" }
  )
  if (result.error !== undefined) console.error(result.error.message)
  if (result.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
