/**
 * A throw-away Postgres 15 for the sync benchmark: `initdb` into a temp dir, started on a Unix socket there, with
 * the server's default settings (fsync on: both programs pay the same commit), stopped and removed by `stop`. As
 * root, it runs as the `postgres` user (Postgres refuses root). The tests' own cluster
 * (`packages/sync/test/support/postgres.ts`) is the Effect version of the same steps, tuned for tests.
 *
 * @since 0.1.0
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const BIN = "/usr/lib/postgresql/15/bin"

/**
 * The `psql` of Postgres 15.
 *
 * @since 0.1.0
 * @category constants
 */
export const psqlPath = `${BIN}/psql`

/**
 * Whether Postgres 15 is installed (`.ci/run` installs it; elsewhere the benchmark's Postgres rows are skipped).
 *
 * @since 0.1.0
 * @category constants
 */
export const available = (): boolean => Fs.existsSync(Path.join(BIN, "initdb"))

/**
 * @since 0.1.0
 * @category models
 */
export interface Server {
  readonly socketDir: string
  readonly port: number
  /** `psql`'s arguments to reach `database` as the superuser over the socket */
  readonly connection: (database: string) => ReadonlyArray<string>
  /** runs `psql` as the superuser (`-c` commands in order); throws on failure */
  readonly psql: (database: string, ...commands: ReadonlyArray<string>) => string
  readonly stop: () => void
}

const asRoot = process.getuid?.() === 0

const run = (command: string, args: ReadonlyArray<string>): string => {
  const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]]
  const result = ChildProcess.spawnSync(file, argv, { encoding: "utf8" })
  if (result.status !== 0)
    throw new Error(`${Path.basename(command)} failed: ${result.stderr || result.error?.message}`)
  return result.stdout
}

/**
 * Starts a server (the port is only the socket's name: it listens on no TCP address).
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (): Server => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "batch-export-bench-pg-"))
  if (asRoot) {
    const id = (flag: string) =>
      Number(ChildProcess.execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim())
    Fs.chownSync(dir, id("-u"), id("-g"))
  }
  const data = Path.join(dir, "data")
  run(Path.join(BIN, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"])
  const port = 5432
  run(Path.join(BIN, "pg_ctl"), [
    "-D",
    data,
    "-l",
    Path.join(dir, "log"),
    "-w",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=''`,
    "start"
  ])
  return {
    socketDir: dir,
    port,
    connection: (database) => ["-h", dir, "-p", String(port), "-U", "postgres", "-d", database],
    psql: (database, ...commands) =>
      run(Path.join(BIN, "psql"), [
        "-h",
        dir,
        "-p",
        String(port),
        "-d",
        database,
        "-XAtq",
        "-v",
        "ON_ERROR_STOP=1",
        ...commands.flatMap((command) => ["-c", command])
      ]),
    stop: () => {
      try {
        run(Path.join(BIN, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"])
      } finally {
        Fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
