/**
 * The download progress display on stderr: a percentage when the total is known, a byte count otherwise.
 * On a terminal the line is redrawn in place with `\r`; elsewhere (a pipe, a log file, a test) a new line is
 * printed only when the percentage moves by at least 1% (or, without a total, every MiB).
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * `"redraw"`: one line rewritten with `\r` (a TTY). `"lines"`: one line per visible change, through
 * `Console.error`.
 *
 * @since 0.1.0
 * @category models
 */
export type Style = "redraw" | "lines"

/**
 * How progress is drawn; defaults to `"redraw"` when stderr is a TTY, `"lines"` otherwise.
 *
 * @since 0.1.0
 * @category references
 */
export class ProgressStyle extends Context.Reference<ProgressStyle>()("@batch-export/cli/ProgressStyle", {
  defaultValue: (): Style => (process.stderr.isTTY === true ? "redraw" : "lines")
}) {}

/**
 * Bytes received so far, and the total when known.
 *
 * @since 0.1.0
 * @category models
 */
export interface Update {
  readonly bytes: number
  readonly total: Option.Option<number>
}

/**
 * One file's progress display.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tracker {
  /** Reports the bytes received so far; draws only when the display would change visibly. */
  readonly update: (update: Update) => Effect.Effect<void>
  /** Ends the display: draws the last state if it was not drawn yet, and ends a redrawn line. */
  readonly close: Effect.Effect<void>
}

const BAR_WIDTH = 20
/** Without a total, a new line is drawn every this many bytes. */
const BYTES_STEP = 1024 * 1024

/**
 * The whole percent of `bytes` out of `total` (100 for an empty file).
 *
 * @since 0.1.0
 * @category rendering
 */
export const percent = (bytes: number, total: number): number =>
  total <= 0 ? 100 : Math.min(100, Math.floor((bytes * 100) / total))

/**
 * The text of one progress line, e.g. `file_… [##########..........]  50% 1024/2048 bytes`, or
 * `file_… 1024 bytes` when the total is unknown.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (label: string, update: Update): string =>
  Option.match(update.total, {
    onNone: () => `${label} ${update.bytes} bytes`,
    onSome: (total) => {
      const pct = percent(update.bytes, total)
      const filled = Math.floor((pct * BAR_WIDTH) / 100)
      const bar = "#".repeat(filled).padEnd(BAR_WIDTH, ".")
      return `${label} [${bar}] ${String(pct).padStart(3)}% ${update.bytes}/${total} bytes`
    }
  })

/** The visible state of a line: the percentage, or the MiB step without a total. */
const stepOf = (update: Update): number =>
  Option.match(update.total, {
    onNone: () => Math.floor(update.bytes / BYTES_STEP),
    onSome: (total) => percent(update.bytes, total)
  })

/**
 * A tracker labelled `label`, drawing in the current `ProgressStyle`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (label: string): Effect.Effect<Tracker> =>
  Effect.map(ProgressStyle, (style) => {
    let last: Update | undefined
    let drawnStep = -1
    let drawnBytes = -1
    let openLine = false

    const draw = (update: Update): Effect.Effect<void> => {
      drawnStep = stepOf(update)
      drawnBytes = update.bytes
      const line = render(label, update)
      if (style === "lines") return Console.error(line)
      openLine = true
      return Effect.sync(() => {
        process.stderr.write(`\r\x1b[2K${line}`)
      })
    }

    const update = (next: Update): Effect.Effect<void> =>
      Effect.suspend(() => {
        last = next
        return stepOf(next) === drawnStep && drawnBytes >= 0 ? Effect.void : draw(next)
      })

    const close: Effect.Effect<void> = Effect.suspend(() => {
      const pending = last !== undefined && last.bytes !== drawnBytes ? draw(last) : Effect.void
      return Effect.zipRight(
        pending,
        Effect.sync(() => {
          if (openLine) process.stderr.write("\n")
          openLine = false
        })
      )
    })

    return { update, close }
  })

/**
 * The progress of several files downloaded together (possibly at the same time), shown as one line.
 *
 * @since 0.1.0
 * @category models
 */
export interface FilesTracker {
  /** Reports the bytes received so far for one of the files. */
  readonly update: (progress: { readonly fileId: string; readonly bytes: number }) => Effect.Effect<void>
  /** Ends the display (see `Tracker.close`). */
  readonly close: Effect.Effect<void>
}

/**
 * One display for all of `files`: the bytes received across them out of the sum of their announced sizes. A
 * single line works in both styles, whatever the number of files downloading at once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const forFiles = (
  label: string,
  files: ReadonlyArray<{ readonly id: string; readonly size: number }>
): Effect.Effect<FilesTracker> =>
  Effect.map(make(label), (tracker) => {
    const total = Option.some(files.reduce((sum, file) => sum + file.size, 0))
    const received = new Map<string, number>()
    let bytes = 0
    const update = (progress: { readonly fileId: string; readonly bytes: number }): Effect.Effect<void> =>
      Effect.suspend(() => {
        // a file started over (changed content) reports fewer bytes than before: the sum follows
        bytes += progress.bytes - (received.get(progress.fileId) ?? 0)
        received.set(progress.fileId, progress.bytes)
        return tracker.update({ bytes, total })
      })
    return { update, close: tracker.close }
  })
