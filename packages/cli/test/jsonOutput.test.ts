import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { rmSync } from "node:fs"
import * as Path from "node:path"
import { envFor } from "./support/harness.js"
import { built, run } from "./support/process.js"

const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())

/** What the emulator's API answers to a direct GET (as Batch would), as text: the bytes a command must keep. */
const directGet = (emulator: Emulator.Service, pathAndQuery: string): Effect.Effect<string> =>
  Effect.promise(() =>
    fetch(`${emulator.apiUrl}/2.10${pathAndQuery}`, {
      headers: { authorization: `Bearer ${emulator.restApiKey}`, "x-batch-project": emulator.projectKey }
    }).then((response) => response.text())
  )

/** A command's stdout, checked to be exactly one JSON document on one line: the document. */
const oneDocument = (result: { readonly code: number | null; readonly stdout: Buffer; readonly stderr: string }) => {
  assert.strictEqual(result.code, 0, result.stderr)
  const text = result.stdout.toString("utf8")
  assert.match(text, /^[^\n]+\n$/, `one line: ${JSON.stringify(text)}`)
  return { text: text.slice(0, -1), value: JSON.parse(text) }
}

/** A command's stdout, checked to be NDJSON: one JSON document a line. */
const documents = (result: { readonly code: number | null; readonly stdout: Buffer; readonly stderr: string }) => {
  assert.strictEqual(result.code, 0, result.stderr)
  const text = result.stdout.toString("utf8")
  assert.match(text, /^([^\n]+\n)*$/, JSON.stringify(text))
  return text.split("\n").slice(0, -1)
}

describe.skipIf(!built)("--json: one compact JSON document per result, NDJSON for streams", () => {
  it.scopedLive(
    "view and list print Batch's bytes; list --all and records one document a line; create, fetch, download, " +
      "demo one line each",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make({
          exports: [
            { status: "SUCCESS", parts: 2, recordsPerPart: 3 },
            { status: "RUNNING", parts: 0 },
            { status: "SUCCESS", parts: 1, recordsPerPart: 2 }
          ]
        })
        const [ready] = yield* emulator.exports
        const env = envFor(emulator)
        const dir = yield* tempDir

        // view and list: exactly what Batch sent (its date spellings, key order, no field added)
        const view = oneDocument(yield* run(["view", ready!.id, "--json"], env))
        assert.strictEqual(view.text, yield* directGet(emulator, `/exports/view?id=${ready!.id}`))
        const list = oneDocument(yield* run(["list", "--json"], env))
        assert.strictEqual(list.text, yield* directGet(emulator, "/exports/list"))

        // list --all: each export of each page as Batch sent it, one a line
        const pages: Array<string> = []
        let from: string | undefined
        do {
          const page = yield* directGet(emulator, `/exports/list?limit=1${from === undefined ? "" : `&from=${from}`}`)
          const parsed = JSON.parse(page)
          pages.push(...parsed.exports.map((exp: unknown) => JSON.stringify(exp)))
          from = parsed.has_more === true ? parsed.next_from : undefined
        } while (from !== undefined)
        assert.strictEqual(pages.length, 3)
        assert.deepStrictEqual(documents(yield* run(["list", "--all", "--limit", "1", "--json"], env)), pages)

        const records = documents(yield* run(["records", ready!.id, "--json"], env))
        assert.strictEqual(records.length, 6)
        for (const line of records) JSON.parse(line)

        const created = oneDocument(yield* run(["create", "attributes", "--attribute", "plan", "--json"], env))
        assert.match(created.value.id, /^export_/)

        const download = oneDocument(
          yield* run(["download", ready!.files[0]!.id, "--out", Path.join(dir, "one.json"), "--json"], env)
        )
        assert.deepStrictEqual(download.value, {
          fileId: ready!.files[0]!.id,
          path: Path.join(dir, "one.json"),
          bytes: ready!.files[0]!.size
        })

        // fetch: the manifest says which parts a re-run skipped
        const fetch = ["fetch", ready!.id, "--out-dir", dir, "--json", "--quiet"]
        const first = oneDocument(yield* run(fetch, env))
        assert.deepStrictEqual(
          first.value.files.map((file: { readonly skipped: boolean }) => file.skipped),
          [false, false]
        )
        rmSync(first.value.files[0].path)
        const again = oneDocument(yield* run(fetch, env))
        assert.deepStrictEqual(
          again.value.files.map((file: { readonly part: number; readonly skipped: boolean }) => [
            file.part,
            file.skipped
          ]),
          [
            [1, false],
            [2, true]
          ]
        )

        const demo = oneDocument(yield* run(["demo", "--out-dir", Path.join(dir, "demo"), "--json"], {}))
        assert.strictEqual(demo.value.files.length, 3)
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    60_000
  )
})
