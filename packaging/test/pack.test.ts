/**
 * The packages as a user gets them: packed (with pnpm, which publishes them, and with npm), installed with
 * npm from the tarballs into a fresh project outside the repository, and used there — both libraries
 * imported and type-checked, the installed `batch-export` bin run against the installed emulator, and
 * exactly one copy of `effect` in the tree.
 */
import * as Command from "@effect/platform/Command"
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const packages = ["core", "node", "emulator", "cli", "sync"] as const

const Manifest = Schema.Struct({
  name: Schema.String,
  version: Schema.String,
  exports: Schema.optional(Schema.Unknown),
  bin: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  dependencies: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  peerDependencies: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  peerDependenciesMeta: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Struct({ optional: Schema.optional(Schema.Boolean) }) })
  ),
  devDependencies: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})
type Manifest = typeof Manifest.Type
const parseManifest = Schema.decodeUnknownSync(Schema.parseJson(Manifest))

/** Every path an `exports` map points at, whatever the nesting of conditions. */
const exportTargets = (exports: unknown): ReadonlyArray<string> =>
  typeof exports === "string"
    ? [exports]
    : typeof exports === "object" && exports !== null
      ? Object.values(exports).flatMap(exportTargets)
      : []

// The environment of every child: this one without the npm_* variables pnpm sets for its scripts, which
// would steer the npm commands below (prefix, user agent, …).
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && !/^npm_/i.test(entry[0])
  )
)

interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const text = (bytes: Stream.Stream<Uint8Array, PlatformError>) => bytes.pipe(Stream.decodeText(), Stream.mkString)

const run = (cwd: string, command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.scoped(
    Effect.gen(function* () {
      const child = yield* Command.make(command, ...args).pipe(
        Command.workingDirectory(cwd),
        Command.env({ ...childEnv, ...env }, { extendEnv: false }),
        Command.start
      )
      const [stdout, stderr, code] = yield* Effect.all([text(child.stdout), text(child.stderr), child.exitCode], {
        concurrency: "unbounded"
      })
      return { code, stdout, stderr } satisfies Ran
    })
  )

/** `run`, failing the test with the command's stderr when it does not exit 0. */
const succeed = (cwd: string, command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.map(run(cwd, command, args, env), (ran) => {
    assert.strictEqual(ran.code, 0, `${command} ${args.join(" ")} exited ${ran.code}:\n${ran.stderr}${ran.stdout}`)
    return ran
  })

const lines = (s: string) => s.split("\n").filter((line) => line.length > 0)

describe("in the repository", () => {
  it.scopedLive(
    "`pnpm exec batch-export` runs the workspace's CLI and adds nothing to its output or exit code",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const manifest = parseManifest(yield* fs.readFileString(`${root}/packages/cli/package.json`))
        // the executable the package publishes (the bundle)
        const bin = `${root}/packages/cli/${manifest.bin?.["batch-export"]}`
        const pnpmExec = ["-y", "pnpm@12.4.2", "exec", "batch-export"]
        const version = yield* succeed(root, "npx", [...pnpmExec, "--version"])
        assert.strictEqual(version.stdout.trim(), manifest.version)
        assert.strictEqual(version.stderr, "")
        // a failure (no credentials): exactly what the bin itself prints and returns, so no `$ node …` echo
        // and no [ELIFECYCLE] line
        const env = { BATCH_REST_API_KEY: "", BATCH_PROJECT_KEY: "" }
        const direct = yield* run(root, process.execPath, [bin, "view", "export_0"], env)
        assert.notStrictEqual(direct.code, 0)
        assert.deepStrictEqual(yield* run(root, "npx", [...pnpmExec, "view", "export_0"], env), direct)
      }).pipe(Effect.provide(NodeContext.layer)),
    // three pnpm runs through npx: seconds when idle, tens of seconds on a loaded machine
    180_000
  )
})

describe("the published packages", () => {
  it.scopedLive(
    "pack with pnpm and npm, install with npm into a fresh project, import, type-check and run the bin",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const readManifest = (file: string) => Effect.map(fs.readFileString(file), parseManifest)

        // Outside the repository (the OS temp dir), so nothing resolves through the workspace.
        const tmp = yield* fs.makeTempDirectoryScoped({ prefix: "batch-export-pack-" })
        const byPnpm = path.join(tmp, "pnpm")
        const byNpm = path.join(tmp, "npm")
        const app = path.join(tmp, "app")
        for (const dir of [byPnpm, byNpm, app]) yield* fs.makeDirectory(dir)

        const manifests = new Map<string, Manifest>()
        for (const name of packages) {
          manifests.set(name, yield* readManifest(path.join(root, "packages", name, "package.json")))
        }
        const version = manifests.get("core")!.version
        for (const [name, manifest] of manifests) {
          assert.strictEqual(manifest.version, version, `${name}: one version for every package`)
          // effect & co. are peers (one copy, the user's), pinned exactly as devDependencies for our builds
          assert.isUndefined(manifest.dependencies?.["effect"], `${name}: effect is not a dependency`)
          assert.isDefined(manifest.peerDependencies?.["effect"], `${name}: effect is a peer dependency`)
          for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
            // ours: one version for all, checked above
            if (peer.startsWith("@batch-export/")) continue
            const pinned = manifest.devDependencies?.[peer] ?? ""
            assert.match(pinned, /^\d+\.\d+\.\d+$/, `${name}: ${peer} pinned exactly as a devDependency`)
            assert.strictEqual(range, `^${pinned}`, `${name}: ${peer}'s peer range starts at the pinned version`)
          }
        }

        // Both packers run `prepack` (tsc -b), so dist/ is built and packed even from a clean clone.
        yield* succeed(
          root,
          "npx",
          ["-y", "pnpm@12.4.2", "-r", "--filter", "./packages/*", "pack"].concat(["--pack-destination", byPnpm])
        )
        yield* succeed(root, "npm", [
          "pack",
          ...packages.map((name) => `./packages/${name}`),
          "--pack-destination",
          byNpm
        ])

        const tarball = (dir: string, name: string) => path.join(dir, `batch-export-${name}-${version}.tgz`)
        for (const name of packages) {
          const listing = lines((yield* succeed(tmp, "tar", ["-tzf", tarball(byPnpm, name)])).stdout)
          const npmListing = lines((yield* succeed(tmp, "tar", ["-tzf", tarball(byNpm, name)])).stdout)
          assert.deepStrictEqual(
            [...npmListing].sort(),
            [...listing].sort(),
            `${name}: npm and pnpm pack the same files`
          )
          const files = new Set(listing.map((entry) => entry.replace(/^package\//, "")))
          for (const required of ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "dist/src/index.js"]) {
            assert.isTrue(files.has(required), `${name}: the tarball has ${required}`)
          }
          if (name === "cli") {
            // the bin is a bundle of third-party code: their licences ship with it
            assert.isTrue(files.has("dist/bundle/THIRD_PARTY_LICENSES.txt"), "cli: the bundle's licences are packed")
          }
          const manifest = parseManifest(
            (yield* succeed(tmp, "tar", ["-xzOf", tarball(byPnpm, name), "package/package.json"])).stdout
          )
          if (name === "cli") {
            // the bin is the bundle: nothing to install with it (the library API's imports are optional peers)
            assert.isUndefined(manifest.dependencies, "cli: no runtime dependencies")
            assert.deepStrictEqual(
              Object.keys(manifest.peerDependencies ?? {}).filter(
                (peer) => manifest.peerDependenciesMeta?.[peer]?.optional !== true
              ),
              [],
              "cli: every peer is optional (npm installs the others)"
            )
          }
          for (const file of files) {
            assert.notMatch(
              file,
              /(^|\/)test\/|\.test\.|tsbuildinfo|tsconfig|docgen/,
              `${name}: ${file} is not published`
            )
          }
          const packed = (yield* succeed(tmp, "tar", ["-xzOf", tarball(byPnpm, name), "package/package.json"])).stdout
          const npmPacked = (yield* succeed(tmp, "tar", ["-xzOf", tarball(byNpm, name), "package/package.json"])).stdout
          for (const manifestText of [packed, npmPacked]) {
            assert.notInclude(manifestText, "workspace:", `${name}: no workspace: protocol left in the manifest`)
          }
          assert.deepStrictEqual(parseManifest(npmPacked).dependencies, manifest.dependencies)
          assert.deepStrictEqual(parseManifest(npmPacked).peerDependencies, manifest.peerDependencies)
          const targets = [...exportTargets(manifest.exports), ...Object.values(manifest.bin ?? {})]
          assert.include(targets, "./dist/src/index.d.ts", `${name}: exports resolve to built types`)
          for (const target of targets) {
            assert.isTrue(files.has(target.replace(/^\.\//, "")), `${name}: ${target} is in the tarball`)
          }
        }

        // A fresh npm project: our tarballs, and the peers pinned to the versions we build with.
        const cliManifest = manifests.get("cli")!
        const peers = Object.fromEntries(
          Object.entries(cliManifest.devDependencies ?? {}).filter(
            ([name]) => !name.startsWith("@batch-export/") && cliManifest.peerDependencies?.[name] !== undefined
          )
        )
        yield* fs.writeFileString(
          path.join(app, "package.json"),
          JSON.stringify({
            name: "consumer",
            private: true,
            type: "module",
            dependencies: {
              ...Object.fromEntries(packages.map((name) => [`@batch-export/${name}`, `file:${tarball(byPnpm, name)}`])),
              ...peers
            }
          })
        )
        // --omit=optional: the CLI's optional better-sqlite3 would compile from source here (see below)
        yield* succeed(app, "npm", [
          "install",
          "--omit=optional",
          "--no-audit",
          "--no-fund",
          "--prefer-offline",
          "--loglevel=error"
        ])
        // every peer range satisfied, nothing missing or invalid
        yield* succeed(app, "npm", ["ls", "--all"])

        // Exactly one copy of effect in the whole tree (two copies break Context tags and the user's types).
        const entries = yield* fs.readDirectory(path.join(app, "node_modules"), { recursive: true })
        const copies = entries.filter((entry) => entry === "effect" || entry.endsWith("/node_modules/effect"))
        assert.deepStrictEqual(copies, ["effect"])
        assert.strictEqual(
          (yield* readManifest(path.join(app, "node_modules/effect/package.json"))).version,
          peers["effect"]
        )

        // Both libraries import (and run) from their built dist/ ...
        yield* fs.writeFileString(
          path.join(app, "imports.mjs"),
          [
            `import { Records } from "@batch-export/core"`,
            `import { ExportsClient } from "@batch-export/node"`,
            // without either SQL driver installed (optional peers): they load only when a layer is built
            `import { Database, Sink } from "@batch-export/sync"`,
            `import { Effect, Stream } from "effect"`,
            `const bytes = Stream.make(new TextEncoder().encode('{"a":1}\\n{"b":2}\\n'))`,
            `const records = await Effect.runPromise(Stream.runCount(Records.values(bytes)))`,
            `const sink = [typeof Sink.layer, typeof Database.layerSqlite, typeof Database.layerPg].join(",")`,
            `console.log(JSON.stringify({ records, layerConfig: typeof ExportsClient.layerConfig, sink }))`
          ].join("\n")
        )
        const imported = yield* succeed(app, process.execPath, ["imports.mjs"])
        const result: unknown = JSON.parse(imported.stdout)
        assert.deepStrictEqual(result, { records: 2, layerConfig: "function", sink: "object,function,function" })

        // ... and type-check through their `types`, against the consumer's own effect.
        yield* fs.writeFileString(
          path.join(app, "consumer.ts"),
          [
            `import { Records } from "@batch-export/core"`,
            `import { ExportsClient } from "@batch-export/node"`,
            `import { Effect, Layer, Stream } from "effect"`,
            `const program = Effect.gen(function* () {`,
            `  const client = yield* ExportsClient.ExportsClient`,
            `  return client`,
            `})`,
            `const layer: Layer.Layer<ExportsClient.ExportsClient, unknown, unknown> = ExportsClient.layerConfig()`,
            `export const main: Effect.Effect<unknown, unknown, unknown> = Effect.provide(program, layer)`,
            `export const count: Effect.Effect<number, unknown> = Stream.runCount(Records.values(Stream.make(new Uint8Array())))`
          ].join("\n")
        )
        yield* fs.writeFileString(
          path.join(app, "tsconfig.json"),
          JSON.stringify({
            compilerOptions: {
              target: "ES2022",
              module: "NodeNext",
              moduleResolution: "NodeNext",
              strict: true,
              exactOptionalPropertyTypes: true,
              noEmit: true,
              skipLibCheck: true,
              types: []
            },
            files: ["consumer.ts"]
          })
        )
        yield* succeed(app, process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "."])

        // The installed bin: its version, then list, download and records against the installed emulator.
        const bin = path.join(app, "node_modules/.bin/batch-export")
        assert.strictEqual((yield* succeed(app, bin, ["--version"])).stdout.trim(), version)

        const emulator = yield* Command.make(bin, "emulator").pipe(
          Command.workingDirectory(app),
          Command.env(childEnv, { extendEnv: false }),
          Command.start
        )
        const banner = yield* emulator.stdout.pipe(
          Stream.decodeText(),
          Stream.splitLines,
          Stream.takeUntil((line) => line.startsWith("try:")),
          Stream.runCollect,
          Effect.timeoutFail({
            duration: Duration.seconds(60),
            onTimeout: () => new Error("`batch-export emulator` printed no `try:` line within 60 s")
          })
        )
        const env = Object.fromEntries(
          [...banner].flatMap((line) => {
            const match = /^export (BATCH_\w+)=(\S+)$/.exec(line)
            return match === null ? [] : [[match[1]!, match[2]!]]
          })
        )
        assert.includeMembers(Object.keys(env), ["BATCH_REST_API_KEY", "BATCH_PROJECT_KEY", "BATCH_API_URL"])
        const exportId = Option.getOrThrow(
          Option.fromNullable([...banner].map((line) => /^\s+(export_\w+)\s+SUCCESS\b/.exec(line)?.[1]).find(Boolean))
        )
        const fileId = Option.getOrThrow(
          Option.fromNullable(
            [...banner].map((line) => /^try: batch-export download (file_\w+)/.exec(line)?.[1]).find(Boolean)
          )
        )
        const size = Number(
          [...banner].map((line) => new RegExp(`^\\s+${fileId}\\s.*?(\\d+) bytes$`).exec(line)?.[1]).find(Boolean)
        )

        const listed = yield* succeed(app, bin, ["list"], env)
        assert.include(listed.stdout, exportId)
        const out = path.join(app, "part.json")
        yield* succeed(app, bin, ["download", fileId, "--out", out], env)
        assert.strictEqual((yield* fs.stat(out)).size, FileSystem.Size(size))
        const records = yield* succeed(app, bin, ["records", exportId, "--limit", "2"], env)
        assert.strictEqual(lines(records.stdout).length, 2)
        for (const record of lines(records.stdout)) {
          const value: unknown = JSON.parse(record)
          assert.isObject(value)
        }

        // --version comes from the installed package.json at run time, not from a constant in the code.
        const installed = path.join(app, "node_modules/@batch-export/cli/package.json")
        const manifestText = yield* fs.readFileString(installed)
        yield* fs.writeFileString(
          installed,
          manifestText.replace(`"version": "${version}"`, `"version": "7.7.7-check"`)
        )
        assert.strictEqual((yield* succeed(app, bin, ["--version"])).stdout.trim(), "7.7.7-check")

        // The CLI alone, installed as the README says to today: `npm install --global <the cli tarball>`. Its
        // optional better-sqlite3 (sync's SQLite driver) would compile from source here (no prebuilt binary can be
        // fetched: ~85 s), so this install skips install scripts.
        const quietly = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"]
        const globalPrefix = path.join(tmp, "global")
        yield* succeed(tmp, "npm", [
          "install",
          "--global",
          "--prefix",
          globalPrefix,
          "--ignore-scripts",
          ...quietly,
          tarball(byNpm, "cli")
        ])
        assert.strictEqual(
          (yield* succeed(tmp, path.join(globalPrefix, "bin/batch-export"), ["--version"])).stdout.trim(),
          version
        )

        // Its size without the optional dependency, in a project (npm ignores --omit for a global install): the
        // bundle and the package's own files, nothing else.
        const alone = path.join(tmp, "alone")
        yield* fs.makeDirectory(alone)
        yield* fs.writeFileString(path.join(alone, "package.json"), JSON.stringify({ name: "alone", private: true }))
        yield* succeed(alone, "npm", ["install", "--omit=optional", ...quietly, tarball(byPnpm, "cli")])
        const aloneModules = path.join(alone, "node_modules")
        const installedFiles = yield* fs.readDirectory(aloneModules, { recursive: true })
        const packagesInstalled = installedFiles.filter((file) => file.endsWith(`${path.sep}package.json`))
        assert.deepStrictEqual(packagesInstalled, [path.join("@batch-export", "cli", "package.json")], "nothing else")
        let bytes = 0
        for (const file of installedFiles) {
          const info = yield* fs.stat(path.join(aloneModules, file))
          if (info.type === "File") bytes += Number(info.size)
        }
        // about 3.5 MB today (the bundle 2.6 MB; the library's dist/src and src); the 90 MB of a full tree
        // (effect, @effect/*, undici, …) must not come back
        assert.isBelow(bytes, 6 * 1024 * 1024, `the CLI installs ${bytes} bytes`)
        // the bundle runs alone: the whole workflow against its in-process emulator
        const demo = yield* succeed(alone, path.join(aloneModules, ".bin/batch-export"), [
          "demo",
          "--out-dir",
          path.join(alone, "demo"),
          "--json"
        ])
        const Summary = Schema.parseJson(Schema.Struct({ records: Schema.Number }))
        assert.strictEqual(Schema.decodeUnknownSync(Summary)(demo.stdout).records, 1500)
      }).pipe(Effect.provide(NodeContext.layer)),
    // two packs (each with its build), an npm install and seven CLI runs: about a minute on an idle machine,
    // several on a loaded one (the check runs every suite at once on two cores)
    600_000
  )
})
