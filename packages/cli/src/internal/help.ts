/**
 * `--help`, rendered by us from what @effect/cli knows of each command (its `HelpDoc` and `Usage`).
 *
 * Why not @effect/cli's own help (0.77): it never wraps (a description is one line, up to 343 characters on an
 * 80-column terminal), writes "This setting is optional." and the value's type under every flag (148 lines for
 * `fetch`), prints the program's name twice, starts usage lines with the subcommand alone (`$ fetch …`), lists
 * `--wizard`, hides a `withDefault` value that is not an `Option`, and shows a repeatable flag that may be
 * absent (`--event NAME...`) as required. Its `CliConfig` only hides the built-in flags. So we read the same
 * descriptions and render them compactly, wrapped to the terminal.
 *
 * @internal
 * @since 0.1.0
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import type * as HelpDoc from "@effect/cli/HelpDoc"
import type * as Span from "@effect/cli/HelpDoc/Span"
import type * as Usage from "@effect/cli/Usage"
import * as HashSet from "effect/HashSet"

/**
 * A command whose help can be shown, with its subcommands in the order they are listed.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Topic {
  readonly name: string
  readonly descriptor: Descriptor.Command<unknown>
  readonly children: ReadonlyArray<Topic>
}

/**
 * The topic of a command (`Command.Command` has a `descriptor`).
 *
 * @internal
 * @since 0.1.0
 * @category constructors
 */
export const topic = (
  command: { readonly descriptor: Descriptor.Command<unknown> },
  children: ReadonlyArray<Topic> = []
): Topic => ({
  name: [...HashSet.values(Descriptor.getNames(command.descriptor))].join(" "),
  descriptor: command.descriptor,
  children
})

/**
 * The topics a command line asks help for (the root first, then each subcommand named), when it holds `--help`
 * or `-h` before any `--`, or is empty (`batch-export` alone shows the help); `undefined` otherwise.
 *
 * @internal
 * @since 0.1.0
 * @category parsing
 */
export const requested = (root: Topic, args: ReadonlyArray<string>): ReadonlyArray<Topic> | undefined => {
  if (args.length === 0) return [root]
  const end = args.indexOf("--")
  const words = end === -1 ? args : args.slice(0, end)
  if (!words.includes("--help") && !words.includes("-h")) return undefined
  const path = [root]
  for (const word of words) {
    const child = path.at(-1)?.children.find((candidate) => candidate.name === word)
    if (child !== undefined) path.push(child)
  }
  return path
}

// ---- reading @effect/cli's help

const spanText = (span: Span.Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    case "Highlight":
    case "Strong":
    case "Weak":
      return spanText(span.value)
  }
}

const blocksOf = (doc: HelpDoc.HelpDoc): ReadonlyArray<HelpDoc.HelpDoc> => {
  switch (doc._tag) {
    case "Empty":
      return []
    case "Sequence":
      return [...blocksOf(doc.left), ...blocksOf(doc.right)]
    default:
      return [doc]
  }
}

/** The level-1 sections of a command's help (`DESCRIPTION`, `ARGUMENTS`, `OPTIONS`), by title. */
const sectionsOf = (descriptor: Descriptor.Command<unknown>): ReadonlyMap<string, ReadonlyArray<HelpDoc.HelpDoc>> => {
  const sections = new Map<string, Array<HelpDoc.HelpDoc>>()
  let current: Array<HelpDoc.HelpDoc> = []
  for (const block of blocksOf(Descriptor.getHelp(descriptor, CliConfig.make({ showBuiltIns: false })))) {
    if (block._tag === "Header" && block.level === 1) {
      current = []
      sections.set(spanText(block.value), current)
    } else {
      current.push(block)
    }
  }
  return sections
}

// What @effect/cli adds under each flag: said once here (optional flags are in brackets in the usage line, and
// a repeatable one says so in its description) rather than under every flag.
const GENERATED = /^(This setting is optional|This option may be repeated|This option must be repeated)/

interface Entry {
  readonly name: string
  readonly description: string
}

/**
 * The flags or arguments of a description list: the name as @effect/cli writes it (`(-q, --quiet)` becomes
 * `-q, --quiet`, `NAME...` becomes `NAME`), and our description: the paragraphs after the first (the value's
 * type, which the name already shows) that @effect/cli did not generate.
 */
const entriesOf = (blocks: ReadonlyArray<HelpDoc.HelpDoc>): ReadonlyArray<Entry> =>
  blocks.flatMap((block) =>
    block._tag === "DescriptionList"
      ? block.definitions.map(([span, doc]) => ({
          name: spanText(span)
            .replace(/^\((.*)\)$/, "$1")
            .replace(/\.\.\.$/, ""),
          description: paragraphsOf(doc)
            .slice(1)
            .filter((text) => !GENERATED.test(text))
            .join(" ")
        }))
      : []
  )

const paragraphsOf = (doc: HelpDoc.HelpDoc): ReadonlyArray<string> =>
  blocksOf(doc).flatMap((block) =>
    block._tag === "Paragraph"
      ? [spanText(block.value)]
      : block._tag === "Enumeration"
        ? block.elements.flatMap(paragraphsOf)
        : []
  )

interface Named {
  readonly text: string
  readonly required: boolean
}

/** The names of a usage, each with whether it must be given: a repeated flag may be absent (`Options.repeated`). */
const namedOf = (usage: Usage.Usage, required = true): ReadonlyArray<Named> => {
  switch (usage._tag) {
    case "Named": {
      const name = usage.names.find((n) => n.startsWith("--")) ?? usage.names[0] ?? ""
      const value = usage.acceptedValues._tag === "Some" ? ` ${usage.acceptedValues.value}` : ""
      return [{ text: `${name}${value}`, required }]
    }
    case "Optional":
    case "Repeated":
      return namedOf(usage.usage, false)
    case "Alternation":
      return [...namedOf(usage.left, false), ...namedOf(usage.right, false)]
    case "Concat":
      return [...namedOf(usage.left, required), ...namedOf(usage.right, required)]
    case "Empty":
    case "Mixed":
      return []
  }
}

/**
 * A flag a command takes: its names (`--out`, `-o`) and whether a value follows it.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Flag {
  readonly names: ReadonlyArray<string>
  readonly takesValue: boolean
}

const flagsOfUsage = (usage: Usage.Usage): ReadonlyArray<Flag> => {
  switch (usage._tag) {
    case "Named":
      return usage.names.every((name) => name.startsWith("-"))
        ? [{ names: usage.names, takesValue: usage.acceptedValues._tag === "Some" }]
        : []
    case "Optional":
    case "Repeated":
      return flagsOfUsage(usage.usage)
    case "Alternation":
    case "Concat":
      return [...flagsOfUsage(usage.left), ...flagsOfUsage(usage.right)]
    case "Empty":
    case "Mixed":
      return []
  }
}

/**
 * The flags of a command, as its usage (and so its help) lists them: a command with subcommands may have its own
 * (`sync --config`), which come before the subcommand's.
 *
 * @internal
 * @since 0.1.0
 * @category parsing
 */
export const flagsOf = (topic: Topic): ReadonlyArray<Flag> => flagsOfUsage(Descriptor.getUsage(topic.descriptor))

/**
 * Flags every command takes (@effect/cli's built-ins that are worth knowing; `--wizard` is not).
 *
 * @internal
 * @since 0.1.0
 * @category constants
 */
export const GLOBAL_FLAGS: ReadonlyArray<Flag> = [
  { names: ["-h", "--help"], takesValue: false },
  { names: ["--version"], takesValue: false },
  { names: ["--log-level"], takesValue: true }
]

// ---- rendering

/** Narrower than this, a flag's description goes under its name instead of beside it. */
const MIN_DESCRIPTION = 30
const MAX_NAME_COLUMN = 28

/** `text` wrapped to `width`: the first line after `first` spaces, the others after `rest`; long words are cut. */
const wrap = (text: string, width: number, first: number, rest: number): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = " ".repeat(first)
  let empty = true
  const indent = () => (lines.length === 0 ? first : rest)
  for (let word of text.split(/\s+/).filter((w) => w !== "")) {
    while (word !== "") {
      const room = width - line.length - (empty ? 0 : 1)
      if (word.length <= room) {
        line += (empty ? "" : " ") + word
        empty = false
        word = ""
      } else if (!empty) {
        lines.push(line)
        line = " ".repeat(rest)
        empty = true
      } else {
        // a word wider than the whole line (a long URL): cut where the line ends
        const cut = Math.max(1, width - indent())
        line += word.slice(0, cut)
        word = word.slice(cut)
        lines.push(line)
        line = " ".repeat(rest)
      }
    }
  }
  if (!empty || lines.length === 0) lines.push(line.trimEnd())
  return lines
}

/** Usable indents on a line of `width`: never so deep that nothing fits. */
const indentFor = (width: number, wanted: number) => Math.max(0, Math.min(wanted, width - MIN_DESCRIPTION / 2))

/** Name and description side by side when there is room, else the description under the name. */
const entryLines = (entries: ReadonlyArray<Entry>, width: number): ReadonlyArray<string> => {
  const column = Math.min(MAX_NAME_COLUMN, Math.max(0, ...entries.map((entry) => entry.name.length)) + 4)
  const beside = width - column >= MIN_DESCRIPTION
  return entries.flatMap(({ description, name }) => {
    if (beside && name.length + 4 <= column) {
      const lines = wrap(description, width, column, column)
      return [`  ${name.padEnd(column - 2)}${(lines[0] ?? "").trimStart()}`.trimEnd(), ...lines.slice(1)]
    }
    const under = indentFor(width, beside ? column : 6)
    return [...wrap(name, width, indentFor(width, 2), indentFor(width, 4)), ...wrap(description, width, under, under)]
  })
}

/** A paragraph such as `129  hung up (SIGHUP), …` wraps under its text, not under its term. */
const paragraphLines = (text: string, width: number): ReadonlyArray<string> => {
  const term = /^\S+ {2,}/.exec(text)?.[0]
  if (term === undefined) return wrap(text, width, 0, 0)
  const hanging = indentFor(width, term.length)
  const lines = wrap(text.slice(term.length), width, hanging, hanging)
  return [`${term.slice(0, hanging).padEnd(hanging)}${(lines[0] ?? "").trimStart()}`, ...lines.slice(1)]
}

const descriptionLines = (blocks: ReadonlyArray<HelpDoc.HelpDoc>, width: number): ReadonlyArray<string> =>
  blocks.flatMap((block, index) => {
    const gap = index === 0 ? [] : [""]
    switch (block._tag) {
      case "Header":
        return [...gap, ...wrap(`${spanText(block.value)}:`, width, 0, 0)]
      case "Paragraph": {
        const previous = blocks[index - 1]
        // the lines of a list under a header (exit codes) are not set apart by blank lines
        const inList = previous !== undefined && previous._tag !== "Header" && /^\S+ {2,}/.test(spanText(block.value))
        return [...(inList || previous?._tag === "Header" ? [] : gap), ...paragraphLines(spanText(block.value), width)]
      }
      default:
        return paragraphsOf(block).flatMap((text) => paragraphLines(text, width))
    }
  })

/** The first paragraph of a command's description: what it does, in a line or two. */
const summaryOf = (topic: Topic): string =>
  (sectionsOf(topic.descriptor).get("DESCRIPTION") ?? []).flatMap(paragraphsOf)[0] ?? ""

/**
 * The commands under a topic that run, each with its path from it (`create attributes`) and its summary: the
 * leaves, and a command with subcommands when it takes flags of its own (`sync` beside `sync status`).
 */
const commandEntries = (topic: Topic, prefix: ReadonlyArray<string>): ReadonlyArray<Entry> =>
  topic.children.flatMap((child) => {
    const own = { name: [...prefix, child.name].join(" "), description: summaryOf(child) }
    if (child.children.length === 0) return [own]
    return [...(flagsOf(child).length > 0 ? [own] : []), ...commandEntries(child, [...prefix, child.name])]
  })

/** Flags every command takes (@effect/cli's built-ins that are worth knowing; `--wizard` is not). */
const GLOBAL: ReadonlyArray<Entry> = [
  { name: "-h, --help", description: "Show this help (also after a command: batch-export fetch --help)" },
  { name: "--version", description: "Print the version" },
  { name: "--log-level LEVEL", description: "Log on stderr from this level: debug, info, warning, error, none" }
]

/**
 * The help of the last topic of `path` (as `requested` returns it), wrapped to `width` columns: no line is wider.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const render = (path: ReadonlyArray<Topic>, width: number): string => {
  const topic = path.at(-1)
  if (topic === undefined) return ""
  const names = path.map((t) => t.name)
  const sections = sectionsOf(topic.descriptor)
  const lines: Array<string> = []
  const section = (title: string, body: ReadonlyArray<string>) => {
    if (body.length > 0) lines.push("", `${title}:`, ...body)
  }
  if (topic.children.length > 0) {
    // a command that runs by itself too (`sync [options]`) says so first
    if (flagsOf(topic).length > 0)
      lines.push(...wrap(`Usage: ${names.join(" ")} [options]`, width, 0, indentFor(width, 4)))
    const prefix = flagsOf(topic).length > 0 ? "   or: " : "Usage: "
    lines.push(...wrap(`${prefix}${names.join(" ")} <command> [options]`, width, 0, indentFor(width, 4)))
  } else {
    // the usage starts with the command's own name, which `names` already holds
    const named = namedOf(Descriptor.getUsage(topic.descriptor)).filter((n, i) => i > 0 || n.text !== topic.name)
    const required = named.filter((n) => n.required)
    const usage = [
      ...names,
      ...required.filter((n) => n.text.startsWith("<")).map((n) => n.text),
      ...required.filter((n) => !n.text.startsWith("<")).map((n) => n.text),
      ...(named.some((n) => !n.required) ? ["[options]"] : [])
    ]
    lines.push(...wrap(`Usage: ${usage.join(" ")}`, width, 0, indentFor(width, 4)))
  }
  const description = descriptionLines(sections.get("DESCRIPTION") ?? [], width)
  if (description.length > 0) lines.push("", ...description)
  section("Commands", entryLines(commandEntries(topic, []), width))
  section("Arguments", entryLines(entriesOf(sections.get("ARGUMENTS") ?? []), width))
  section("Options", entryLines(entriesOf(sections.get("OPTIONS") ?? []), width))
  if (path.length === 1) section("Global options", entryLines(GLOBAL, width))
  else lines.push("", ...wrap(`Global options: ${GLOBAL.map((g) => g.name).join(", ")}`, width, 0, 2))
  return lines.join("\n")
}
