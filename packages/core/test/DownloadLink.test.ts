import { DownloadLink, Ids, Redaction } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Inspectable from "effect/Inspectable"
import * as Redacted from "effect/Redacted"
const fileId = Ids.FileId.make("file_etxhwckcfc05egew7y97bdjtc75p7g8b")
const issuedAt = DateTime.unsafeMake("2026-11-29T12:00:00Z")
const api = new URL("https://api.batch.com/2.10/exports/download?id=" + fileId)
const from = (location: string | undefined, requestUrl = api) =>
  DownloadLink.fromLocation({ fileId, status: 307, location, requestUrl, issuedAt })

describe("DownloadLink", () => {
  it("expires 20 minutes after it was issued", () => {
    const link = Either.getOrThrow(from("https://storage.example/f?sig=abc"))
    assert.strictEqual(DateTime.formatIso(link.expiresAt), "2026-11-29T12:20:00.000Z")
    assert.isFalse(link.isExpired(DateTime.unsafeMake("2026-11-29T12:19:59Z")))
    assert.isTrue(link.isExpired(DateTime.unsafeMake("2026-11-29T12:20:00Z")))
    assert.isTrue(link.isExpired(DateTime.unsafeMake("2026-11-29T12:19:00Z"), "1 minute"))
  })

  it("resolves a relative Location against the API URL", () => {
    const link = Either.getOrThrow(from("/signed/file?sig=1"))
    assert.strictEqual(Redacted.value(link.url).href, "https://api.batch.com/signed/file?sig=1")
  })

  it("refuses a missing, malformed, non-http or downgraded Location, or one with credentials", () => {
    const reason = (location: string | undefined, requestUrl?: URL) =>
      Either.match(from(location, requestUrl), { onLeft: (e) => e.reason, onRight: () => "ok" })
    assert.strictEqual(reason(undefined), "missing")
    assert.strictEqual(reason("   "), "missing")
    assert.strictEqual(reason("http://[::1"), "malformed")
    assert.strictEqual(reason("ftp://storage.example/f"), "unsupported-scheme")
    assert.strictEqual(reason("javascript:alert(1)"), "unsupported-scheme")
    assert.strictEqual(reason("file:///etc/passwd"), "unsupported-scheme")
    assert.strictEqual(reason("http://storage.example/f"), "insecure-downgrade")
    assert.strictEqual(reason("https://user:pass@storage.example/f"), "credentials")
    assert.strictEqual(reason("https://user@storage.example/f"), "credentials")
    assert.strictEqual(reason("https://:pass@storage.example/f"), "credentials")
    assert.strictEqual(reason("http://127.0.0.1:9/f", new URL("http://127.0.0.1:8/2.10/exports/download")), "ok")
  })

  it("never shows the signed URL in String, JSON or inspection", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.stringMatching(/^[A-Za-z0-9]{8,32}$/), (secret) => {
        const link = Either.getOrThrow(from(`https://storage.example/${secret}/f?X-Signature=${secret}`))
        const shown = [String(link), JSON.stringify(link), Inspectable.format(link), JSON.stringify({ link })]
        return shown.every((text) => !text.includes(secret))
      })
    )
  })
})

describe("Redaction", () => {
  it("keeps only the origin of a URL", () => {
    assert.strictEqual(Redaction.safeOrigin("https://s.example:8443/a/b?sig=1"), "https://s.example:8443")
    assert.strictEqual(Redaction.safeOrigin("not a url"), "<invalid url>")
  })

  it("scrubs URLs and bearer tokens out of free text", () => {
    const text = "fetch failed (GET https://s.example/p/secretpath?sig=topsecret) with Bearer abc.def"
    const scrubbed = Redaction.scrub(text)
    for (const secret of ["secretpath", "topsecret", "abc.def"]) assert.notInclude(scrubbed, secret)
    assert.include(scrubbed, "https://s.example")
  })

  it("masks a secret wherever it stands: inside a word, percent-encoded, in another case", () => {
    const key = "sk_live/Key+42=Secret"
    const echoed = [
      `key=${key};`,
      `prefix${key}suffix`,
      `Bearer ${key}`,
      encodeURIComponent(key),
      encodeURIComponent(key).toLowerCase(),
      key.toUpperCase()
    ].join(" ")
    const masked = Redaction.mask(echoed, [key])
    assert.strictEqual(
      masked,
      "key=<redacted>; prefix<redacted>suffix Bearer <redacted> <redacted> <redacted> <redacted>"
    )
    // too short to search for: it would mask ordinary words
    assert.strictEqual(Redaction.mask("a bcd", ["bcd"]), "a bcd")
  })

  it("scrub with secrets: no echo of the key survives, with or without URLs around it", () => {
    // (a key that is part of "<redacted>" itself would be found in the mask)
    const secret = FastCheck.stringMatching(/^[\x21-\x7e]{4,40}$/).filter(
      (k) => !"<redacted>".includes(k.toLowerCase())
    )
    FastCheck.assert(
      FastCheck.property(secret, FastCheck.array(FastCheck.string(), { maxLength: 4 }), (key, around) => {
        const forms = [key, encodeURIComponent(key), `https://s.example/x?k=${encodeURIComponent(key)}&sig=1`]
        const text = around.flatMap((piece, i) => [piece, forms[i % forms.length]!]).join(" ") + ` ${key}`
        const out = Redaction.scrub(text, [key]).toLowerCase()
        return !out.includes(key.toLowerCase()) && !out.includes(encodeURIComponent(key).toLowerCase())
      })
    )
  })
})
