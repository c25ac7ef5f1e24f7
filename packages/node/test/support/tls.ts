/**
 * A TLS identity for an https origin on 127.0.0.1 in tests: a self-signed certificate (valid until 2126) and its
 * key. Test fixtures, trusted by nothing but the tests that pass the certificate as a CA.
 */
export const identity = {
  cert: `-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUekZppQO9eXphlNj0UCRrkabZCtIwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwNzE0MTM1M1oYDzIxMjYxMTEz
MTQxMzUzWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATE/qkeGBCVsmQBJdl+XVSN/jr7zXWAGNIhXYEaT6F34d7UBhgiBJyS
OI0ukIm/6GCxJChUJx2ZmMhpYZV+ffzVo28wbTAdBgNVHQ4EFgQUFh2mamSV8Khn
FIpIfgccAs502lwwHwYDVR0jBBgwFoAUFh2mamSV8KhnFIpIfgccAs502lwwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDRwAwRAIgFDMKayQWAqxcfj6qN5lfdry9K69NoW66wdaakxFOqe0CIHft
fODXYAP/8vVyh8YzboelcMGEOO1ZQZGlahyfmiRj
-----END CERTIFICATE-----
`,
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYpKAypqNno/bK23L
u2q0S0ndCJk9k98wE+nfIPsLEhuhRANCAATE/qkeGBCVsmQBJdl+XVSN/jr7zXWA
GNIhXYEaT6F34d7UBhgiBJySOI0ukIm/6GCxJChUJx2ZmMhpYZV+ffzV
-----END PRIVATE KEY-----
`
} as const
