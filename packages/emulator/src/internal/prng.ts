/**
 * Small, dependency-free deterministic hashing and pseudo-random generation.
 * Only 32-bit integer arithmetic is used, so results are identical on every platform.
 *
 * @internal
 */

const fmix32 = (input: number): number => {
  let h = input | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** @internal */
export const mix = (...values: ReadonlyArray<number>): number => {
  let h = 0x9e3779b9
  for (const value of values) {
    const lo = value | 0
    const hi = Math.floor(value / 0x100000000) | 0
    h = fmix32(Math.imul(h ^ lo, 0x01000193) + 0x7f4a7c15)
    h = fmix32(Math.imul(h ^ hi, 0x01000193) + 0x165667b1)
  }
  return h
}

/** @internal */
export interface Random {
  /** a float in [0, 1) */
  readonly next: () => number
  /** an integer in [0, n) */
  readonly int: (n: number) => number
  readonly pick: <A>(items: ReadonlyArray<A>) => A
  readonly chance: (p: number) => boolean
}

/**
 * mulberry32
 *
 * @internal
 */
export const random = (seed: number): Random => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return {
    next,
    int,
    pick: <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!,
    chance: (p: number) => next() < p
  }
}

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

/** @internal */
export const alnum = (rng: Random, length: number): string => {
  let out = ""
  for (let i = 0; i < length; i++) out += ALPHABET[rng.int(ALPHABET.length)]
  return out
}

/** @internal */
export const hex = (rng: Random, length: number): string => {
  let out = ""
  for (let i = 0; i < length; i++) out += HEX[rng.int(16)]
  return out
}

const HEX = "0123456789abcdef"
