// Table: a CONNECT's target and Host as HAProxy's parser takes them (measured with 2.6 and 3.2 on
// loopback; test/parity/connectMethod.test.ts compares the edge with both).
import { expect } from 'chai';
import { connectTarget } from '../../../src/edge/stages/connectTarget.js';
import { pairs, stageContext } from './stageContext.js';

/** `host`: the Host the app gets (undefined: none sent); null status: passes. */
const TABLE: readonly { url: string; host: string | null; status: number | null; forwarded?: string }[] = [
  { url: 'a.example:443', host: 'a.example:443', status: null, forwarded: 'a.example' },
  { url: 'a.example:80', host: 'a.example:80', status: null, forwarded: 'a.example' },
  { url: 'a.example:443', host: 'a.example', status: null, forwarded: 'a.example' },
  { url: 'a.example:80', host: 'a.example', status: null, forwarded: 'a.example' },
  { url: 'a.example:443', host: 'A.Example:443', status: null, forwarded: 'A.Example' },
  { url: 'a.example:8443', host: 'a.example:8443', status: null, forwarded: 'a.example:8443' },
  { url: 'a.example:0443', host: 'a.example:0443', status: null, forwarded: 'a.example:0443' },
  { url: 'a.example:443', host: 'a.example:', status: null, forwarded: 'a.example:' },
  { url: 'u@a.example:443', host: 'a.example:443', status: null, forwarded: 'a.example' },
  { url: 'a.example:443/x', host: 'a.example:443', status: null, forwarded: 'a.example' },
  { url: '[::1]:443', host: '[::1]:443', status: null, forwarded: '[::1]' },
  { url: 'a.example:443', host: null, status: null },
  { url: 'a.example:443', host: 'b.example:443', status: 400 },
  { url: 'a.example:443', host: 'b.example', status: 400 },
  { url: 'a.example:443', host: 'a.example:444', status: 400 },
  { url: 'a.example:8443', host: 'a.example', status: 400 },
  { url: 'a.example:443', host: 'a.example:0443', status: 400 },
  { url: 'a.example', host: 'a.example', status: 400 },
  { url: 'a.example:', host: 'a.example', status: 400 },
  { url: 'a.example:https', host: 'a.example', status: 400 },
  { url: '443', host: null, status: 400 },
  { url: '/a', host: 'a.example', status: 400 },
  { url: '*', host: 'a.example', status: 400 },
  { url: 'http://a.example:443/', host: 'a.example:443', status: 400 },
];

describe('stage connectTarget (table)', () => {
  for (const row of TABLE) {
    it(`CONNECT ${row.url} with Host ${row.host ?? '(none)'} → ${row.status ?? 'passes'}`, () => {
      const { ctx, answer } = stageContext({ headers: row.host === null ? [] : ['Host', row.host], url: row.url });
      expect(connectTarget()(ctx)).to.equal(row.status === null);
      expect(answer.status).to.equal(row.status);
      if (row.forwarded !== undefined) expect(pairs(ctx.headers)).to.deep.equal([['Host', row.forwarded]]);
    });
  }

  it('a CONNECT has no body: Content-Length and Transfer-Encoding do not reach the app', () => {
    const { ctx } = stageContext({ headers: ['Host', 'a.example:443', 'Content-Length', '5', 'X-Other', '1', 'Transfer-Encoding', 'chunked'], url: 'a.example:443' });
    expect(connectTarget()(ctx)).to.equal(true);
    expect(pairs(ctx.headers)).to.deep.equal([['Host', 'a.example'], ['X-Other', '1']]);
  });
});
