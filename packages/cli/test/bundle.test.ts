import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { envFor } from "./support/harness.js"
import { loading } from "./support/loading.js"
import { bin } from "./support/process.js"

// The published `batch-export` is the bundle (scripts/bundle.mjs, run by `pnpm build`/`check`/`prepack`): a
// few files instead of ~680 modules to resolve and compile at start-up. Not skipped when missing: a missing
// bundle is a missing bin.

const packageDir = fileURLToPath(new URL("../", import.meta.url))
const bundleDir = Path.join(packageDir, "dist/bundle")

/** What esbuild's metafile says about each output file: the inputs whose code it holds. */
const Metafile = Schema.Struct({
  inputs: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  outputs: Schema.Record({
    key: Schema.String,
    value: Schema.Struct({ inputs: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
  })
})
const metafile = Schema.decodeUnknownSync(Schema.parseJson(Metafile))(
  readFileSync(Path.join(packageDir, "dist/bundle.meta.json"), "utf8")
)
const version = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ version: Schema.String })))(
  readFileSync(Path.join(packageDir, "package.json"), "utf8")
).version

/** The URLs of the output files holding code from an input matching `pattern`. */
const outputsHolding = (pattern: RegExp) =>
  Object.entries(metafile.outputs)
    .filter(
      ([output, { inputs }]) => output.endsWith(".js") && Object.keys(inputs).some((input) => pattern.test(input))
    )
    .map(([output]) => pathToFileURL(Path.resolve(packageDir, output)).href)

const undici = /\/node_modules\/undici\//
const client = /^\.\.\/node\/dist\//
const emulator = /^\.\.\/emulator\/dist\//

/** The loaded module files that are not the bundle's own (node: built-ins aside). */
const outsideBundle = (loaded: ReadonlyArray<string>) =>
  loaded.filter((url) => !url.startsWith("node:") && !url.startsWith(pathToFileURL(bundleDir).href + "/"))

describe("the bundled executable", () => {
  it("is the package's bin", () => {
    assert.strictEqual(bin, Path.join(bundleDir, "bin.js"))
  })

  it.scopedLive("--version answers from package.json, loading bin.js alone", () =>
    Effect.gen(function* () {
      const run = yield* loading(bin, ["--version"])
      assert.strictEqual(run.code, 0)
      assert.deepStrictEqual(
        run.loaded.filter((url) => !url.startsWith("node:")),
        [pathToFileURL(bin).href]
      )
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("--help loads only the bundle, and none of its chunks holding the client, undici or the emulator", () =>
    Effect.gen(function* () {
      const run = yield* loading(bin, ["--help"])
      assert.strictEqual(run.code, 0)
      assert.deepStrictEqual(outsideBundle(run.loaded), [])
      // a few files (the hook sees a chunk once per module importing it): the point of bundling
      assert.isBelow(new Set(run.loaded.filter((url) => url.startsWith("file:"))).size, 20)
      for (const [name, pattern] of [
        ["undici", undici],
        ["the client", client],
        ["the emulator", emulator]
      ] as const) {
        const chunks = outputsHolding(pattern)
        assert.isNotEmpty(chunks, `the bundle holds ${name}`)
        assert.deepStrictEqual(
          run.loaded.filter((url) => chunks.includes(url)),
          [],
          `--help loads no chunk holding ${name}`
        )
      }
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("downloads a file from the emulator, loading only the bundle", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const served = yield* Emulator.make()
      const [exp] = yield* served.exports
      const file = exp!.files[0]!
      const out = Path.join(yield* fs.makeTempDirectoryScoped(), "part.json")
      const run = yield* loading(bin, ["download", file.id, "--out", out], envFor(served))
      assert.strictEqual(run.code, 0)
      assert.deepStrictEqual(outsideBundle(run.loaded), [])
      assert.isNotEmpty(run.loaded.filter((url) => outputsHolding(undici).includes(url)))
      assert.deepStrictEqual(Buffer.from(yield* fs.readFile(out)), Buffer.from(yield* served.fileBytes(file.id)))
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it("ships the licence of every third-party package it holds", () => {
    const licences = readFileSync(Path.join(bundleDir, "THIRD_PARTY_LICENSES.txt"), "utf8")
    const names = new Set(
      Object.keys(metafile.inputs).flatMap((input) => {
        const match = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
        return match === null ? [] : [match[1]!]
      })
    )
    assert.include([...names], "effect")
    assert.include([...names], "undici")
    for (const name of names) {
      assert.match(licences, new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}@\\d`, "m"), name)
    }
    assert.include(licences, "Permission is hereby granted, free of charge")
    assert.notInclude(licences, `@batch-export/cli@${version}`)
  })
})
