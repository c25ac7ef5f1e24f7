/**
 * The configuration file's schema: the README's example is valid, and any valid file decodes to itself
 * (the one-line errors of invalid files are tested through the CLI, packages/cli/test/syncConfig.test.ts).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SyncConfig from "../src/SyncConfig.js"

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")

describe("SyncConfig", () => {
  it("the README's example configuration is valid", () => {
    const block = /## Configuration\n\n```json\n([\s\S]*?)\n```/.exec(readme)?.[1]
    assert.isDefined(block, "a json block under ## Configuration")
    const decoded = SyncConfig.decode("README", JSON.parse(block!))
    assert.isTrue(Either.isRight(decoded), Either.isLeft(decoded) ? decoded.left.message : "")
  })

  it("any valid file decodes to itself, strictly (no unknown field is produced by encoding)", () => {
    const encode = Schema.encodeSync(SyncConfig.File)
    const decode = Schema.decodeUnknownEither(SyncConfig.File, { onExcessProperty: "error" })
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(SyncConfig.File), (file) => {
        const again = decode(JSON.parse(JSON.stringify(encode(file))))
        assert.isTrue(Either.isRight(again))
        // an optional field the generator sets to undefined is absent from JSON, as from a file
        assert.deepStrictEqual(Either.getOrThrow(again), JSON.parse(JSON.stringify(file)))
      }),
      { numRuns: 50 }
    )
  })

  /** Loads `text` as `sync.json` (from a temp dir), with only the environment variables of `env` set. */
  const load = (text: string, env: ReadonlyArray<readonly [string, string]> = []) =>
    Effect.acquireUseRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-config-"))),
      (dir) => {
        writeFileSync(join(dir, "sync.json"), text)
        return SyncConfig.load(join(dir, "sync.json"))
      },
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    ).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(env))), Effect.provide(NodeContext.layer))

  /** The error of loading `text`, with no environment variable set. */
  const loadError = (text: string) => Effect.map(Effect.flip(load(text)), (error) => error.message)

  const secret = "ab12cd34ef56ab12cd34ef56ab12cd34"

  const withPace = (requestsPerSecond?: unknown) =>
    JSON.stringify({
      projects: [
        { name: "shop", projectKey: "p", restKeyEnv: "SHOP_KEY", exports: ["profiles"], ...{ requestsPerSecond } }
      ],
      exports: [{ name: "profiles", type: "ATTRIBUTES", attributes: ["$language"] }]
    })

  it.effect("requestsPerSecond: a positive number, else one line naming the field; 1 by default", () =>
    Effect.gen(function* () {
      for (const [value, detail] of [
        [0, "a positive number of requests per second, e.g. 0.5 or 10"],
        [-1, "a positive number of requests per second, e.g. 0.5 or 10"],
        ["2", 'Expected number, actual "2"']
      ] as const) {
        assert.strictEqual(yield* loadError(withPace(value)), `sync.json: projects[0].requestsPerSecond: ${detail}`)
      }
      const paces = (text: string) =>
        Effect.map(load(text, [["SHOP_KEY", "k"]]), (config) => config.projects.map((p) => p.requestsPerSecond))
      assert.deepStrictEqual(yield* paces(withPace()), [1])
      assert.deepStrictEqual(yield* paces(withPace(0.5)), [0.5])
    })
  )

  it.effect("a REST key pasted where the variable's name goes is never printed back", () =>
    Effect.gen(function* () {
      const config = {
        projects: [{ name: "shop", projectKey: "p", restKeyEnv: secret, exports: ["profiles"] }],
        exports: [{ name: "profiles", type: "ATTRIBUTES", attributes: ["$language"] }]
      }
      const message = yield* loadError(JSON.stringify(config))
      assert.include(message, "projects[0].restKeyEnv: the environment variable named there is not set")
      assert.notInclude(message, secret)
    })
  )

  it.effect("a file that is not JSON: the error does not quote the file's text", () =>
    Effect.gen(function* () {
      const message = yield* loadError(`{"projects": [{"restKeyEnv": ${secret}}]}`)
      assert.include(message, "not JSON")
      assert.notInclude(message, secret.slice(1, 8))
    })
  )
})
