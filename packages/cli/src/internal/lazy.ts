import * as Effect from "effect/Effect"

/**
 * `f` applied to the module `load` imports, imported when the effect runs (Node caches it after the first
 * time). Command handlers are loaded this way, so that parsing a command line, `--help` and the commands that
 * do not download never load the client, undici or the emulator (about a second of start-up on a loaded
 * machine).
 *
 * @internal
 * @since 0.1.0
 * @category combinators
 */
export const lazily = <M, A, E, R>(
  load: () => Promise<M>,
  f: (module: M) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.flatMap(Effect.promise(load), f)
