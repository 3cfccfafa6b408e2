#!/usr/bin/env node
// Writes src/headers/opensslShortNames.ts, the dotted OID -> OpenSSL short name table, from the
// system OpenSSL:   node scripts/generate-openssl-short-names.mjs [output file]
//
// Two openssl commands, no library bindings:
//  1. `openssl list -objects` names every object (short name, long name, OID). Its OIDs cannot be
//     used as they are: OpenSSL 3.0's list prints an OID one character short when its text is
//     exactly as long as the buffer it kept from a previous row (11 DSTU 4145 OIDs lose their last
//     digit). So only the names are taken from it.
//  2. `openssl asn1parse -genconf` encodes every object by short name. The DER gives each full OID;
//     the parse printed beside it names the object OpenSSL maps that OID back to (OBJ_obj2nid, as
//     HAProxy does before OBJ_nid2sn). That decides OIDs two objects share: 1.3 is both ORG and
//     identified-organization, and OpenSSL prints ORG.
// Rows are sorted by OID arc by arc. Objects do not change within a release series (3.0.x), so the
// header names the series only; the test in test/headers/opensslShortNames.test.ts compares this
// script's output with the file when the system OpenSSL is of the same series.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_OUTPUT = fileURLToPath(new URL('../src/headers/opensslShortNames.ts', import.meta.url));

function openssl(args) {
  return execFileSync('openssl', args, { encoding: 'latin1', timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
}

/** "OpenSSL 3.0.22 25 Aug 2026 ..." -> "3.0" */
function releaseSeries() {
  const m = /^OpenSSL (\d+)\.(\d+)\./.exec(openssl(['version']));
  if (!m) throw new Error('`openssl version` does not start with "OpenSSL X.Y.": not OpenSSL?');
  return `${m[1]}.${m[2]}`;
}

/** Short and long names of every object that has an OID, in OpenSSL's NID order. */
function objectNames() {
  const objects = [];
  for (const line of openssl(['list', '-objects']).split('\n')) {
    if (line === '' || line.startsWith('#')) continue; // "# None-OID object: ..."
    const m = /^(\S+) = (?:(.*), )?[0-9.]+$/.exec(line);
    if (!m) throw new Error(`unexpected line in \`openssl list -objects\`: ${JSON.stringify(line)}`);
    objects.push({ short: m[1], long: m[2] ?? m[1] });
  }
  return objects;
}

/** Dotted text of each OBJECT IDENTIFIER in a DER SEQUENCE of them. */
function oidsOfSequence(der) {
  const length = (at) => {
    const first = der[at];
    if (first < 0x80) return { len: first, next: at + 1 };
    let len = 0;
    for (let i = 1; i <= (first & 0x7f); i++) len = len * 256 + der[at + i];
    return { len, next: at + 1 + (first & 0x7f) };
  };
  if (der[0] !== 0x30) throw new Error('asn1parse did not write a SEQUENCE');
  const outer = length(1);
  const oids = [];
  for (let p = outer.next; p < outer.next + outer.len; ) {
    if (der[p] !== 0x06) throw new Error(`expected an OBJECT IDENTIFIER at byte ${p}`);
    const { len, next } = length(p + 1);
    const arcs = [];
    let arc = 0n;
    for (let i = next; i < next + len; i++) {
      arc = (arc << 7n) | BigInt(der[i] & 0x7f);
      if ((der[i] & 0x80) === 0) {
        if (arcs.length === 0) {
          const top = arc < 40n ? 0n : arc < 80n ? 1n : 2n;
          arcs.push(top, arc - top * 40n);
        } else arcs.push(arc);
        arc = 0n;
      }
    }
    oids.push(arcs.join('.'));
    p = next + len;
  }
  return oids;
}

/** For each object: its full OID and the long name OpenSSL prints for that OID. */
function encodeAll(objects) {
  const dir = mkdtempSync(join(tmpdir(), 'openssl-objects-'));
  try {
    const conf = join(dir, 'objects.cnf');
    const der = join(dir, 'objects.der');
    const items = objects.map((o, i) => `o${i} = OID:${o.short}`);
    writeFileSync(conf, `asn1 = SEQUENCE:objects\n[objects]\n${items.join('\n')}\n`);
    const parsed = openssl(['asn1parse', '-genconf', conf, '-out', der]);
    // "    5:d=1  hl=2 l=   3 prim: OBJECT            :commonName"
    const printed = [...parsed.matchAll(/ prim: OBJECT +:(.*)$/gm)].map((m) => m[1]);
    const oids = oidsOfSequence(readFileSync(der));
    if (printed.length !== objects.length || oids.length !== objects.length) {
      throw new Error(`asn1parse gave ${oids.length} OIDs and ${printed.length} names for ${objects.length} objects`);
    }
    return oids.map((oid, i) => ({ oid, printedLong: printed[i] }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function compareOids(a, b) {
  const x = a.split('.').map(BigInt);
  const y = b.split('.').map(BigInt);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

export function generate() {
  const series = releaseSeries();
  const objects = objectNames();
  const shortByLong = new Map(objects.map((o) => [o.long, o.short]));
  const rows = new Map();
  for (const { oid, printedLong } of encodeAll(objects)) {
    const short = shortByLong.get(printedLong);
    if (short === undefined) throw new Error(`asn1parse printed "${printedLong}" for ${oid}, which \`openssl list -objects\` does not name`);
    rows.set(oid, short);
  }
  const body = [...rows.keys()].sort(compareOids).map((oid) => `${oid} ${rows.get(oid)}\n`).join('');
  return `// GENERATED by scripts/generate-openssl-short-names.mjs from the system OpenSSL ${series} (\`openssl
// list -objects\` for the names, \`openssl asn1parse -genconf\` for each full OID and for the object
// OpenSSL maps it back to): dotted OID -> OpenSSL short name. Do not edit; regenerate with
//   node scripts/generate-openssl-short-names.mjs
// HAProxy's oneline DN prints OBJ_nid2sn() for every OID OpenSSL knows, not only attribute types,
// so the whole table is here; OIDs not listed are printed dotted. src/pki/dn.ts reads it too.
//
// One string inside a function rather than an object of ${rows.size.toLocaleString('en-US')} properties: V8 creates the string
// only when the function first runs (at the first DN attribute read, usually the first
// certificate), and one string takes less heap than an object with ${rows.size.toLocaleString('en-US')} properties. A process
// that never reads a certificate pays only for this file's source text.

/** The table, one "OID SHORT-NAME" line per object, between newlines. */
function table(): string {
  return \`
${body}\`;
}

let lines: string | null = null;
/** Found names, memoised: at most one entry per line of the table, so bounded. */
const found = new Map<string, string>();

/** OpenSSL's short name for a dotted OID, or undefined when OpenSSL does not know it. */
export function openSslShortName(dotted: string): string | undefined {
  const memo = found.get(dotted);
  if (memo !== undefined) return memo;
  lines ??= table();
  const key = \`\\n\${dotted} \`;
  const at = lines.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const name = lines.slice(start, lines.indexOf('\\n', start));
  found.set(dotted, name);
  return name;
}
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const output = process.argv[2] ?? DEFAULT_OUTPUT;
  writeFileSync(output, generate());
  console.log(`wrote ${output}`);
}
