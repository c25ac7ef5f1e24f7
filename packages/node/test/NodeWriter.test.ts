import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import { type Io, make, nodeIo } from "../src/internal/nodeWriter.js"
import { collectGarbage } from "./support/gc.js"

type Callback = (error: NodeJS.ErrnoException | null, written: number) => void

const failed = (error: NodeJS.ErrnoException) => `failed: ${error.code ?? error.message}`

/** A file of its own in a fresh directory, open for writing; `read` gives what it holds. */
const tempFile = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "node-writer-"))
    const path = NodePath.join(dir, "out")
    return { dir, fd: Fs.openSync(path, "w"), read: () => Fs.readFileSync(path) }
  }),
  ({ dir, fd }) =>
    Effect.sync(() => {
      Fs.closeSync(fd)
      Fs.rmSync(dir, { recursive: true, force: true })
    })
)

/** Node's calls, recording the buffers each was given, and taking at most `most` bytes a call (a pipe may). */
const recording = (most = Infinity) => {
  const calls: Array<number> = []
  const io: Io = {
    write: (fd, buffer, callback) => {
      calls.push(1)
      Fs.write(fd, buffer, 0, Math.min(most, buffer.length), null, callback)
    },
    writev: (fd, buffers, callback) => {
      calls.push(buffers.length)
      if (most === Infinity) return nodeIo.writev(fd, buffers, callback)
      nodeIo.write(fd, Buffer.concat(buffers).subarray(0, most), callback)
    }
  }
  return { calls, io }
}

/** Calls held until the test answers them. */
const held = () => {
  const pending: Array<{ readonly bytes: number; readonly callback: Callback }> = []
  const io: Io = {
    write: (_fd, buffer, callback) => pending.push({ bytes: buffer.length, callback }),
    writev: (_fd, buffers, callback) => pending.push({ bytes: buffers.reduce((n, b) => n + b.length, 0), callback })
  }
  return { pending, io }
}

const batches = FastCheck.array(
  FastCheck.array(FastCheck.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 8 }),
  { minLength: 1, maxLength: 5 }
)

describe("NodeWriter", () => {
  it.scoped("writes every byte of every batch, in order, one call per batch", () =>
    Effect.gen(function* () {
      const file = yield* tempFile
      const { calls, io } = recording()
      const write = make(file.fd, failed, io)
      const sent: Array<Uint8Array> = []
      for (let i = 0; i < 20; i++) {
        const batch = Array.from({ length: 1 + (i % 5) }, (_, j) => new Uint8Array(1000 + j).fill(i * 7 + j))
        sent.push(...batch)
        yield* write(Chunk.fromIterable(batch))
      }
      assert.deepStrictEqual(file.read(), Buffer.concat(sent))
      // a regular file takes a batch whole: one call each, several buffers in one `writev`
      assert.deepStrictEqual(
        calls,
        Array.from({ length: 20 }, (_, i) => 1 + (i % 5))
      )
    })
  )

  it.effect("a call that writes part of a batch is followed by calls for the rest, whatever the batches", () =>
    Effect.promise(() =>
      FastCheck.assert(
        FastCheck.asyncProperty(batches, FastCheck.integer({ min: 1, max: 200 }), (batches, most) =>
          Effect.runPromise(
            Effect.scoped(
              Effect.gen(function* () {
                const file = yield* tempFile
                const write = make(file.fd, failed, recording(most).io)
                for (const batch of batches) yield* write(Chunk.fromIterable(batch))
                assert.deepStrictEqual(file.read(), Buffer.concat(batches.flat()))
              })
            )
          )
        ),
        { numRuns: 40 }
      )
    )
  )

  it.effect(
    "a failed call fails the batch with its error; one that takes nothing fails instead of looping; one that throws fails typed",
    () =>
      Effect.gen(function* () {
        const full: Io = {
          write: (_fd, _buffer, callback) => callback(Object.assign(new Error("full"), { code: "ENOSPC" }), 0),
          writev: (_fd, _buffers, callback) => callback(Object.assign(new Error("full"), { code: "ENOSPC" }), 0)
        }
        const batch = Chunk.make(new Uint8Array(10), new Uint8Array(5))
        assert.strictEqual(yield* Effect.flip(make(-1, failed, full)(batch)), "failed: ENOSPC")
        let calls = 0
        const nothing: Io = {
          write: (_fd, _buffer, callback) => (calls++, callback(null, 0)),
          writev: (_fd, _buffers, callback) => (calls++, callback(null, 0))
        }
        assert.strictEqual(yield* Effect.flip(make(-1, failed, nothing)(batch)), "failed: EIO")
        assert.strictEqual(calls, 1)
        // a call that throws, the first or one after a part was written: typed, not a defect nor a crash
        let thrown = 0
        const refusing: Io = {
          write: () => {
            throw Object.assign(new Error("bad"), { code: "ERR_INVALID_ARG_TYPE" })
          },
          writev: (_fd, _buffers, callback) =>
            thrown++ === 0 ? callback(null, 3) : refusing.write(-1, batch.pipe(Chunk.unsafeHead), callback)
        }
        assert.strictEqual(
          yield* Effect.flip(make(-1, failed, refusing)(Chunk.make(new Uint8Array(10)))),
          "failed: ERR_INVALID_ARG_TYPE"
        )
        assert.strictEqual(yield* Effect.flip(make(-1, failed, refusing)(batch)), "failed: ERR_INVALID_ARG_TYPE")
      })
  )

  it.effect("interrupted, it waits for the call in flight, then makes no other", () =>
    Effect.gen(function* () {
      const { io, pending } = held()
      const fiber = yield* Effect.fork(make(-1, failed, io)(Chunk.make(new Uint8Array(10), new Uint8Array(20))))
      yield* Effect.yieldNow()
      assert.strictEqual(pending.length, 1)
      const interruption = yield* Effect.fork(Fiber.interrupt(fiber))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      // the thread pool would still run the call: the file must not be closed under it
      assert.isNull(interruption.unsafePoll(), "the interruption ended before the call in flight")
      pending[0]!.callback(null, 10) // part written: the rest is not asked for
      const exit = yield* Fiber.join(interruption)
      assert.isTrue(Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause))
      assert.strictEqual(pending.length, 1)
    })
  )

  it.scoped("lets go of a batch once it is written, even while its effect is kept", () =>
    Effect.gen(function* () {
      const gc = collectGarbage()
      const file = yield* tempFile
      const write = make(file.fd, failed, nodeIo)
      // the buffer is reachable from nothing but the batch handed to the writer
      const handOver = () => {
        const buffer = new Uint8Array(64 * 1024).fill(1)
        return { ref: new WeakRef(buffer), effect: write(Chunk.make(buffer, new Uint8Array(8))) }
      }
      const { effect, ref } = handOver()
      yield* effect
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      gc()
      assert.isDefined(effect) // kept, as a stream may keep it until its next batch
      assert.isUndefined(ref.deref(), "the written buffer is still held")
      assert.strictEqual(file.read().length, 64 * 1024 + 8)
    })
  )
})
