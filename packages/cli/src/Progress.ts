/**
 * The download progress display on stderr: percentage, bytes in human units, speed and time left, then what is
 * downloaded. On a terminal one line is redrawn in place, fitted to the terminal's width so it never wraps (a
 * wrapped line leaves a stale copy at every redraw): the numbers keep their place and the label is shortened. Elsewhere (a pipe, a log file) sparse plain lines are printed: one
 * every 25 % or every 10 seconds, and the final one. `--quiet` turns it off.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * `"redraw"`: one line rewritten with `\r` (a terminal). `"lines"`: sparse plain lines through
 * `Console.error`. `"off"`: nothing (`--quiet`).
 *
 * @since 0.1.0
 * @category models
 */
export type Style = "redraw" | "lines" | "off"

/**
 * How progress is drawn; defaults to `"redraw"` when stderr is a terminal, `"lines"` otherwise.
 *
 * @since 0.1.0
 * @category constants
 */
export class ProgressStyle extends Context.Reference<ProgressStyle>()("@batch-export/cli/ProgressStyle", {
  defaultValue: (): Style => (process.stderr.isTTY === true ? "redraw" : "lines")
}) {}

/**
 * The width of the terminal the redrawn line must fit in, read at each redraw (the window may be resized).
 *
 * @since 0.1.0
 * @category constants
 */
export class TerminalWidth extends Context.Reference<TerminalWidth>()("@batch-export/cli/TerminalWidth", {
  defaultValue: (): (() => number) => () => (process.stderr.columns > 0 ? process.stderr.columns : 80)
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
 * One progress display.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tracker {
  /** Reports the bytes received so far; draws only when the display is due. */
  readonly update: (update: Update) => Effect.Effect<void>
  /** Ends the display: draws the final state, and ends a redrawn line. */
  readonly close: Effect.Effect<void>
}

/** A plain line at least this often, … */
const LINES_EVERY_MILLIS = 10_000
/** … and at each of these fractions of the total. */
const LINES_STEP_PERCENT = 25
/** A terminal line is redrawn at most this often. */
const REDRAW_EVERY_MILLIS = 100

/**
 * The whole percent of `bytes` out of `total` (100 for an empty file).
 *
 * @since 0.1.0
 * @category rendering
 */
export const percent = (bytes: number, total: number): number =>
  total <= 0 ? 100 : Math.min(100, Math.floor((bytes * 100) / total))

const UNITS = ["KiB", "MiB", "GiB", "TiB"]

/**
 * A byte count in binary units: `512 B`, `1.5 KiB`, `12.3 MiB`, `120 MiB`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} B`
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`
}

/**
 * A duration in seconds as `0.2s`, `45s`, `3m05s` or `2h07m`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatSeconds = (seconds: number): string => {
  if (seconds > 0 && seconds < 1) return `${Math.max(0.1, Math.round(seconds * 10) / 10)}s`
  const s = Math.max(0, Math.ceil(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
}

/**
 * What a line shows: the bytes so far, and the time since the display started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot extends Update {
  readonly elapsedMillis: number
}

/** The figures of a line, in the order they are shown: `45%`, `12.3 MiB/27.4 MiB`, `3.2 MiB/s`, `ETA 5s`. */
const figures = (snapshot: Snapshot): ReadonlyArray<string> => {
  const seconds = snapshot.elapsedMillis / 1000
  // a speed from less than half a second of data says nothing yet
  const speed = seconds >= 0.5 ? snapshot.bytes / seconds : undefined
  const rate = speed === undefined ? [] : [`${formatBytes(Math.round(speed))}/s`]
  return Option.match(snapshot.total, {
    onNone: () => [formatBytes(snapshot.bytes), ...rate],
    onSome: (total) => {
      const eta =
        speed !== undefined && speed > 0 && snapshot.bytes < total
          ? [`ETA ${formatSeconds((total - snapshot.bytes) / speed)}`]
          : []
      return [
        `${percent(snapshot.bytes, total)}%`,
        `${formatBytes(snapshot.bytes)}/${formatBytes(total)}`,
        ...rate,
        ...eta
      ]
    }
  })
}

/**
 * The figures that fit in `width`, in their order: a narrow line drops the speed first, then the time left,
 * then the bytes; the percentage (or, without a total, the bytes) stays.
 */
const fittingFigures = (all: ReadonlyArray<string>, width: number): string | undefined => {
  const dropped = (figure: string) =>
    figure.endsWith("/s") ? 0 : figure.startsWith("ETA ") ? 1 : figure.endsWith("%") ? 3 : 2
  const byPriority = [...all].sort((a, b) => dropped(a) - dropped(b))
  for (let drop = 0; drop < all.length; drop++) {
    const gone = new Set(byPriority.slice(0, drop))
    const line = all.filter((figure) => !gone.has(figure)).join(" ")
    if (line.length <= width) return line
  }
  return undefined
}

/** `text` in at most `width` characters, its middle replaced by `…` (an id's ends are what tell ids apart). */
const shorten = (text: string, width: number): string => {
  if (text.length <= width) return text
  if (width <= 1) return text.slice(0, Math.max(0, width))
  const head = Math.ceil((width - 1) / 2)
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`
}

/** A label shorter than this says nothing: it is left out rather than shown. */
const MIN_LABEL = 8
/** The bar is drawn only when it can be at least this wide, and is never wider than `BAR_MAX`. */
const BAR_MIN = 10
const BAR_MAX = 20

/**
 * The text of one progress line, at most `width` characters. The numbers come first and stay: `45% 12.3 MiB/27.4
 * MiB 3.2 MiB/s ETA 5s [####......] label` when there is room for everything; on a narrower line the bar goes
 * first, then the label is shortened in its middle, then left out, then the speed and the time left go, and at
 * worst the figures are cut.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (label: string, snapshot: Snapshot, width: number = Number.MAX_SAFE_INTEGER): string => {
  const all = figures(snapshot)
  const stats = all.join(" ")
  const barRoom = width - stats.length - 1 - label.length - 1 - 2 // " [" + "] "
  if (Option.isSome(snapshot.total) && barRoom >= BAR_MIN) {
    const barWidth = Math.min(BAR_MAX, barRoom)
    const filled = Math.floor((percent(snapshot.bytes, snapshot.total.value) * barWidth) / 100)
    return `${stats} [${"#".repeat(filled).padEnd(barWidth, ".")}] ${label}`.trimEnd()
  }
  const line = fittingFigures(all, width)
  // not even the first figure fits: its start
  if (line === undefined) return (all[0] ?? "").slice(0, Math.max(0, width))
  const room = width - line.length - 1
  return label !== "" && room >= Math.min(MIN_LABEL, label.length) ? `${line} ${shorten(label, room)}` : line
}

/**
 * A tracker labelled `label`, drawing in the current `ProgressStyle`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (label: string): Effect.Effect<Tracker> =>
  Effect.gen(function* () {
    const style = yield* ProgressStyle
    const width = yield* TerminalWidth
    const started = yield* Clock.currentTimeMillis
    if (style === "off") return { update: () => Effect.void, close: Effect.void }

    let last: Update | undefined
    let drawn: Update | undefined
    let drawnAt = started
    let openLine = false

    const draw = (update: Update, now: number): Effect.Effect<void> => {
      drawn = update
      drawnAt = now
      const snapshot = { ...update, elapsedMillis: now - started }
      if (style === "lines") return Console.error(render(label, snapshot))
      openLine = true
      // the last column is left empty: writing into it makes some terminals wrap
      const line = render(label, snapshot, width() - 1)
      return Effect.sync(() => {
        process.stderr.write(`\r\x1b[2K${line}`)
      })
    }

    const due = (next: Update, now: number): boolean => {
      const previous = drawn
      if (previous === undefined) return true
      if (style === "redraw") return now - drawnAt >= REDRAW_EVERY_MILLIS
      if (now - drawnAt >= LINES_EVERY_MILLIS) return true
      return Option.match(next.total, {
        onNone: () => false,
        onSome: (total) =>
          Math.floor(percent(next.bytes, total) / LINES_STEP_PERCENT) >
          Math.floor(percent(previous.bytes, total) / LINES_STEP_PERCENT)
      })
    }

    const update = (next: Update): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        last = next
        return due(next, now) ? draw(next, now) : Effect.void
      })

    const close: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const pending = last !== undefined && last !== drawn ? draw(last, now) : Effect.void
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
 * single line works in every style, whatever the number of files downloading at once.
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

/**
 * Turns the display off when `quiet` (`--quiet`), else leaves the style as it is.
 *
 * @since 0.1.0
 * @category combinators
 */
export const quietly =
  (quiet: boolean) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    quiet ? Effect.provideService(self, ProgressStyle, "off") : self
