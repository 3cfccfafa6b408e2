// Each dialect's mode table (src/headers/dialects/*.ts) against the table docs/dialects.md
// shows, read from the doc itself: the documented table is the test.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { modeActions, type DialectRow, type HeaderAction } from '../../../src/headers/dialects/dialectTable.js';
import { ENVOY_MODES, ENVOY_MODE_TABLE } from '../../../src/headers/dialects/envoy.js';
import { RFC9440_MODES, RFC9440_MODE_TABLE } from '../../../src/headers/dialects/rfc9440.js';
import { NGINX_MODES, NGINX_MODE_TABLE } from '../../../src/headers/dialects/nginx.js';
import { TRAEFIK_MODES, TRAEFIK_MODE_TABLE } from '../../../src/headers/dialects/traefik.js';

const DOC = readFileSync(new URL('../../../../docs/dialects.md', import.meta.url), 'utf8');

/** The rows of the first table after a heading of docs/dialects.md, as the doc words them. */
function docTable(heading: string): string[][] {
  const at = DOC.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`docs/dialects.md has no heading ${heading}`);
  const lines = DOC.slice(at).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const table: string[][] = [];
  for (const l of lines.slice(first + 2)) {
    if (!l.startsWith('|')) break;
    table.push(l.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return table;
}

const CERT: Record<string, DialectRow<string>['cert']> = { any: 'any', 'not used': 'none', used: 'used' };

/** "removed" / "passed as sent" / "kept" and "none" / "appended: …" / anything else set. */
function action(client: string, set: string): HeaderAction {
  if (set.startsWith('appended')) return 'append';
  if (set !== 'none') return 'set';
  return client === 'removed' ? 'remove' : 'keep';
}

function rows(heading: string): DialectRow<string>[] {
  return docTable(heading).map(([mode, cert, client, set]) => ({
    mode: mode!.replace(/`/g, '').replace(/\s*\(.*\)$/, ''),
    cert: CERT[cert!]!,
    action: action(client!, set!),
  }));
}

const DIALECTS: [string, readonly DialectRow<string>[], readonly string[], string][] = [
  ['envoy', ENVOY_MODE_TABLE, ENVOY_MODES, '## envoy'],
  ['rfc9440', RFC9440_MODE_TABLE, RFC9440_MODES, '## rfc9440'],
  ['nginx', NGINX_MODE_TABLE, NGINX_MODES, '## nginx'],
  ['traefik', TRAEFIK_MODE_TABLE, TRAEFIK_MODES, '## traefik'],
];

describe('headers/dialects: mode tables', () => {
  for (const [name, table, modes, doc] of DIALECTS) {
    it(`${name}: the table is the documented one, row for row`, () => {
      expect(table.map((r) => ({ ...r }))).to.deep.equal(rows(doc));
      expect(table.length).to.be.greaterThan(0);
    });
    it(`${name}: every mode has exactly one action with and without a certificate, and the table lists no other mode`, () => {
      for (const mode of modes) {
        const a = modeActions(table, mode);
        expect(Object.isFrozen(a)).to.equal(true);
      }
      expect([...new Set(table.map((r) => r.mode))]).to.deep.equal([...modes]);
    });
  }

  it('modeActions refuses a mode without rows', () => {
    expect(() => modeActions(ENVOY_MODE_TABLE, 'nope' as never)).to.throw(/0 rows for nope/);
  });
});
