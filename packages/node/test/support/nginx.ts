/**
 * A real nginx serving signed static files on 127.0.0.1, for the independent storage tier: the client's
 * storage code meets a server it did not grow up with (nginx's own ETag, Range, If-Range and status
 * codes), not only the emulator's storage origin.
 *
 * Links use nginx's `secure_link` module: `?md5=<base64url md5("<expires><uri> <secret>")>&expires=<unix s>`.
 * A wrong hash is a 403, an expired link a 410. `/slow/…` serves the same files with a `limit_rate` on requests
 * without `Range` (a resume is not slowed down).
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

const findBinary = (): string | undefined => {
  const candidates = [
    ...(process.env["PATH"] ?? "")
      .split(Path.delimiter)
      .filter((dir) => dir !== "")
      .map((dir) => Path.join(dir, "nginx")),
    "/usr/sbin/nginx",
    "/usr/local/sbin/nginx",
    "/usr/local/nginx/sbin/nginx"
  ]
  return candidates.find((file) => {
    try {
      Fs.accessSync(file, Fs.constants.X_OK)
      return Fs.statSync(file).isFile()
    } catch {
      return false
    }
  })
}

/** The nginx binary, when there is one (PATH, then the usual sbin directories). */
export const binary: string | undefined = findBinary()

/** Whether nginx was found: tests of this tier are skipped (visibly) when it was not. */
export const available: boolean = binary !== undefined

/** One line of nginx's access log (the JSON `log_format` below). Absent headers are `""`. */
export interface AccessLogEntry {
  readonly method: string
  /** the decoded path, without the query string (the signature is not logged) */
  readonly uri: string
  readonly status: number
  /** body bytes nginx sent (for a cut connection: before it noticed) */
  readonly bytesSent: number
  /** `"OK"` when nginx sent the whole response, `""` when the connection went away first */
  readonly completion: string
  /** nginx's connection serial number */
  readonly connection: number
  /** `"1"` valid, `"0"` expired, `""` wrong hash */
  readonly secureLink: string
  readonly range: string
  readonly ifRange: string
  readonly authorization: string
  readonly batchProject: string
  readonly cookie: string
  readonly traceparent: string
  readonly b3: string
  readonly etag: string
  readonly contentRange: string
}

export interface Options {
  /** the `secure_link_md5` secret; default: random */
  readonly secret?: string | undefined
  /** `limit_rate_after` of `/slow/`, in bytes; default 16 KiB */
  readonly slowAfter?: number | undefined
  /** `limit_rate` of `/slow/` (requests without `Range` only), in bytes per second; default 256 KiB/s */
  readonly slowRate?: number | undefined
}

export interface Nginx {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** the directory served: `<root>/files/x.json` is `/files/x.json` (and `/slow/files/x.json`) */
  readonly root: string
  /** the full signed URL of `path` (e.g. `/files/x.json`) valid until `expires` (unix seconds) */
  readonly sign: (path: string, expires: number) => string
  /** writes `bytes` at `path` under the root, creating directories */
  readonly put: (path: string, bytes: Uint8Array) => Effect.Effect<void>
  /** every request nginx has logged so far, in order */
  readonly accessLog: Effect.Effect<ReadonlyArray<AccessLogEntry>>
  readonly errorLog: Effect.Effect<string>
}

/** `secure_link_md5`'s hash: base64url of the binary MD5, without padding. */
export const signature = (secret: string, path: string, expires: number): string =>
  createHash("md5").update(`${expires}${path} ${secret}`).digest("base64url")

const logFormat = [
  `"method":"$request_method"`,
  `"uri":"$uri"`,
  `"status":"$status"`,
  `"bytesSent":"$body_bytes_sent"`,
  `"completion":"$request_completion"`,
  `"connection":"$connection"`,
  `"secureLink":"$secure_link"`,
  `"range":"$http_range"`,
  `"ifRange":"$http_if_range"`,
  `"authorization":"$http_authorization"`,
  `"batchProject":"$http_x_batch_project"`,
  `"cookie":"$http_cookie"`,
  `"traceparent":"$http_traceparent"`,
  `"b3":"$http_b3"`,
  `"etag":"$sent_http_etag"`,
  `"contentRange":"$sent_http_content_range"`
].join(",")

interface Resolved {
  readonly secret: string
  readonly slowAfter: number
  readonly slowRate: number
}

const config = (dir: string, root: string, port: number, options: Resolved, token: string) => {
  const guard = `
      if ($secure_link = "") { return 403; }
      if ($secure_link = "0") { return 410; }`
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  types { application/json json; text/plain txt; }
  default_type application/octet-stream;
  log_format harness escape=json '{${logFormat}}';
  access_log ${dir}/access.log harness;
  client_body_temp_path ${dir}/temp/body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
  # /slow/ throttles whole-object requests only: a resume (a Range request) is served at full speed
  map $http_range $harness_slow_rate {
    "" ${options.slowRate};
    default 0;
  }
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    root ${root};
    secure_link $arg_md5,$arg_expires;
    secure_link_md5 "$secure_link_expires$uri ${options.secret}";
    location = /__harness_ready {
      access_log off;
      return 200 "${token}";
    }
    location /slow/ {
      alias ${root}/;
      limit_rate_after ${options.slowAfter};
      limit_rate $harness_slow_rate;${guard}
    }
    location / {${guard}
    }
  }
}
`
}

/** A port that was free a moment ago (nginx needs a number in its config; a lost race is retried). */
const freePort = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const readText = (file: string) =>
  Effect.sync(() => {
    try {
      return Fs.readFileSync(file, "utf8")
    } catch {
      return ""
    }
  })

interface Running {
  readonly child: ChildProcess.ChildProcess
  readonly exited: Promise<void>
  readonly stderr: () => string
}

/** Stops nginx (TERM is its fast shutdown), then KILL if it lingers; waits for the exit either way. */
const stop = (running: Running) =>
  Effect.promise(async () => {
    if (running.child.exitCode !== null || running.child.signalCode !== null) return
    running.child.kill("SIGTERM")
    const timer = setTimeout(() => running.child.kill("SIGKILL"), 5_000)
    await running.exited
    clearTimeout(timer)
  })

const spawn = (dir: string) =>
  Effect.sync((): Running => {
    const child = ChildProcess.spawn(binary!, ["-p", `${dir}/`, "-c", `${dir}/nginx.conf`], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr!.setEncoding("utf8")
    child.stderr!.on("data", (text: string) => void (stderr += text))
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.once("error", (error) => {
        stderr += `${error.message}\n`
        resolve()
      })
    })
    return { child, exited, stderr: () => stderr }
  })

/** Polls the readiness location (only this instance knows `token`) until nginx answers or exits: ≤ 10 s. */
const awaitReady = (running: Running, port: number, token: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 400; i++) {
      if (running.child.exitCode !== null || running.child.signalCode !== null) return "exited" as const
      const body = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/__harness_ready`).then(
          (response) => response.text(),
          () => ""
        )
      )
      if (body === token) return "ready" as const
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 25)))
    }
    return "timeout" as const
  })

/**
 * Starts nginx as a plain foreground process (its own prefix, pid, logs and temp paths in a temporary
 * directory) on a free port of 127.0.0.1, and stops it (waiting for it to exit) when the scope closes. A
 * failure to start dies with nginx's own explanation.
 */
export const start = (options: Options = {}): Effect.Effect<Nginx, never, Scope.Scope> =>
  Effect.gen(function* () {
    if (binary === undefined) return yield* Effect.dieMessage("nginx not found (PATH, /usr/sbin/nginx)")
    const resolved: Resolved = {
      secret: options.secret ?? randomBytes(12).toString("hex"),
      slowAfter: options.slowAfter ?? 16 * 1024,
      slowRate: options.slowRate ?? 256 * 1024
    }
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "batch-export-nginx-"))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    )
    const root = Path.join(dir, "root")
    Fs.mkdirSync(root)
    Fs.mkdirSync(Path.join(dir, "temp"))
    const token = randomBytes(8).toString("hex")
    const failures: Array<string> = []
    // a port taken between `freePort` and nginx's bind is retried with another one
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = yield* freePort
      Fs.writeFileSync(Path.join(dir, "nginx.conf"), config(dir, root, port, resolved, token))
      Fs.writeFileSync(Path.join(dir, "error.log"), "")
      const running = yield* Effect.acquireRelease(spawn(dir), stop)
      const state = yield* awaitReady(running, port, token)
      if (state === "ready") {
        const url = `http://127.0.0.1:${port}`
        const nginx: Nginx = {
          url,
          port,
          root,
          sign: (path, expires) => `${url}${path}?md5=${signature(resolved.secret, path, expires)}&expires=${expires}`,
          put: (path, bytes) =>
            Effect.sync(() => {
              const file = Path.join(root, path)
              Fs.mkdirSync(Path.dirname(file), { recursive: true })
              Fs.writeFileSync(file, bytes)
            }),
          accessLog: Effect.map(readText(Path.join(dir, "access.log")), (text) =>
            text
              .split("\n")
              .filter((line) => line.trim() !== "")
              .map((line) => {
                const raw = JSON.parse(line) as Record<string, string>
                return {
                  ...raw,
                  status: Number(raw["status"]),
                  bytesSent: Number(raw["bytesSent"]),
                  connection: Number(raw["connection"])
                } as unknown as AccessLogEntry
              })
          ),
          errorLog: readText(Path.join(dir, "error.log"))
        }
        return nginx
      }
      yield* stop(running)
      const errorLog = yield* readText(Path.join(dir, "error.log"))
      failures.push(`attempt ${attempt + 1} on port ${port} (${state}):\n${running.stderr()}${errorLog}`)
      if (!/Address already in use/.test(running.stderr() + errorLog)) break
    }
    return yield* Effect.dieMessage(`nginx (${binary}) did not start:\n${failures.join("\n")}`)
  })
