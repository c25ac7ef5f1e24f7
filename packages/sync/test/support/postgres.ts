/**
 * A throw-away Postgres 15 cluster for the tests, never the system one: `initdb` into a fresh temp dir
 * (owned by the `postgres` user when the tests run as root, since Postgres refuses to run as root), started with `pg_ctl` on a free port
 * of 127.0.0.1 and a Unix socket in that dir, stopped (`-m immediate`) and removed when the scope closes.
 *
 * The superuser `postgres` has a password: over TCP it is required (scram), over the socket it is not (trust),
 * so a test can both connect simply and check that a refused password never shows in an error.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { execFile, execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const binDir = "/usr/lib/postgresql/15/bin"

/**
 * Whether the Postgres tests run: when Postgres 15 is installed, and always under CI (`.ci/run` sets `CI` and
 * installs it), so that a CI machine without it fails instead of skipping the tier. Elsewhere they are skipped
 * (visibly) when it is missing.
 */
export const available: boolean =
  (existsSync(join(binDir, "initdb")) && existsSync(join(binDir, "pg_ctl"))) || process.env["CI"] === "true"

export interface Cluster {
  /** the socket directory (a `host` the driver understands) */
  readonly socketDir: string
  readonly port: number
  /** the superuser's password (TCP connections need it) */
  readonly password: string
  /** runs SQL as the superuser through psql, over the socket */
  readonly psql: (database: string, command: string) => Effect.Effect<string>
  /** stops the server at once (connections are cut) */
  readonly stop: Effect.Effect<void>
  /** starts it again */
  readonly start: Effect.Effect<void>
}

// Postgres refuses to run as root: as root (this machine, CI), the cluster belongs to the `postgres` user;
// as anyone else, to that user.
const asRoot = process.getuid?.() === 0

class SetupError extends Data.TaggedError("SetupError")<{ readonly message: string }> {}

const asPostgres = (command: string, args: ReadonlyArray<string>) =>
  Effect.async<string, SetupError>((resume) => {
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args]
    execFile(file, argv, { encoding: "utf8" }, (error, stdout, stderr) =>
      resume(
        error === null
          ? Effect.succeed(stdout)
          : Effect.fail(new SetupError({ message: `${command} failed: ${stderr || error.message}` }))
      )
    )
  })

const freePort = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Starts a cluster; the scope stops it and removes its directory. Failing to start is a defect of the test setup. */
export const start: Effect.Effect<Cluster, never, Scope.Scope> = Effect.gen(function* (): Effect.fn.Return<
  Cluster,
  Error,
  Scope.Scope
> {
  const owner = (path: string) => {
    if (!asRoot) return
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
    chownSync(path, uid, gid)
  }
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-pg-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  owner(dir)
  const data = join(dir, "data")
  const password = "pg-Secret-9f3a"
  const pwfile = join(dir, "pwfile")
  writeFileSync(pwfile, `${password}\n`)
  owner(pwfile)
  yield* asPostgres(join(binDir, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--pwfile",
    pwfile,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--no-sync",
    "--encoding=UTF8",
    "--locale=C"
  ])
  const port = yield* freePort
  // fsync off: the OS does not crash under a test; commits are still written before `-m immediate` stops it
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`
  const startServer = asPostgres(join(binDir, "pg_ctl"), [
    "-D",
    data,
    "-l",
    join(dir, "log"),
    "-w",
    "-o",
    options,
    "start"
  ])
  const stopServer = asPostgres(join(binDir, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"])
  yield* Effect.acquireRelease(startServer, () => Effect.ignore(stopServer))
  return {
    socketDir: dir,
    port,
    password,
    psql: (database: string, command: string) =>
      Effect.orDie(
        asPostgres(join(binDir, "psql"), [
          "-h",
          dir,
          "-p",
          String(port),
          "-d",
          database,
          "-XAtq",
          "-v",
          "ON_ERROR_STOP=1",
          "-c",
          command
        ])
      ),
    stop: Effect.orDie(stopServer),
    start: Effect.orDie(startServer)
  }
}).pipe(Effect.orDie)
