#!/usr/bin/env node
/**
 * The `batch-export` executable. `--version` alone is answered from package.json without loading Effect, the
 * client or @effect/cli (about 2 s of imports on a loaded machine, for one line); everything else loads the
 * CLI (`internal/main.ts`).
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"

const args = process.argv.slice(2)
if (args.length === 1 && args[0] === "--version") {
  const manifest: unknown = createRequire(import.meta.url)("@batch-export/cli/package.json")
  const version =
    typeof manifest === "object" && manifest !== null && "version" in manifest && typeof manifest.version === "string"
      ? manifest.version
      : "unknown"
  // as @effect/cli prints it
  process.stdout.write(`${version}\n\n`)
} else {
  await import("./internal/main.js")
}
