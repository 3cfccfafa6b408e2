// The names of the files `mtls-edge export` writes, declared once: the writers (src/export/*) can
// only name files by these patterns (ExportFile.name), and `export --force` removes a file an
// earlier export listed in its manifest only when the name is one of them (src/cli/export.ts), so a
// copied or hand-edited manifest naming a Makefile or .env never deletes it.

/** Written once per export. */
const SINGLE = ['haproxy.cfg', 'crt-list', 'nginx.conf', 'proxy.inc'] as const;
/** Written per TLS configuration or route N, as KIND-N.pem. */
const PER_INDEX = ['cert', 'key', 'ca-file', 'crl-file', 'backend-ca', 'backend-crt'] as const;

export type ExportName = (typeof SINGLE)[number] | `${(typeof PER_INDEX)[number]}-${number}.pem`;

/** KIND-N.pem for TLS configuration or route N. */
export const exportName = (kind: (typeof PER_INDEX)[number], n: number): ExportName => `${kind}-${n}.pem`;

const NAME = new RegExp(`^(?:${SINGLE.map((s) => s.replace(/\./g, '\\.')).join('|')}|(?:${PER_INDEX.join('|')})-(?:0|[1-9][0-9]{0,5})\\.pem)$`);

/** Whether an export could have written a file of this name (one name, never a path). */
export const isExportName = (name: string): name is ExportName => NAME.test(name);
