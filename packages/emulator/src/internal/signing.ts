/**
 * Signed storage links: `expires` (unix seconds) and `signature` = hex HMAC-SHA256(secret, fileId + ":" + expires).
 *
 * @internal
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** @internal */
export const sign = (secret: string, fileId: string, expires: number): string =>
  createHmac("sha256", secret).update(`${fileId}:${expires}`).digest("hex")

/** @internal */
export const verify = (secret: string, fileId: string, expires: string, signature: string): boolean => {
  if (!/^\d{1,15}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return false
  const expected = Buffer.from(sign(secret, fileId, Number(expires)), "hex")
  return timingSafeEqual(expected, Buffer.from(signature, "hex"))
}
