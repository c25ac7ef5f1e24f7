#!/usr/bin/env node
/**
 * The `batch-export` executable: runs `Cli.run(process.argv)` on Node and exits with its code. Failures are
 * already reported as one line by `Cli.run`, so the runtime's own error report (a structured dump) is off.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { Teardown } from "@effect/platform/Runtime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cli from "./Cli.js"
import * as Failure from "./Failure.js"

/** Exits with the code `Cli.run` returned (130 after Ctrl-C). */
const teardown: Teardown = (exit, onExit) =>
  onExit(Exit.isSuccess(exit) ? (typeof exit.value === "number" ? exit.value : 0) : Failure.exitCodeOf(exit.cause))

Cli.run(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  Effect.catchAllCause(Failure.report),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown
  })
)
