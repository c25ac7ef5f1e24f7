/**
 * The independent storage tier: the emulator's API redirects to a real nginx (`secure_link`, static files
 * with nginx's own ETag, Range and If-Range), so the client's storage code is checked against a server it
 * was not written alongside. Real sockets and the live clock throughout (the emulator signs with its Clock).
 */
import { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchExport, ExportFiles, ExportsClient } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Path from "node:path"
import * as CuttingProxy from "./support/cuttingProxy.js"
import { eventually } from "./support/harness.js"
import * as Nginx from "./support/nginx.js"

if (!Nginx.available) console.warn("nginx not found: skipping the nginx storage tier")

interface LinkedFile {
  readonly id: string
  readonly exportId: string
  readonly part: number
}

/** Where nginx serves a file, under its root (and, with `/slow` in front, rate-limited). */
const filePath = (id: string) => `/files/${id}.json`

/**
 * nginx, then an emulator whose `/exports/download` redirects to `link(file, expires)` (default: a valid
 * nginx link), with every file of the emulator's exports written into nginx's root, and the real client.
 */
const setup = (options?: {
  readonly exports?: ReadonlyArray<Emulator.SeedExport>
  readonly link?: (nginx: Nginx.Nginx, file: LinkedFile, expires: number) => string
  readonly client?: Partial<Omit<Parameters<typeof ExportsClient.layer>[0], "restApiKey" | "projectKey" | "baseUrl">>
}) =>
  Effect.gen(function* () {
    const nginx = yield* Nginx.start()
    const link = options?.link ?? ((nginx, file, expires) => nginx.sign(filePath(file.id), expires))
    const emulator = yield* Emulator.make({
      ...(options?.exports === undefined ? {} : { exports: options.exports }),
      location: (file, expires) => link(nginx, file, expires)
    }).pipe(Effect.orDie)
    const files: Array<{ readonly id: string; readonly bytes: Uint8Array }> = []
    for (const exp of yield* emulator.exports) {
      for (const file of exp.files) {
        const bytes = yield* Effect.orDie(emulator.fileBytes(file.id))
        yield* nginx.put(filePath(file.id), bytes)
        files.push({ id: file.id, bytes })
      }
    }
    const context = yield* Layer.build(
      BatchExport.layer({
        restApiKey: emulator.restApiKey,
        projectKey: emulator.projectKey,
        baseUrl: emulator.apiUrl,
        // resumes and renewals wait on the live clock here: keep the backoff short
        retry: { baseDelay: "20 millis", maxDelay: "200 millis" },
        ...options?.client
      })
    ).pipe(Effect.orDie)
    const fs = yield* Effect.provide(FileSystem.FileSystem, NodeFileSystem.layer)
    const dir = yield* fs.makeTempDirectoryScoped().pipe(Effect.orDie)
    return {
      nginx,
      emulator,
      files,
      client: Context.get(context, ExportsClient.ExportsClient),
      exportFiles: Context.get(context, ExportFiles.ExportFiles),
      fs,
      dir
    }
  })

const downloadCalls = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "api" && r.path.endsWith("/exports/download")))

/** nginx writes a log line once it is done with a request, which may be just after the client is. */
const logged = (nginx: Nginx.Nginx, uri: string, count: number) =>
  Effect.gen(function* () {
    const entries = () => Effect.map(nginx.accessLog, (all) => all.filter((e) => e.uri === uri))
    yield* eventually(
      Effect.map(entries(), (found) => found.length >= count),
      `${count} access log lines for ${uri}`
    )
    return yield* entries()
  })

const readBytes = (fs: FileSystem.FileSystem, path: string) => Effect.map(Effect.orDie(fs.readFile(path)), Buffer.from)

describe.skipIf(!Nginx.available)("ExportsClient against nginx (independent storage)", () => {
  it.scopedLive("the harness: nginx's signatures, statuses, ETag and Range are what the tests rely on", () =>
    Effect.gen(function* () {
      const nginx = yield* Nginx.start()
      const bytes = Buffer.from("0123456789".repeat(100))
      yield* nginx.put("/files/probe.json", bytes)
      const now = Math.floor(Date.now() / 1000)
      const get = (url: string, headers?: Record<string, string>) =>
        Effect.promise(async () => {
          const response = await fetch(url, { ...(headers === undefined ? {} : { headers }) })
          return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) }
        })
      const valid = nginx.sign("/files/probe.json", now + 600)
      const ok = yield* get(valid)
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(ok.body, bytes)
      assert.match(ok.headers.get("etag") ?? "", /^"[^"]+"$/) // strong
      assert.strictEqual(ok.headers.get("accept-ranges"), "bytes")
      const etag = ok.headers.get("etag")!
      const part = yield* get(valid, { range: "bytes=100-", "if-range": etag })
      assert.strictEqual(part.status, 206)
      assert.strictEqual(part.headers.get("content-range"), `bytes 100-999/1000`)
      assert.deepStrictEqual(part.body, bytes.subarray(100))
      const stale = yield* get(valid, { range: "bytes=100-", "if-range": '"other"' })
      assert.strictEqual(stale.status, 200) // If-Range mismatch: the whole object
      assert.strictEqual((yield* get(`${nginx.url}/files/probe.json`)).status, 403)
      assert.strictEqual((yield* get(valid.replace(/md5=[^&]+/, "md5=AAAAAAAAAAAAAAAAAAAAAA"))).status, 403)
      assert.strictEqual((yield* get(nginx.sign("/files/probe.json", now - 60))).status, 410)
      assert.strictEqual((yield* get(nginx.sign("/slow/files/probe.json", now + 600))).status, 200)
    })
  )

  it.scopedLive("a full download through the API's 307 to nginx is byte-exact; nginx sees no Batch credential", () =>
    Effect.gen(function* () {
      const { dir, emulator, exportFiles, files, fs, nginx } = yield* setup()
      assert.isAbove(files.length, 1)
      for (const file of files) {
        const destination = Path.join(dir, `${file.id}.json`)
        const done = yield* exportFiles.downloadToFile(file.id, destination, { expectedSize: file.bytes.length })
        assert.strictEqual(done.bytes, file.bytes.length)
        assert.deepStrictEqual(yield* readBytes(fs, destination), Buffer.from(file.bytes))
      }
      for (const file of files) {
        const [entry, ...more] = yield* logged(nginx, filePath(file.id), 1)
        assert.strictEqual(more.length, 0)
        assert.strictEqual(entry!.status, 200)
        assert.strictEqual(entry!.completion, "OK")
        assert.strictEqual(entry!.secureLink, "1")
        assert.strictEqual(entry!.bytesSent, file.bytes.length)
        assert.strictEqual(entry!.authorization, "", "Authorization reached nginx")
        assert.strictEqual(entry!.batchProject, "", "X-Batch-Project reached nginx")
        assert.strictEqual(entry!.cookie, "")
        assert.strictEqual(entry!.traceparent, "")
        assert.strictEqual(entry!.b3, "")
      }
      // the same requests did carry the credentials to the API, and the emulator's own storage was not used
      const calls = yield* downloadCalls(emulator)
      assert.strictEqual(calls.length, files.length)
      for (const call of calls) {
        assert.strictEqual(call.headers["authorization"], `Bearer ${emulator.restApiKey}`)
        assert.strictEqual(call.headers["x-batch-project"], emulator.projectKey)
      }
      assert.deepStrictEqual(
        (yield* emulator.requests).filter((r) => r.origin === "storage"),
        []
      )
    })
  )

  it.scopedLive("a body cut mid-stream is resumed with Range + If-Range on nginx's ETag (206), byte-exact", () =>
    Effect.gen(function* () {
      const size = 256 * 1024
      const cutAfter = 64 * 1024
      let proxy: CuttingProxy.CuttingProxy | undefined
      const { dir, emulator, exportFiles, files, fs, nginx } = yield* setup({
        exports: [{ parts: 1, bytesPerPart: size }],
        // through the proxy, to nginx's rate-limited location: the cut lands while nginx is still sending
        link: (nginx, file, expires) => {
          const url = new URL(nginx.sign(`/slow${filePath(file.id)}`, expires))
          url.port = String(proxy!.port)
          return url.href
        }
      })
      proxy = yield* CuttingProxy.start({ targetPort: nginx.port, cutAfter })
      const file = files[0]!
      assert.isAtLeast(file.bytes.length, size)
      const destination = Path.join(dir, "part-1.json")
      const done = yield* exportFiles.downloadToFile(file.id, destination, { expectedSize: file.bytes.length })
      assert.strictEqual(done.bytes, file.bytes.length)
      assert.deepStrictEqual(yield* readBytes(fs, destination), Buffer.from(file.bytes))
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["part-1.json"])
      assert.strictEqual(yield* proxy.cuts, 1)
      assert.strictEqual(yield* proxy.used, 2)
      assert.strictEqual((yield* downloadCalls(emulator)).length, 1) // the link was still good: no renewal

      const entries = yield* logged(nginx, `/slow${filePath(file.id)}`, 2)
      assert.strictEqual(entries.length, 2)
      const cut = entries.find((e) => e.status === 200)!
      const resumed = entries.find((e) => e.status === 206)!
      assert.isDefined(cut, JSON.stringify(entries))
      assert.isDefined(resumed, JSON.stringify(entries))
      // nginx was cut off mid-body…
      assert.strictEqual(cut.completion, "")
      assert.isBelow(cut.bytesSent, file.bytes.length)
      assert.match(cut.etag, /^"[^"]+"$/)
      // …and the resume asked for the rest of the same object, which nginx served as a 206
      const offset = Number(/^bytes=(\d+)-$/.exec(resumed.range)?.[1])
      assert.isAbove(offset, cutAfter - 1024) // the proxy let `cutAfter` bytes through, headers included
      assert.isBelow(offset, cutAfter)
      assert.strictEqual(resumed.ifRange, cut.etag)
      assert.strictEqual(resumed.etag, cut.etag)
      assert.strictEqual(resumed.contentRange, `bytes ${offset}-${file.bytes.length - 1}/${file.bytes.length}`)
      assert.strictEqual(resumed.completion, "OK")
      assert.strictEqual(resumed.bytesSent, file.bytes.length - offset)
      for (const entry of entries) assert.strictEqual(entry.authorization + entry.batchProject, "")
    })
  )

  it.scopedLive(
    "a body that stalls mid-stream hits the idle timeout, is resumed (206), and its connection closed",
    () =>
      Effect.gen(function* () {
        const size = 256 * 1024
        const cutAfter = 48 * 1024
        let proxy: CuttingProxy.CuttingProxy | undefined
        const { dir, exportFiles, files, fs, nginx } = yield* setup({
          exports: [{ parts: 1, bytesPerPart: size }],
          link: (nginx, file, expires) => {
            const url = new URL(nginx.sign(`/slow${filePath(file.id)}`, expires))
            url.port = String(proxy!.port)
            return url.href
          },
          client: { timeouts: { idle: "300 millis" } }
        })
        // the first connection stops forwarding after `cutAfter` bytes, and stays open
        proxy = yield* CuttingProxy.start({ targetPort: nginx.port, cutAfter, beforeCut: () => new Promise(() => {}) })
        const file = files[0]!
        const destination = Path.join(dir, "part-1.json")
        const done = yield* exportFiles.downloadToFile(file.id, destination, { expectedSize: file.bytes.length })
        assert.strictEqual(done.bytes, file.bytes.length)
        assert.deepStrictEqual(yield* readBytes(fs, destination), Buffer.from(file.bytes))
        // two requests: the stalled one and the resume (undici may also open, and drop, a spare connection)
        assert.strictEqual(yield* proxy.used, 2)
        // nginx logs the stalled request only once its connection is gone: the client closed it
        const entries = yield* logged(nginx, `/slow${filePath(file.id)}`, 2)
        const stalled = entries.find((e) => e.status === 200)!
        const resumed = entries.find((e) => e.status === 206)!
        assert.isDefined(stalled, JSON.stringify(entries))
        assert.isDefined(resumed, JSON.stringify(entries))
        assert.strictEqual(stalled.completion, "")
        assert.strictEqual(resumed.ifRange, stalled.etag)
        assert.match(resumed.range, /^bytes=\d+-$/)
      })
  )

  it.scopedLive("a link that expires between the cut and the resume is renewed; the resume still gets a 206", () =>
    Effect.gen(function* () {
      const size = 128 * 1024
      const cutAfter = 32 * 1024
      let proxy: CuttingProxy.CuttingProxy | undefined
      let links = 0
      let firstExpires = 0
      const { dir, emulator, exportFiles, files, fs, nginx } = yield* setup({
        exports: [{ parts: 1, bytesPerPart: size }],
        link: (nginx, file, expires) => {
          // the first link is valid for this second and the next only; the renewed one for the usual 20 minutes
          if (links++ === 0) firstExpires = Math.floor(Date.now() / 1000) + 1
          const url = new URL(nginx.sign(filePath(file.id), links === 1 ? firstExpires : expires))
          url.port = String(proxy!.port)
          return url.href
        }
      })
      // the cut waits until nginx would call the first link expired (bounded: about 2 s)
      const linkExpired = async () => {
        for (let i = 0; i < 100 && Math.floor(Date.now() / 1000) <= firstExpires; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      proxy = yield* CuttingProxy.start({ targetPort: nginx.port, cutAfter, beforeCut: linkExpired })
      const file = files[0]!
      const destination = Path.join(dir, "part-1.json")
      const done = yield* exportFiles.downloadToFile(file.id, destination, { expectedSize: file.bytes.length })
      assert.deepStrictEqual(yield* readBytes(fs, destination), Buffer.from(file.bytes))
      assert.strictEqual(done.bytes, file.bytes.length)
      assert.strictEqual((yield* downloadCalls(emulator)).length, 2)
      const entries = yield* logged(nginx, filePath(file.id), 3)
      assert.deepStrictEqual(entries.map((e) => e.status).sort(), [200, 206, 410])
      const cut = entries.find((e) => e.status === 200)!
      const refused = entries.find((e) => e.status === 410)!
      const resumed = entries.find((e) => e.status === 206)!
      assert.strictEqual(yield* proxy.cuts, 1) // (nginx itself may have finished sending into the proxy)
      assert.strictEqual(refused.secureLink, "0")
      assert.strictEqual(refused.range, resumed.range) // the same resume, on the renewed link
      assert.strictEqual(resumed.ifRange, cut.etag)
      assert.strictEqual(resumed.secureLink, "1")
    })
  )

  it.scopedLive("an expired link is renewed once; nginx's second 410 is a StorageError and leaves no file", () =>
    Effect.gen(function* () {
      const { dir, emulator, exportFiles, files, fs, nginx } = yield* setup({
        link: (nginx, file, expires) => nginx.sign(filePath(file.id), expires - 3600)
      })
      const file = files[0]!
      const error = yield* Effect.flip(exportFiles.downloadToFile(file.id, Path.join(dir, "part-1.json")))
      assert.instanceOf(error, ClientError.StorageError)
      assert.strictEqual((error as ClientError.StorageError).status, 410)
      assert.strictEqual((error as ClientError.StorageError).origin, nginx.url)
      assert.notInclude(error.message, "md5")
      assert.notInclude(error.message, "expires")
      assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      assert.strictEqual((yield* downloadCalls(emulator)).length, 2) // the renewal
      const entries = yield* logged(nginx, filePath(file.id), 2)
      assert.deepStrictEqual(
        entries.map((e) => [e.status, e.secureLink]),
        [
          [410, "0"],
          [410, "0"]
        ]
      )
    })
  )

  it.scopedLive("only the first link expired: the renewed one downloads byte-exact", () =>
    Effect.gen(function* () {
      let links = 0
      const { dir, emulator, exportFiles, files, fs, nginx } = yield* setup({
        link: (nginx, file, expires) => nginx.sign(filePath(file.id), links++ === 0 ? expires - 3600 : expires)
      })
      const file = files[0]!
      const destination = Path.join(dir, "part-1.json")
      const done = yield* exportFiles.downloadToFile(file.id, destination, { expectedSize: file.bytes.length })
      assert.strictEqual(done.bytes, file.bytes.length)
      assert.deepStrictEqual(yield* readBytes(fs, destination), Buffer.from(file.bytes))
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["part-1.json"])
      assert.strictEqual((yield* downloadCalls(emulator)).length, 2)
      const entries = yield* logged(nginx, filePath(file.id), 2)
      assert.deepStrictEqual(
        entries.map((e) => e.status),
        [410, 200]
      )
    })
  )

  it.scopedLive("a wrong signature (403) is renewed once, then fails as a StorageError", () =>
    Effect.gen(function* () {
      const { client, emulator, files, nginx } = yield* setup({
        link: (nginx, file, expires) => nginx.sign(filePath(file.id), expires).replace(/md5=[^&]+/, "md5=forged")
      })
      const error = yield* Effect.flip(Stream.runDrain(client.download(files[0]!.id)))
      assert.instanceOf(error, ClientError.StorageError)
      assert.strictEqual((error as ClientError.StorageError).status, 403)
      assert.strictEqual((yield* downloadCalls(emulator)).length, 2)
      assert.deepStrictEqual(
        (yield* logged(nginx, filePath(files[0]!.id), 2)).map((e) => e.status),
        [403, 403]
      )
    })
  )
})
