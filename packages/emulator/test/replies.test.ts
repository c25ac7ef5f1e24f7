import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { gunzipSync } from "node:zlib"
import { Emulator } from "../src/index.js"
import { apiClient, bytes, ClientLive, downloadLocation, firstFile, readAll, VERSION } from "./helpers.js"

/** A GET of `url` with extra headers, through the undici client (which neither follows redirects nor decodes). */
const get = (url: string, headers: Record<string, string> = {}) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers)))
  )

/** The emulator, its first file, that file's bytes and normal ETag, and a signed link to it. */
const setup = (options?: Emulator.Options) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator.make(options)
    const file = yield* firstFile(emulator)
    const all = yield* emulator.fileBytes(file.id)
    const location = yield* downloadLocation(emulator, file.id)
    const probe = yield* get(location, { range: "bytes=0-0" })
    yield* probe.arrayBuffer // frees the connection
    const etag = probe.headers["etag"]!
    assert.match(etag, /^"[0-9a-f]{32}"$/)
    return { emulator, file, all, location, etag }
  })

describe("scripted storage replies", () => {
  it.scoped("wrongLength shorter: announces and sends only n bytes, ends cleanly", () =>
    Effect.gen(function* () {
      for (const [recordsPerPart, n] of [
        [200, 70_000],
        [3, 100]
      ] as const) {
        // a streamed body (> 64 KiB) and a single-chunk one
        const { all, emulator, location } = yield* setup({ exports: [{ parts: 1, recordsPerPart }] })
        assert.isAbove(all.length, n)
        yield* emulator.script("storage", Emulator.Reply.wrongLength(n))
        const short = yield* get(location)
        assert.strictEqual(short.status, 200)
        assert.strictEqual(short.headers["content-length"], String(n))
        const read = yield* readAll(short)
        assert.isTrue(read.complete)
        assert.deepStrictEqual(read.bytes, all.subarray(0, n))

        const next = yield* get(location)
        assert.strictEqual(next.status, 200)
        assert.deepStrictEqual(yield* bytes(next), all)
      }
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("wrongLength longer: sends every real byte, then the connection closes", () =>
    Effect.gen(function* () {
      const { all, emulator, location } = yield* setup()
      yield* emulator.script("storage", Emulator.Reply.wrongLength(all.length + 1000))
      const long = yield* get(location)
      assert.strictEqual(long.status, 200)
      assert.strictEqual(long.headers["content-length"], String(all.length + 1000))
      const read = yield* readAll(long)
      assert.isFalse(read.complete)
      assert.deepStrictEqual(read.bytes, all)
      assert.deepStrictEqual(yield* bytes(yield* get(location)), all)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("wrongLength on a Range request: 206 with the true Content-Range, n bytes of the range", () =>
    Effect.gen(function* () {
      const { all, emulator, location } = yield* setup()
      yield* emulator.script("storage", Emulator.Reply.wrongLength(10))
      const partial = yield* get(location, { range: "bytes=1000-" })
      assert.strictEqual(partial.status, 206)
      assert.strictEqual(partial.headers["content-range"], `bytes 1000-${all.length - 1}/${all.length}`)
      assert.strictEqual(partial.headers["content-length"], "10")
      assert.deepStrictEqual(yield* bytes(partial), all.subarray(1000, 1010))
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("changedContent: other bytes under another strong ETag; If-Range gets 200, Range a 206 of them", () =>
    Effect.gen(function* () {
      const { all, emulator, etag, file, location } = yield* setup()
      const changed = yield* emulator.fileBytes(file.id, { changed: true })
      assert.notDeepEqual(changed, all)
      assert.deepStrictEqual(yield* emulator.fileBytes(file.id, { changed: true }), changed) // deterministic

      // a resume with If-Range: the validator no longer matches, so the whole new representation
      yield* emulator.script("storage", Emulator.Reply.changedContent())
      const whole = yield* get(location, { range: "bytes=1000-", "if-range": etag })
      assert.strictEqual(whole.status, 200)
      const newEtag = whole.headers["etag"]!
      assert.match(newEtag, /^"[0-9a-f]{32}"$/)
      assert.notStrictEqual(newEtag, etag)
      assert.isUndefined(whole.headers["content-range"])
      assert.strictEqual(whole.headers["content-length"], String(changed.length))
      assert.deepStrictEqual(yield* bytes(whole), changed)

      // a resume without If-Range: a 206 slice of the new content, which only the ETag gives away
      yield* emulator.script("storage", Emulator.Reply.changedContent())
      const slice = yield* get(location, { range: "bytes=1000-" })
      assert.strictEqual(slice.status, 206)
      assert.strictEqual(slice.headers["etag"], newEtag)
      assert.strictEqual(slice.headers["content-range"], `bytes 1000-${changed.length - 1}/${changed.length}`)
      assert.deepStrictEqual(yield* bytes(slice), changed.subarray(1000))

      // If-Range with the new validator matches the new content
      yield* emulator.script("storage", Emulator.Reply.changedContent())
      const matching = yield* get(location, { range: "bytes=1000-", "if-range": newEtag })
      assert.strictEqual(matching.status, 206)
      assert.deepStrictEqual(yield* bytes(matching), changed.subarray(1000))

      // then the original again
      const original = yield* get(location, { range: "bytes=1000-", "if-range": etag })
      assert.strictEqual(original.status, 206)
      assert.strictEqual(original.headers["etag"], etag)
      assert.deepStrictEqual(yield* bytes(original), all.subarray(1000))
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("gzip: compressed body whatever Accept-Encoding says, Range ignored, weak ETag, no Accept-Ranges", () =>
    Effect.gen(function* () {
      const { all, emulator, etag, location } = yield* setup()
      yield* emulator.script("storage", Emulator.Reply.gzip(), Emulator.Reply.gzip())
      const plain = yield* get(location, { "accept-encoding": "identity" })
      const ranged = yield* get(location, { range: "bytes=1000-", "if-range": etag })
      for (const response of [plain, ranged]) {
        assert.strictEqual(response.status, 200)
        assert.strictEqual(response.headers["content-encoding"], "gzip")
        assert.strictEqual(response.headers["vary"], "Accept-Encoding")
        assert.strictEqual(response.headers["content-type"], "application/x-ndjson")
        assert.strictEqual(response.headers["etag"], `W/${etag}`)
        assert.isUndefined(response.headers["accept-ranges"])
        assert.isUndefined(response.headers["content-range"])
        const body = yield* bytes(response) // undici does not decode
        assert.isBelow(body.length, all.length)
        assert.strictEqual(response.headers["content-length"], String(body.length))
        assert.deepStrictEqual(new Uint8Array(gunzipSync(body)), all)
      }
      const normal = yield* get(location)
      assert.isUndefined(normal.headers["content-encoding"])
      assert.deepStrictEqual(yield* bytes(normal), all)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("noRange: Range and If-Range ignored, 200 with the whole body and Accept-Ranges: none", () =>
    Effect.gen(function* () {
      const { all, emulator, etag, location } = yield* setup()
      yield* emulator.script("storage", Emulator.Reply.noRange(), Emulator.Reply.noRange())
      const plain = yield* get(location, { range: "bytes=1000-" })
      const ifRange = yield* get(location, { range: "bytes=1000-", "if-range": etag })
      for (const response of [plain, ifRange]) {
        assert.strictEqual(response.status, 200)
        assert.strictEqual(response.headers["accept-ranges"], "none")
        assert.strictEqual(response.headers["etag"], etag)
        assert.isUndefined(response.headers["content-range"])
        assert.strictEqual(response.headers["content-length"], String(all.length))
        assert.deepStrictEqual(yield* bytes(response), all)
      }
      assert.strictEqual((yield* get(location, { range: "bytes=1000-" })).status, 206)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("changedIgnoringIfRange: If-Range on the old ETag still gets a 206 slice of the new bytes, new ETag", () =>
    Effect.gen(function* () {
      const { all, emulator, etag, file, location } = yield* setup()
      const changed = yield* emulator.fileBytes(file.id, { changed: true })
      yield* emulator.script("storage", Emulator.Reply.changedIgnoringIfRange())
      const slice = yield* get(location, { range: "bytes=1000-", "if-range": etag })
      assert.strictEqual(slice.status, 206)
      assert.notStrictEqual(slice.headers["etag"], etag)
      assert.match(slice.headers["etag"]!, /^"[0-9a-f]{32}"$/)
      assert.strictEqual(slice.headers["content-range"], `bytes 1000-${changed.length - 1}/${changed.length}`)
      assert.deepStrictEqual(yield* bytes(slice), changed.subarray(1000))
      // for that request only
      const original = yield* get(location, { range: "bytes=1000-", "if-range": etag })
      assert.strictEqual(original.headers["etag"], etag)
      assert.deepStrictEqual(yield* bytes(original), all.subarray(1000))
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped(
    "wrongRangeStart(n): a Range request gets the bytes from n, Content-Range saying so; past the end, 416",
    () =>
      Effect.gen(function* () {
        const { all, emulator, etag, location } = yield* setup()
        yield* emulator.script(
          "storage",
          Emulator.Reply.wrongRangeStart(900),
          Emulator.Reply.wrongRangeStart(all.length),
          Emulator.Reply.wrongRangeStart(900)
        )
        const early = yield* get(location, { range: "bytes=1000-", "if-range": etag })
        assert.strictEqual(early.status, 206)
        assert.strictEqual(early.headers["etag"], etag)
        assert.strictEqual(early.headers["content-range"], `bytes 900-${all.length - 1}/${all.length}`)
        assert.deepStrictEqual(yield* bytes(early), all.subarray(900))
        const past = yield* get(location, { range: "bytes=1000-" })
        assert.strictEqual(past.status, 416)
        assert.strictEqual(past.headers["content-range"], `bytes */${all.length}`)
        yield* past.arrayBuffer
        // a request without Range is answered whole
        const whole = yield* get(location)
        assert.strictEqual(whole.status, 200)
        assert.deepStrictEqual(yield* bytes(whole), all)
      }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("storage({ gzip, dropAfter }): gzip headers, then the connection dies after n compressed bytes", () =>
    Effect.gen(function* () {
      const { all, emulator, location } = yield* setup()
      yield* emulator.script("storage", Emulator.Reply.storage({ gzip: true, dropAfter: 100 }))
      const response = yield* get(location)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers["content-encoding"], "gzip")
      const announced = Number(response.headers["content-length"])
      assert.isBelow(announced, all.length)
      const read = yield* readAll(response)
      assert.isFalse(read.complete)
      assert.strictEqual(read.bytes.length, 100)
      assert.deepStrictEqual([...read.bytes.subarray(0, 2)], [0x1f, 0x8b]) // the gzip magic number
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("redirect: any Location and status; /redirected/<rest> leads back to the file, consuming no reply", () =>
    Effect.gen(function* () {
      const { all, emulator, file, location } = yield* setup()
      const url = new URL(location)
      const signature = url.searchParams.get("signature") ?? ""
      const via = `${emulator.storageUrl}/redirected${url.pathname}${url.search}`
      yield* emulator.clearRequests
      yield* emulator.script("storage", Emulator.Reply.redirect(via), Emulator.Reply.dropAfter(10))

      const first = yield* get(location)
      assert.strictEqual(first.status, 302)
      assert.strictEqual(first.headers["location"], via)
      assert.strictEqual(first.headers["content-length"], "0")
      assert.strictEqual(yield* first.text, "")
      const second = yield* get(via)
      assert.strictEqual(second.status, 302)
      assert.strictEqual(second.headers["location"], location)
      const third = yield* get(location)
      assert.strictEqual(third.status, 200)
      const read = yield* readAll(third) // the DropAfter was kept for the file itself
      assert.isFalse(read.complete)
      assert.deepStrictEqual(read.bytes, all.subarray(0, 10))
      assert.deepStrictEqual(
        (yield* emulator.requests).map((r) => [r.origin, r.path, r.query["signature"]]),
        [
          ["storage", `/files/${file.id}`, signature],
          ["storage", `/redirected/files/${file.id}`, signature],
          ["storage", `/files/${file.id}`, signature]
        ]
      )

      yield* emulator.script("storage", Emulator.Reply.redirect("http://example.invalid/elsewhere?x=1", 301))
      const away = yield* get(location)
      assert.strictEqual(away.status, 301)
      assert.strictEqual(away.headers["location"], "http://example.invalid/elsewhere?x=1")
      assert.deepStrictEqual(yield* bytes(yield* get(location)), all)
    }).pipe(Effect.provide(ClientLive))
  )
})

describe("Options.location", () => {
  it.scoped("the 307 points where location(file, expires) says, expires following linkTtl and the Clock", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const emulator = yield* Emulator.make({
        linkTtl: "5 minutes",
        exports: [{ parts: 2, recordsPerPart: 3 }],
        location: (file, expires) => {
          seen.push({ ...file })
          return `https://nginx.test/${file.exportId}/part-${file.part}.ndjson?id=${file.id}&expires=${expires}`
        }
      })
      const [info] = yield* emulator.exports
      const second = info!.files[1]!
      const api = yield* apiClient(emulator)
      const response = yield* api.get("/exports/download", { urlParams: { id: second.id } })
      assert.strictEqual(response.status, 307)
      assert.strictEqual(response.headers["content-length"], "0")
      assert.strictEqual(
        response.headers["location"],
        `https://nginx.test/${info!.id}/part-2.ndjson?id=${second.id}&expires=300`
      )
      assert.deepStrictEqual(seen, [{ id: second.id, exportId: info!.id, part: 2 }])

      yield* TestClock.adjust("1 minute")
      assert.strictEqual(
        yield* downloadLocation(emulator, second.id),
        `https://nginx.test/${info!.id}/part-2.ndjson?id=${second.id}&expires=360`
      )
      assert.deepStrictEqual(
        (yield* emulator.requests).map((r) => [r.origin, r.path]),
        [
          ["api", `/${VERSION}/exports/download`],
          ["api", `/${VERSION}/exports/download`]
        ]
      )
    }).pipe(Effect.provide(ClientLive))
  )
})
