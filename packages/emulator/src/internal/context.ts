/**
 * Everything the request handlers of both origins share.
 *
 * @internal
 */
import type { Options } from "../Emulator.js"
import type { Control } from "./control.js"
import type { Store } from "./store.js"

/** @internal */
export interface EmulatorContext {
  readonly store: Store
  readonly control: Control
  readonly restApiKey: string
  readonly projectKey: string
  readonly apiUrl: string
  readonly storageUrl: string
  /** HMAC key of the signed links */
  readonly secret: string
  readonly linkTtlSeconds: number
  readonly storageRejectsAuthorization: boolean
  /** `Options.location`: where `/exports/download` sends the client instead of the storage origin */
  readonly location: Options["location"]
}
