// Table: absolute-form targets must name the Host (HAProxy answers 400 otherwise).
import { expect } from 'chai';
import { absoluteForm, targetAuthority } from '../../../src/edge/stages/absoluteForm.js';
import { stageContext } from './stageContext.js';

/** `url` after the stage: the origin-form the routes and the upstream see. */
const TABLE: readonly { url: string; host: string | null; status: number | null; forwarded?: string }[] = [
  { url: '/path', host: 'a.example', status: null, forwarded: '/path' },
  { url: 'http://a.example/x', host: 'a.example', status: null, forwarded: '/x' },
  { url: 'HTTP://A.example/x', host: 'a.EXAMPLE', status: null, forwarded: '/x' },
  { url: 'http://a.example:8080/x?q', host: 'a.example:8080', status: null, forwarded: '/x?q' },
  { url: 'http://a.example', host: 'a.example', status: null, forwarded: '/' },
  // A query straight after the authority, a fragment anywhere, asterisk-form: 400 from HAProxy 3.2 too.
  { url: 'https://a.example?q=1', host: 'a.example', status: 400 },
  { url: '/app#frag', host: 'a.example', status: 400 },
  { url: 'http://a.example/x#f', host: 'a.example', status: 400 },
  { url: 'ftp://a.example/x', host: 'a.example', status: 400 },
  { url: 'ws://a.example/x', host: 'a.example', status: 400 },
  { url: 'http://a.example/x', host: 'b.example', status: 400 },
  { url: 'https://api.cert.localhost/admin', host: 'www.localhost', status: 400 },
  { url: 'http://a.example/x', host: 'a.example:443', status: 400 },
  { url: 'http://a.example', host: null, status: 400 },
  { url: '*', host: 'a.example', status: 400 },
];

describe('stage absoluteForm (table)', () => {
  for (const row of TABLE) {
    it(`${row.url} with Host ${row.host ?? '(none)'} → ${row.status ?? 'passes'}`, () => {
      const { ctx, answer } = stageContext({ headers: row.host === null ? [] : ['Host', row.host], url: row.url });
      expect(absoluteForm()(ctx)).to.equal(row.status === null);
      expect(answer.status).to.equal(row.status);
      if (row.forwarded !== undefined) expect(ctx.req.url).to.equal(row.forwarded);
    });
  }
  it('authority parsing', () => {
    expect(targetAuthority('http://u@h:1/p')).to.equal('u@h:1');
    expect(targetAuthority('http://h?x')).to.equal('h');
    expect(targetAuthority('/http://h')).to.equal(null);
  });
});
