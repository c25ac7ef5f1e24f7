/**
 * Writes a download's batches of buffers to a file in large blocks, through one block reused for the whole
 * file.
 *
 * Why (the download benchmark's profile): `FileSystem.File` has no `writev`, and one write per socket buffer
 * costs a thread-pool round trip each; joining each batch with `Buffer.concat` instead allocated a fresh
 * ≈ 1 MiB buffer per batch, whose external memory forced a full (mark-compact) GC every few batches — 23 per
 * 3 × 256 MiB against the bare pipeline's 2, the largest cost left in a download, and a peak RSS growing with
 * the file. Copying into a block that lives as long as the download allocates nothing per batch.
 *
 * A batch's effect lets go of its buffers once they are copied (or, for a batch of one, once written), and so
 * runs once: the stream running it may keep it until its next batch, and a socket buffer kept across a
 * scavenge is promoted, to be freed only by a full GC. Through this writer, a 1 GiB download took 3.2 s
 * holding them and 2.4 s letting go (alternated fresh processes).
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
    if (batch.length === 1) {
      const handOver: { buffer: Uint8Array | undefined } = { buffer: Chunk.unsafeHead(batch) }
      return Effect.suspend(() => {
        const buffer = handOver.buffer
        handOver.buffer = undefined
        return buffer === undefined ? Effect.void : write(buffer)
      })
    }
    const handOver = { parts: Chunk.toReadonlyArray(batch) }
    const target = (block ??= Buffer.allocUnsafe(BLOCK_SIZE))
    let index = 0
    let offset = 0
    /** Copies the next parts into the block; the number of bytes it holds. */
    const fill = (): number => {
      const parts = handOver.parts
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
      // every byte is in the block: the buffers are not needed any more
      if (index === parts.length) handOver.parts = []
      return filled
    }
    const next: Effect.Effect<void, E> = Effect.suspend(() => {
      const filled = fill()
      return filled === 0 ? Effect.void : Effect.zipRight(write(target.subarray(0, filled)), next)
    })
    return next
  }
}
