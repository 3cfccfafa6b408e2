// The short-name table is generated, and the PKI's readable DN names come from the same table.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { openSslShortName } from '../../src/headers/opensslShortNames.js';
import { parseName } from '../../src/pki/dn.js';

const GENERATOR = fileURLToPath(new URL('../../../scripts/generate-openssl-short-names.mjs', import.meta.url));
const TABLE_SOURCE = fileURLToPath(new URL('../../../src/headers/opensslShortNames.ts', import.meta.url));

/** "3.0" for the system openssl, or null when there is none. */
function systemOpenSslSeries(): string | null {
  const found = spawnSync('openssl', ['version'], { encoding: 'latin1', timeout: 10_000 });
  if (found.error || found.status !== 0) return null;
  return /^OpenSSL (\d+\.\d+)\./.exec(found.stdout)?.[1] ?? null;
}

/** The rows of the committed table, as [OID, short name]. */
function committedRows(): Array<[string, string]> {
  const body = /return `\n([\s\S]*?)`;/.exec(readFileSync(TABLE_SOURCE, 'utf8'))?.[1] ?? '';
  return body.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
}

describe('OpenSSL short-name table', () => {
  it('is exactly what scripts/generate-openssl-short-names.mjs writes from the system OpenSSL', function () {
    const series = systemOpenSslSeries();
    if (series === null) {
      console.log('      skipped: no `openssl` on PATH; the generator needs it');
      this.skip();
    }
    const committed = readFileSync(TABLE_SOURCE, 'utf8');
    const committedSeries = /from the system OpenSSL (\d+\.\d+)/.exec(committed)?.[1];
    if (committedSeries !== series) {
      console.log(`      skipped: the table is from OpenSSL ${committedSeries}, the system has ${series}; regenerate with node scripts/generate-openssl-short-names.mjs`);
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-short-names-'));
    try {
      const out = join(dir, 'opensslShortNames.ts');
      execFileSync(process.execPath, [GENERATOR, out], { timeout: 60_000, stdio: ['ignore', 'ignore', 'pipe'] });
      const generated = readFileSync(out, 'utf8');
      expect(generated === committed, 'src/headers/opensslShortNames.ts differs from the generator output: run node scripts/generate-openssl-short-names.mjs').to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has one row per OID, and the lookup finds every row', () => {
    const rows = committedRows();
    expect(rows.length).to.be.greaterThan(1000);
    expect(new Set(rows.map(([oid]) => oid)).size).to.equal(rows.length);
    for (const [oid, name] of rows) expect(openSslShortName(oid), oid).to.equal(name);
    expect(openSslShortName('1.3')).to.equal('ORG'); // shared with identified-organization; OpenSSL prints ORG
    expect(openSslShortName('1.2.3.4.5.6.7')).to.equal(undefined);
  });

  it("gives src/pki/dn.ts its names (every row, and the dotted OID for one OpenSSL does not know)", () => {
    const rows = committedRows();
    const unknown = '1.3.6.1.4.1.99999.1';
    const oids = [...rows.map(([oid]) => oid), unknown];
    const name = new Name(
      oids.map(
        (oid) =>
          new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value: new AttributeValue({ utf8String: 'v' }) })]),
      ),
    );
    const names = parseName(name).map((rdn) => rdn[0]!.name);
    expect(names).to.deep.equal([...rows.map(([, short]) => short), unknown]);
  });
});
