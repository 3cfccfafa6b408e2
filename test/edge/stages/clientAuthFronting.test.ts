// Table: which TLS configuration a connection may reach another configuration's Host from.
import { expect } from 'chai';
import { clientAuthCovers } from '../../../src/edge/stages/clientAuthFronting.js';
import type { TlsProfile } from '../../../src/tls/tlsProfiles.js';

function profile(clientAuth: 'disabled' | 'optional' | 'required', trust = 'A', ignore: 'all' | number[] = []): TlsProfile {
  return { resolved: { clientAuth, trustPem: Buffer.from(trust), crlPem: [], ignore: ignore === 'all' ? 'all' : new Set(ignore) } } as unknown as TlsProfile;
}

const same = profile('required');
const TABLE: readonly { name: string; conn: TlsProfile; target: TlsProfile; ok: boolean }[] = [
  { name: 'same configuration', conn: same, target: same, ok: true },
  { name: 'disabled → required (the bypass)', conn: profile('disabled'), target: profile('required'), ok: false },
  { name: 'disabled → optional', conn: profile('disabled'), target: profile('optional'), ok: false },
  { name: 'optional → required, same trust', conn: profile('optional'), target: profile('required'), ok: false },
  { name: 'required → optional, same trust', conn: profile('required'), target: profile('optional'), ok: true },
  { name: 'required → required, other trust list', conn: profile('required', 'A'), target: profile('required', 'B'), ok: false },
  { name: 'required → required, wider ignore list on the connection', conn: profile('required', 'A', 'all'), target: profile('required', 'A'), ok: false },
  { name: 'anything → disabled', conn: profile('required', 'B'), target: profile('disabled'), ok: true },
];

describe('stage clientAuthFronting (table)', () => {
  for (const row of TABLE) {
    it(`${row.name} → ${row.ok ? 'forwarded' : '421'}`, () => {
      expect(clientAuthCovers(row.conn, row.target)).to.equal(row.ok);
    });
  }
});
