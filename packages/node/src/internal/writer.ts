/**
 * Writes a download's batches of buffers to a file in large blocks, through one block reused for the whole
 * file.
 *
 * Why (the download benchmark's profile): `FileSystem.File` has no `writev`, and one write per socket buffer
 * costs a thread-pool round trip each; joining each batch with `Buffer.concat` instead allocated a fresh
 * ≈ 1 MiB buffer per batch, whose external memory forced a full (mark-compact) GC every few batches — 23 per
 * 3 × 256 MiB against the bare pipeline's 2, the largest cost left in a download, and a peak RSS growing with
 * the file. Copying into a block that lives as long as the download allocates nothing per batch.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"

/** The block's size: a batch is at most about this large (the body reader's queue). */
export const BLOCK_SIZE = 1024 * 1024

/**
 * A writer of batches through `write`, which must be done with its bytes when its effect ends (as
 * `FileSystem.File.writeAll` is): the block is refilled right after.
 */
export const make = <E>(
  write: (bytes: Uint8Array) => Effect.Effect<void, E>
): ((batch: Chunk.Chunk<Uint8Array>) => Effect.Effect<void, E>) => {
  let block: Buffer | undefined
  return (batch) => {
    // one buffer is written as it is: nothing to join
    if (batch.length === 1) return write(Chunk.unsafeHead(batch))
    const parts = Chunk.toReadonlyArray(batch)
    const target = (block ??= Buffer.allocUnsafe(BLOCK_SIZE))
    let index = 0
    let offset = 0
    /** Copies the next parts into the block; the number of bytes it holds. */
    const fill = (): number => {
      let filled = 0
      while (index < parts.length && filled < BLOCK_SIZE) {
        const part = parts[index]!
        const n = Math.min(part.length - offset, BLOCK_SIZE - filled)
        target.set(offset === 0 && n === part.length ? part : part.subarray(offset, offset + n), filled)
        filled += n
        offset += n
        if (offset === part.length) {
          index++
          offset = 0
        }
      }
      return filled
    }
    const next: Effect.Effect<void, E> = Effect.suspend(() => {
      const filled = fill()
      return filled === 0 ? Effect.void : Effect.zipRight(write(target.subarray(0, filled)), next)
    })
    return next
  }
}
