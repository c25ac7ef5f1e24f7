/**
 * The benchmark's world: an nginx on 127.0.0.1 serving the data files (and `/slow/`, throttled per connection), the
 * emulated Batch API whose 307s point at nginx, and the data files themselves, generated deterministically by a
 * second emulator with the same seed (so sizes and bytes match what the API announces) and cached between runs.
 *
 * @since 0.1.0
 */
import { Emulator } from "@batch-export/emulator"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import { randomBytes } from "node:crypto"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { pipeline } from "node:stream/promises"
import { createGzip } from "node:zlib"
import { request } from "undici"
import * as Reference from "./reference.js"
import type { Api } from "./spec.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Sizes {
  readonly small: number
  readonly medium: number
  readonly large: number
  /** bytes of each of the 8 parts of the multi-part export */
  readonly part: number
  readonly parts: number
  /** per-connection rate of `/slow/`, bytes per second */
  readonly rate: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface File {
  readonly id: string
  readonly size: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Environment {
  readonly api: Api
  readonly nginxVersion: string
  readonly small: File
  readonly medium: File
  readonly large: File
  readonly multi: { readonly exportId: string; readonly files: ReadonlyArray<File> }
  /** the record files: NDJSON (the medium file), the same gzipped, the same as a JSON array */
  readonly records: { readonly ndjson: File; readonly gzip: File; readonly array: File }
  /** the NDJSON record file on disk (what nginx serves) */
  readonly ndjsonPath: string
  /** where outputs go (removed by `close`) */
  readonly scratch: string
  /** from now on the multi-part export is served by `/slow/` */
  readonly setThrottled: (throttled: boolean) => void
  readonly close: () => Promise<void>
}

const SEED = 8

const seedExports = (sizes: Sizes): ReadonlyArray<Emulator.SeedExport> => [
  { parts: 1, bytesPerPart: sizes.small },
  { parts: 1, bytesPerPart: sizes.medium },
  { parts: 1, bytesPerPart: sizes.large },
  { parts: sizes.parts, bytesPerPart: sizes.part },
  // ids for the gzip and JSON array record files (their bytes come from nginx, not from these parts)
  { parts: 1, recordsPerPart: 1 },
  { parts: 1, recordsPerPart: 1 }
]

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const nginxConfig = (dir: string, root: string, port: number, rate: number, token: string) => `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${dir}/temp/body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location = /__ready { return 200 "${token}"; }
    location /slow/ {
      alias ${root}/;
      limit_rate ${rate};
    }
    location / { }
  }
}
`

/** Debian's nginx (what `.ci/run` installs), or the first `nginx` on the PATH. */
const findNginx = (): string => {
  const candidates = [
    ...(process.env["PATH"] ?? "")
      .split(Path.delimiter)
      .filter((dir) => dir !== "")
      .map((dir) => Path.join(dir, "nginx")),
    "/usr/sbin/nginx"
  ]
  const found = candidates.find((file) => {
    try {
      Fs.accessSync(file, Fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })
  if (found === undefined) throw new Error("nginx not found (PATH, /usr/sbin/nginx): apt-get install nginx-light")
  return found
}

/**
 * An nginx serving `root` on a free port of 127.0.0.1, `/slow/…` the same files at `rate` bytes per second per
 * connection; `stop` ends it and removes its directory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const startNginx = async (root: string, rate: number) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "batch-export-bench-nginx-"))
  Fs.mkdirSync(Path.join(dir, "temp"))
  const port = await freePort()
  const token = randomBytes(8).toString("hex")
  Fs.writeFileSync(Path.join(dir, "nginx.conf"), nginxConfig(dir, root, port, rate, token))
  const child = ChildProcess.spawn(findNginx(), ["-p", `${dir}/`, "-c", `${dir}/nginx.conf`], {
    stdio: ["ignore", "ignore", "inherit"]
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}); see ${dir}/error.log`)
    if (i > 400) throw new Error("nginx did not start within 10 s")
    const body = await request(`${url}/__ready`).then(
      (response) => response.body.text(),
      () => ""
    )
    if (body === token) break
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM")
      await exited
    }
    Fs.rmSync(dir, { recursive: true, force: true })
  }
  return { url, stop }
}

/**
 * nginx's version line, for the report.
 *
 * @since 0.1.0
 * @category constructors
 */
export const nginxVersion = (): string => {
  const run = ChildProcess.spawnSync(findNginx(), ["-v"], { encoding: "utf8" })
  return (run.stderr || run.stdout).trim().replace(/^nginx version: /, "")
}

const sizeOf = (path: string): number => {
  try {
    return Fs.statSync(path).size
  } catch {
    return -1
  }
}

/** The file as the emulator's own storage serves it, streamed to disk (skipped when already there, same size). */
const fetchFile = async (source: Api, file: File, path: string) => {
  if (sizeOf(path) === file.size) return
  const response = await request(await Reference.link(source, file.id))
  await pipeline(response.body, Fs.createWriteStream(path))
  if (sizeOf(path) !== file.size) throw new Error(`${path}: expected ${file.size} bytes`)
}

const derive = async (from: string, to: string, make: (from: string, to: string) => Promise<void>) => {
  if (sizeOf(to) > 0 && Fs.statSync(to).mtimeMs >= Fs.statSync(from).mtimeMs) return
  await make(from, to)
}

const gzipFile = (from: string, to: string) =>
  pipeline(Fs.createReadStream(from), createGzip(), Fs.createWriteStream(to))

/** `[`, one record per line followed by `,` (but the last), `]`. */
const arrayFile = async (from: string, to: string) => {
  const out = Fs.createWriteStream(to)
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once("drain", () => resolve()))
  await write("[\n")
  let previous: string | undefined
  for await (const line of Readline.createInterface({ input: Fs.createReadStream(from), crlfDelay: Infinity })) {
    if (line === "") continue
    if (previous !== undefined) await write(`${previous},\n`)
    previous = line
  }
  await write(previous === undefined ? "]\n" : `${previous}\n]\n`)
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())))
}

const startEmulator = async (options: Emulator.Options) => {
  const scope = await Effect.runPromise(Scope.make())
  const emulator = await Effect.runPromise(Scope.extend(Emulator.make(options), scope))
  const exports = await Effect.runPromise(emulator.exports)
  const api: Api = { url: emulator.apiUrl, restApiKey: emulator.restApiKey, projectKey: emulator.projectKey }
  return { api, exports, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/**
 * Generates (or reuses) the data under `<tmp>/batch-export-bench/<name>/`, starts nginx and the API.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (name: string, sizes: Sizes): Promise<Environment> => {
  const root = Path.join(Os.tmpdir(), "batch-export-bench", name)
  const filesDir = Path.join(root, "files")
  Fs.mkdirSync(filesDir, { recursive: true })
  const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "batch-export-bench-out-"))
  const exports = seedExports(sizes)

  const source = await startEmulator({ seed: SEED, exports })
  const pathOf = (id: string) => Path.join(filesDir, `${id}.json`)
  const [small, medium, large, multi, gzip, array] = source.exports.map((exp) => ({
    exportId: exp.id,
    files: exp.files.map((file): File => ({ id: file.id, size: file.size }))
  }))
  if (small === undefined || medium === undefined || large === undefined || multi === undefined) {
    throw new Error("the emulator lost an export")
  }
  if (gzip === undefined || array === undefined) throw new Error("the emulator lost an export")
  try {
    for (const file of [small, medium, large, multi].flatMap((exp) => exp.files)) {
      await fetchFile(source.api, file, pathOf(file.id))
    }
  } finally {
    await source.close()
  }
  const first = (exp: { readonly files: ReadonlyArray<File> }): File => {
    const file = exp.files[0]
    if (file === undefined) throw new Error("an export without files")
    return file
  }
  const ndjsonFile = first(medium)
  await derive(pathOf(ndjsonFile.id), pathOf(first(gzip).id), gzipFile)
  await derive(pathOf(ndjsonFile.id), pathOf(first(array).id), arrayFile)

  const nginx = await startNginx(root, sizes.rate)
  const slow = new Set(multi.files.map((file) => file.id))
  let throttled = false
  const served = await startEmulator({
    seed: SEED,
    exports,
    linkTtl: "6 hours",
    location: (file, expires) =>
      `${nginx.url}${throttled && slow.has(file.id) ? "/slow" : ""}/files/${file.id}.json?expires=${expires}&signature=bench`
  })
  return {
    api: served.api,
    nginxVersion: nginxVersion(),
    small: first(small),
    medium: ndjsonFile,
    large: first(large),
    multi: { exportId: multi.exportId, files: multi.files },
    records: {
      ndjson: ndjsonFile,
      gzip: { ...first(gzip), size: sizeOf(pathOf(first(gzip).id)) },
      array: { ...first(array), size: sizeOf(pathOf(first(array).id)) }
    },
    ndjsonPath: pathOf(ndjsonFile.id),
    scratch,
    setThrottled: (value) => {
      throttled = value
    },
    close: async () => {
      await served.close()
      await nginx.stop()
      Fs.rmSync(scratch, { recursive: true, force: true })
    }
  }
}
