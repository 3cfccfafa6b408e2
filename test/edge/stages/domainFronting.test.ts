// Table: the domain-fronting check as HAProxy's `ssl_fc_sni,lower,strcmp(hdr(host),host_only)`
// answers (checked against HAProxy 2.6 by hand and in test/parity/pipelineParity.test.ts).
import { expect } from 'chai';
import { domainFronting, type DomainFrontingSetting } from '../../../src/edge/stages/domainFronting.js';
import { stageContext } from './stageContext.js';

const TABLE: readonly { host: string | null; sni: string | null; setting?: DomainFrontingSetting; certUsed?: boolean; status: number | null }[] = [
  { host: 'www.localhost', sni: 'www.localhost', status: null },
  { host: 'WWW.LocalHost:443', sni: 'www.localhost', status: null },
  { host: 'www.localhost', sni: 'WWW.LOCALHOST', status: null },
  { host: 'www.localhost.', sni: 'www.localhost', status: 421 },
  { host: 'www.localhost.', sni: 'www.localhost.', status: null },
  { host: 'www.localhost:', sni: 'www.localhost', status: null },
  { host: 'www.localhost:443:1', sni: 'www.localhost', status: 421 },
  { host: '[::1]:443', sni: 'www.localhost', status: 421 },
  { host: 'api.localhost', sni: 'www.localhost', status: 421 },
  { host: 'api.localhost', sni: null, status: null },
  // An empty Host names no server; only a missing one is "missing".
  { host: '', sni: 'www.localhost', status: 421 },
  { host: ':443', sni: 'www.localhost', status: 421 },
  { host: null, sni: 'www.localhost', status: 400 },
  { host: 'api.localhost', sni: 'www.localhost', setting: 'mtls_only', certUsed: false, status: null },
  { host: 'api.localhost', sni: 'www.localhost', setting: 'mtls_only', certUsed: true, status: 421 },
  { host: 'api.localhost', sni: 'www.localhost', setting: false, status: null },
];

describe('stage domainFronting (table)', () => {
  for (const row of TABLE) {
    const setting = row.setting ?? true;
    it(`Host ${row.host === null ? '(none)' : JSON.stringify(row.host)}, SNI ${row.sni ?? '(none)'}, ${String(setting)}${row.certUsed ? ', certificate' : ''} → ${row.status ?? 'passes'}`, () => {
      const { ctx, answer } = stageContext({ headers: row.host === null ? [] : ['Host', row.host], conn: { sni: row.sni, certUsed: row.certUsed ?? false } });
      expect(domainFronting(setting)(ctx)).to.equal(row.status === null);
      expect(answer.status).to.equal(row.status);
    });
  }
});
