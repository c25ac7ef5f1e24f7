/**
 * `batch-export --completions bash`: a bash completion script generated from the command tree, as `--help`
 * reads it (`help.ts`): subcommands, then each command's own flags and the global ones.
 *
 * Why not @effect/cli's (0.77): its script never completes a subcommand's flags (its cases test the command
 * path as `batch__export,create` after setting it to `batch-export`), and it offers `--wizard` and
 * `--completions` everywhere. Only bash is generated (zsh runs it through `bashcompinit`).
 *
 * @internal
 * @since 0.1.0
 */
import { flagsOf, GLOBAL_FLAGS, type Topic } from "./help.js"

/** Every command path under `topic` (`""`, `" create"`, `" create events"`, …) with its topic. */
const pathsOf = (topic: Topic, path: string): ReadonlyArray<readonly [string, Topic]> => [
  [path, topic],
  ...topic.children.flatMap((child) => pathsOf(child, `${path} ${child.name}`))
]

/** The words offered after a command path: its subcommands, or its flags and the global ones. */
const wordsOf = (topic: Topic): string =>
  [...topic.children.map((child) => child.name), ...[...flagsOf(topic), ...GLOBAL_FLAGS].flatMap((flag) => flag.names)]
    .filter((word, index, all) => all.indexOf(word) === index)
    .join(" ")

/** A bash `case` pattern for an exact string (the names are plain words, quoted anyway). */
const quoted = (text: string) => `"${text}"`

/**
 * The bash script `source <(batch-export --completions bash)` loads: `_batch_export` completes `batch-export`'s
 * subcommands and flags; a flag's value and an argument fall back to bash's file names (`complete -o default`).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const bash = (root: Topic): string => {
  const paths = pathsOf(root, "")
  const withValue = [
    ...new Set(
      [...paths.flatMap(([, topic]) => flagsOf(topic)), ...GLOBAL_FLAGS]
        .filter((flag) => flag.takesValue)
        .flatMap((flag) => flag.names)
    )
  ]
  return [
    "# batch-export completion for bash: source <(batch-export --completions bash)",
    "_batch_export() {",
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i',
    "  # the command path so far (flags and values are skipped: they never name a command)",
    "  for ((i = 1; i < COMP_CWORD; i++)); do",
    '    case "$path ${COMP_WORDS[i]}" in',
    `      ${paths
      .slice(1)
      .map(([path]) => quoted(path))
      .join("|")}) path="$path \${COMP_WORDS[i]}" ;;`,
    "    esac",
    "  done",
    "  # a flag's value: file names",
    '  case "$prev" in',
    `    ${withValue.map(quoted).join("|")}) COMPREPLY=(); return 0 ;;`,
    "  esac",
    '  local words=""',
    '  case "$path" in',
    ...paths.map(([path, topic]) => `    ${quoted(path)}) words="${wordsOf(topic)}" ;;`),
    "  esac",
    "  # an argument (an id, a path) of a command without subcommands: file names",
    '  if [[ "$cur" != -* && "$words" != [a-z]* ]]; then COMPREPLY=(); return 0; fi',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    "}",
    "complete -o default -F _batch_export batch-export"
  ].join("\n")
}
