/**
 * One download per destination at a time. Two runs writing one destination (an overlapping cron job) would
 * interleave their bytes in one `.partial`: the lock file `.<name>.lock`, created with `wx` (exclusively) and
 * naming its process, makes the second refuse at once with a typed error rather than wait for a run that may
 * take hours. The lock is removed with the scope that took it, on success, failure or interruption.
 *
 * A lock left by a process that no longer runs (killed with SIGKILL, a power cut) is stale and taken over:
 * its pid is not alive, or it is this process's pid but not a lock this process holds (a container's program
 * runs as the same pid, often 1, every time: the lock of a run killed there names the next run's own pid), or
 * it names no pid and is older than `UNNAMED_GRACE` (a lock is created empty and written an instant later; a
 * crash in between leaves it empty). A pid reused by another process makes a stale lock look held: the
 * message names the lock file, for a person to remove.
 */
import { ClientError } from "@batch-export/core"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Files from "./files.js"

/** How long a lock that names no process is taken to be one being created, not one left by a crash. */
const UNNAMED_GRACE_MILLIS = 10_000

/** Bytes of a lock file read at most: `<pid> <token>\n` is far shorter. */
const LOCK_LIMIT = 256

const CONTENT = /^(\d+) ([0-9a-z]+)\n$/

/** The tokens of the locks this process holds now: a lock naming this pid with another token is not ours. */
const held = new Set<string>()

/** Whether process `pid` runs (EPERM: it runs, as another user). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return typeof error === "object" && error !== null && "code" in error && error.code === "EPERM"
  }
}

/** What holds the lock, read from its file. */
type Holder =
  | { readonly _tag: "Free" }
  | { readonly _tag: "Held"; readonly pid: number | undefined }
  /** `info`: the stale lock file, or undefined when it is no regular file */
  | { readonly _tag: "Stale"; readonly info: FileSystem.File.Info | undefined }

const holder = (fs: FileSystem.FileSystem, lock: string): Effect.Effect<Holder, ClientError.FileWriteError> =>
  Effect.gen(function* () {
    const seen = yield* Files.entry(fs, lock)
    if (seen._tag === "Absent") return { _tag: "Free" }
    // a link or a special file at the lock's name is no lock any run made
    if (seen._tag === "Other") return { _tag: "Stale", info: undefined }
    const read = yield* Files.readSmall(fs, lock, LOCK_LIMIT)
    const match = CONTENT.exec(Option.match(read, { onNone: () => "", onSome: ({ bytes }) => decode(bytes) }))
    if (match !== null) {
      const pid = Number(match[1])
      const ours = pid === process.pid ? held.has(match[2] ?? "") : alive(pid)
      return ours ? { _tag: "Held", pid } : { _tag: "Stale", info: seen.info }
    }
    // the file system's clock, not the program's (a test clock must not make every lock look new or old)
    const now = yield* Effect.sync(() => Date.now())
    const age = Option.match(seen.info.mtime, { onNone: () => Infinity, onSome: (mtime) => now - mtime.getTime() })
    return age < UNNAMED_GRACE_MILLIS ? { _tag: "Held", pid: undefined } : { _tag: "Stale", info: seen.info }
  })

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/**
 * Takes the lock of `destination` (its file is `lock`) for the current scope, or fails with a `FileWriteError`
 * naming the download that holds it.
 */
export const acquire = (
  fs: FileSystem.FileSystem,
  destination: string,
  lock: string
): Effect.Effect<void, ClientError.FileWriteError, Scope.Scope> =>
  Effect.gen(function* () {
    const token = (yield* Random.nextInt).toString(36).replace("-", "")
    const mine = `${process.pid} ${token}\n`
    const refuse = (pid: number | undefined) =>
      new ClientError.FileWriteError({
        path: destination,
        detail:
          pid === undefined
            ? `another download is starting to write it (its lock ${lock} is new)`
            : `another download (pid ${pid}) is writing it; if none runs, remove ${lock}`
      })
    // a few turns: each stale lock removed may meet another run taking it at the same moment
    for (let turn = 0; turn < 3; turn++) {
      const created = yield* Effect.acquireRelease(
        // counted as held before the file exists: another fiber of this process that reads it meanwhile must
        // not take it for a lock left by an earlier process with this pid
        Effect.sync(() => held.add(token)).pipe(
          Effect.zipRight(fs.writeFileString(lock, mine, { flag: "wx" })),
          Effect.as(true),
          Effect.catchIf(
            (error) => error._tag === "SystemError" && error.reason === "AlreadyExists",
            () => Effect.succeed(false)
          ),
          Effect.mapError(Files.writeError(lock)),
          Effect.onExit((exit) =>
            Exit.isSuccess(exit) && exit.value ? Effect.void : Effect.sync(() => held.delete(token))
          )
        ),
        (created) =>
          created
            ? Effect.ensuring(
                release(fs, lock, mine),
                Effect.sync(() => held.delete(token))
              )
            : Effect.void
      )
      if (created) return
      const found = yield* holder(fs, lock)
      if (found._tag === "Held") return yield* refuse(found.pid)
      if (found._tag === "Stale") yield* takeOver(fs, lock, found.info)
    }
    return yield* refuse(undefined)
  })

/** Removes the lock when it is still ours. */
const release = (fs: FileSystem.FileSystem, lock: string, mine: string) =>
  Effect.flatMap(Files.readSmall(fs, lock, LOCK_LIMIT), (read) =>
    Option.exists(read, ({ bytes }) => decode(bytes) === mine) ? fs.remove(lock).pipe(Effect.ignore) : Effect.void
  )

/**
 * Removes a stale lock, and only it: the lock is first moved aside, and removed when what was moved is the
 * file found stale. Another run may have taken it over meanwhile and made its own: that one is put back.
 */
const takeOver = (fs: FileSystem.FileSystem, lock: string, stale: FileSystem.File.Info | undefined) =>
  Effect.gen(function* () {
    yield* Effect.logWarning(`taking over the stale lock ${lock}`)
    const aside = `${lock}.${(yield* Random.nextInt).toString(36).replace("-", "")}.stale`
    const moved = yield* fs.rename(lock, aside).pipe(
      Effect.as(true),
      Effect.orElseSucceed(() => false)
    )
    if (!moved) return
    const found = yield* Files.entry(fs, aside).pipe(Effect.orElseSucceed((): Files.Entry => ({ _tag: "Absent" })))
    const same =
      stale === undefined
        ? found._tag === "Other"
        : found._tag === "Regular" && Files.sameFile(found.info, stale) && Option.isSome(stale.ino)
    // another run's fresh lock: put it back, unless yet another was made meanwhile (that one stands)
    if (!same) yield* fs.link(aside, lock).pipe(Effect.ignore)
    yield* fs.remove(aside, { force: true }).pipe(Effect.ignore)
  })
