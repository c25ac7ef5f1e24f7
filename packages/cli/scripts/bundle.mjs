#!/usr/bin/env node
/**
 * Bundles the compiled `batch-export` executable (dist/src/bin.js, built by `tsc -b`) into dist/bundle/, the
 * `bin` the package publishes. Start-up of the unbundled bin is mostly Node resolving and compiling ~680 ES
 * modules; one file per command path loads in a fraction of that. Code splitting keeps each command's
 * handler (`import()` in src/commands/*) in its own chunk, loaded only when that command runs, so `--help`
 * still loads neither the client, undici nor the emulator. `--version` is answered by bin.js alone.
 *
 * Writes next to the bundle THIRD_PARTY_LICENSES.txt (the licence of every package whose code it holds),
 * and dist/bundle.meta.json (esbuild's metafile: which inputs went into which chunk; not published, the
 * tests read it).
 *
 * Usage: node packages/cli/scripts/bundle.mjs (from anywhere).
 */
import * as esbuild from "esbuild"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const cli = fileURLToPath(new URL("..", import.meta.url))
const entry = Path.join(cli, "dist/src/bin.js")
const outdir = Path.join(cli, "dist/bundle")

if (!existsSync(entry)) {
  console.error(`bundle: ${entry} is missing: run \`tsc -b\` first`)
  process.exit(1)
}

// a stale chunk from an earlier build must not be published
rmSync(outdir, { recursive: true, force: true })

const result = await esbuild.build({
  absWorkingDir: cli,
  entryPoints: { bin: entry },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "chunks/[name]-[hash]",
  // CommonJS dependencies (undici, …) call `require` for Node's built-ins: give every ES module output one
  banner: {
    js: `import { createRequire as __batchExportCreateRequire } from "node:module";\nconst require = __batchExportCreateRequire(import.meta.url);`
  },
  // Native code cannot be bundled: these are loaded from node_modules at run time, when present.
  //  - bufferutil, utf-8-validate: optional speed-ups `ws` tries in a try/catch (absent, as in the unbundled install)
  //  - better-sqlite3: the SQLite driver of @effect/sql-sqlite-node (`sync`'s default database), an
  //    optionalDependency of the package: an install never fails for it, and without it `sync` reports the driver
  //    missing
  //  - pg-native: the optional native binding `pg` loads only when `pg.native` is asked for
  external: ["bufferutil", "utf-8-validate", "better-sqlite3", "pg-native"],
  legalComments: "none",
  metafile: true,
  logLevel: "warning"
})

writeFileSync(Path.join(cli, "dist/bundle.meta.json"), JSON.stringify(result.metafile))

/** The directory of the package holding `file`: the nearest package.json with a name and a version. */
const packageRoot = (file) => {
  for (let dir = Path.dirname(file); dir !== Path.dirname(dir); dir = Path.dirname(dir)) {
    const manifestFile = Path.join(dir, "package.json")
    if (existsSync(manifestFile)) {
      const manifest = JSON.parse(readFileSync(manifestFile, "utf8"))
      if (typeof manifest.name === "string" && typeof manifest.version === "string") return { dir, manifest }
    }
  }
  throw new Error(`bundle: no package.json above ${file}`)
}

const packages = new Map()
for (const input of Object.keys(result.metafile.inputs)) {
  const { dir, manifest } = packageRoot(Path.resolve(cli, input))
  // our own packages: the package's LICENSE covers them
  if (manifest.name.startsWith("@batch-export/")) continue
  packages.set(`${manifest.name}@${manifest.version}`, { dir, manifest })
}

const sections = [...packages.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([id, { dir, manifest }]) => {
    const licenseFiles = readdirSync(dir)
      .filter((name) => /^(licen[cs]e|copying)(\.|-|$)/i.test(name))
      .sort()
    if (licenseFiles.length === 0 && typeof manifest.license !== "string") {
      throw new Error(`bundle: ${id} has neither a licence file nor a "license" field`)
    }
    const texts = licenseFiles.map((name) => readFileSync(Path.join(dir, name), "utf8").trim())
    return [
      `${id}`,
      `license: ${typeof manifest.license === "string" ? manifest.license : "see below"}`,
      ...(texts.length === 0
        ? ["(the package ships no licence text; its package.json declares the licence above)"]
        : texts)
    ].join("\n\n")
  })

writeFileSync(
  Path.join(outdir, "THIRD_PARTY_LICENSES.txt"),
  [
    "The batch-export executable (bin.js and chunks/) bundles code from the packages below, under their licences.",
    ...sections
  ].join(`\n\n${"-".repeat(78)}\n\n`) + "\n"
)
