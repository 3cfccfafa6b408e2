// Table: the measured limits of HAProxy's buffer for a head grown by the set-header rules. Each row is
// a request measured against HAProxy 3.2 (tune.bufsize 16,384): the ten headers of a 11,000-byte DER
// leaf (X-Forwarded-Client-Cert 14,668 bytes) and an X-Pad header grown byte by byte; the largest pad
// still answered 200, and one byte more 500 (2.6 gives the same sums without X-SSL-Client-Root-CA-DN).
import { expect } from 'chai';
import { rewriteBudget } from '../../../src/edge/stages/rewriteBudget.js';
import { stageContext } from './stageContext.js';

/** The ten headers with the measured value lengths (X-Forwarded-Client-Cert of an 11,000-byte leaf). */
function tenHeaders(withRootDn: boolean): string[] {
  const v = (n: number): string => 'A'.repeat(n);
  const out = ['X-Forwarded-Client-Cert', v(14668), 'X-SSL-Client', '1', 'X-SSL-Client-Session-ID', v(64), 'X-SSL-Client-Verify', '0', 'X-SSL-Client-NotBefore', v(13), 'X-SSL-Client-NotAfter', v(13), 'X-SSL-Client-Subject-DN', v(20), 'X-SSL-Client-Subject-CN', v(16), 'X-SSL-Client-Issuer-DN', v(72)];
  return withRootDn ? [...out, 'X-SSL-Client-Root-CA-DN', v(64)] : out;
}

const ROUTE_SERVICE_URL = '/echo/' + 'a'.repeat(39);
const TABLE: readonly { name: string; url: string; extra: string[]; withRootDn: boolean; pad: number; status: 200 | 500 }[] = [
  { name: '3.2, largest pad answered', url: '/echo', extra: [], withRootDn: true, pad: 964, status: 200 },
  { name: '3.2, one byte more: 500', url: '/echo', extra: [], withRootDn: true, pad: 965, status: 500 },
  { name: '2.6 (no Root-CA-DN line), largest pad answered', url: '/echo', extra: [], withRootDn: false, pad: 1059, status: 200 },
  { name: '2.6, one byte more: 500', url: '/echo', extra: [], withRootDn: false, pad: 1060, status: 500 },
  // forward_only_if_route_service with the signature, a longer target and the client's own X-Forwarded-Proto (not added again).
  { name: 'route service, client X-Forwarded-Proto, longer target: largest pad', url: ROUTE_SERVICE_URL, extra: ['X-Forwarded-Proto', 'ftp', 'X-Cf-Proxy-Signature', 's'], withRootDn: true, pad: 897, status: 200 },
  { name: 'route service, one byte more: 500', url: ROUTE_SERVICE_URL, extra: ['X-Forwarded-Proto', 'ftp', 'X-Cf-Proxy-Signature', 's'], withRootDn: true, pad: 898, status: 500 },
];

describe('stage rewriteBudget (table, measured with HAProxy 2.6 and 3.2)', () => {
  for (const row of TABLE) {
    it(row.name, () => {
      // The edge's list at this stage: hop-by-hop headers (Connection) are already gone, as in HAProxy's HTX.
      const headers = ['Host', 'localhost', ...row.extra, 'X-Pad', 'a'.repeat(row.pad), ...tenHeaders(row.withRootDn)];
      const { ctx, answer } = stageContext({ headers, url: row.url });
      const passed = rewriteBudget(16384)(ctx);
      expect(passed ? 200 : answer.status).to.equal(row.status);
    });
  }
});
