/**
 * @since 0.1.0
 */

/**
 * Deterministic test data: ids and NDJSON export files.
 *
 * @since 0.1.0
 */
export * as Dataset from "./Dataset.js"

/**
 * The emulator of Batch's export API and its storage origin.
 *
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"

/**
 * A forward proxy on 127.0.0.1 for tests: CONNECT tunnels to loopback addresses, recorded (other requests are
 * recorded and refused).
 *
 * @since 0.2.0
 */
export * as ForwardProxy from "./ForwardProxy.js"

/**
 * Helpers for tests that combine the emulator's real sockets with the TestClock.
 *
 * @since 0.1.0
 */
export * as Testing from "./Testing.js"
