// The names the dev server certificate is valid for: one list, used by the generator, the PKI's
// README.txt and the tests that check every host name the docs use against it.
// OpenSSL (and so curl) matches no wildcard over a single label: `*.localhost` does not cover
// app.localhost. Every one-label host name the docs and docker-compose.yml use is therefore listed
// by name; `*.localhost` stays for clients that do match it, `*.cert.localhost` is matched by all.
export const SERVER_SANS = [
  'DNS:localhost', 'IP:127.0.0.1', 'IP:::1',
  'DNS:app.localhost', 'DNS:echo.localhost', 'DNS:api.localhost', 'DNS:www.localhost', 'DNS:kyma.localhost',
  'DNS:*.localhost', 'DNS:*.cert.localhost',
] as const;

/** The SAN list as the PKI's README and docs/certs.md print it. */
export const serverSanText = (): string => SERVER_SANS.map((s) => s.replace(/^(DNS|IP):/, '')).join(', ');
