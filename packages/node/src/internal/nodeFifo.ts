/**
 * Waiting for a FIFO's reader without blocking a thread. Opening a FIFO for writing blocks until a reader opens
 * it: in Node, that is a thread of libuv's pool blocked in `open`, which an interruption cannot end — and Node's
 * exit joins those threads, so even `process.exit` then waits forever (Ctrl-C would do nothing). Opened with
 * `O_NONBLOCK`, the same call answers at once: `ENXIO` while there is no reader. Used by `ExportFiles.layer`
 * only, which provides Node's file system; any other file system is opened as it opens files.
 */
import type { ClientError } from "@batch-export/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"

const PROBE = Fs.constants.O_WRONLY | Fs.constants.O_NONBLOCK

/** One try: the descriptor when `path` has a reader now (a device or a file always has one). */
const probe = (path: string, onError: (error: NodeJS.ErrnoException) => ClientError.FileWriteError) =>
  Effect.async<Option.Option<number>, ClientError.FileWriteError>((resume) => {
    Fs.open(path, PROBE, (error, fd) => {
      if (error === null) return resume(Effect.succeed(Option.some(fd)))
      resume(error.code === "ENXIO" ? Effect.succeed(Option.none()) : Effect.fail(onError(error)))
    })
  })

/**
 * Returns once `path` can be opened for writing without waiting (a FIFO has a reader), trying every 100 ms:
 * interruptible between tries. The descriptor that found the reader stays open with the scope: closed before
 * the real open, it would be the reader's only writer, and its close an end of file (the reader would leave). A
 * reader that leaves before the real open makes that open wait again. Only that descriptor is added to the
 * scope (a try that finds no reader opens nothing), so a wait of hours holds nothing more than a wait of one try.
 */
export const awaitReader = (
  path: string,
  onError: (error: NodeJS.ErrnoException) => ClientError.FileWriteError
): Effect.Effect<void, ClientError.FileWriteError, Scope.Scope> =>
  // a try and the finalizer of what it opened, together: an interruption cannot fall between them
  Effect.uninterruptible(
    Effect.tap(probe(path, onError), (fd) =>
      Option.isNone(fd)
        ? Effect.void
        : Effect.addFinalizer(() => Effect.async<void>((resume) => Fs.close(fd.value, () => resume(Effect.void))))
    )
  ).pipe(Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: Option.isSome }), Effect.asVoid)
