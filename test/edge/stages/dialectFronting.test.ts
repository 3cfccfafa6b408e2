// Table: a request on a connection of one header dialect for a Host whose TLS configuration speaks
// another gets 421 (the app would get the client's own copies of its headers); same dialect passes.
import { expect } from 'chai';
import { dialectFronting } from '../../../src/edge/stages/dialectFronting.js';
import type { ConnectionState } from '../../../src/edge/connectionState.js';
import type { DialectName, DialectWriter } from '../../../src/headers/dialects/dialects.js';
import { hostMatcher } from '../../../src/tls/hostPattern.js';
import type { TlsProfile, TlsProfileSet } from '../../../src/tls/tlsProfiles.js';
import { stageContext } from './stageContext.js';

function profile(name: string, hosts: string[], dialect?: DialectName): TlsProfile {
  return { resolved: { name, hosts, dialect }, matchers: hosts.map(hostMatcher) } as unknown as TlsProfile;
}

// The README's Kyma example: an envoy configuration for kyma.localhost beside a cf one for the rest.
const SET: TlsProfileSet = { strictSni: false, profiles: [profile('kyma-app', ['kyma.localhost'], 'envoy'), profile('api', ['api.localhost'], 'rfc9440'), profile('cf-app', ['*'])] };

const TABLE: readonly { name: string; conn: DialectName; host: string; defaultDialect?: DialectName; status: number | null }[] = [
  { name: 'envoy connection, Host of the envoy configuration', conn: 'envoy', host: 'kyma.localhost', status: null },
  { name: 'envoy connection, Host of the cf configuration', conn: 'envoy', host: 'app.localhost', status: 421 },
  { name: 'cf connection, Host of the rfc9440 configuration', conn: 'cf', host: 'api.localhost', status: 421 },
  { name: 'cf connection, Host of the cf configuration', conn: 'cf', host: 'app.localhost', status: null },
  { name: 'rfc9440 connection, Host of the envoy configuration', conn: 'rfc9440', host: 'kyma.localhost', status: 421 },
  { name: 'the top-level dialect for a configuration without its own (nginx), nginx connection', conn: 'nginx', host: 'app.localhost', defaultDialect: 'nginx', status: null },
  { name: 'the top-level dialect (nginx), cf connection', conn: 'cf', host: 'app.localhost', defaultDialect: 'nginx', status: 421 },
];

describe('stage dialectFronting (table)', () => {
  for (const row of TABLE) {
    it(`${row.name} → ${row.status ?? 'forwarded'}`, () => {
      const conn = { dialect: row.conn === 'cf' ? null : ({ dialect: row.conn } as DialectWriter), tlsConfig: 'x', sni: null } as Partial<ConnectionState>;
      const { ctx, answer } = stageContext({ headers: ['Host', row.host], conn });
      const goOn = dialectFronting(() => SET, row.defaultDialect ?? 'cf')(ctx);
      expect(goOn).to.equal(row.status === null);
      expect(answer.status).to.equal(row.status);
    });
  }

  it('a plain-HTTP request (no connection state) is not checked', () => {
    const { ctx, answer } = stageContext({ headers: ['Host', 'api.localhost'], listener: 'http', conn: null });
    expect(dialectFronting(() => SET, 'cf')(ctx)).to.equal(true);
    expect(answer.status).to.equal(null);
  });
});
