// Table: header line counts around HAProxy's tune.http.maxhdr (test/parity/headerCount.test.ts
// measures the real ones: 100 lines pass, 101 get 400, with 2.6 and 3.2).
import { expect } from 'chai';
import { headerCount, MAX_HEADER_LINES } from '../../../src/edge/stages/headerCount.js';
import { stageContext } from './stageContext.js';

/** `count` header lines: a Host, then fillers. */
function headerLines(count: number): string[] {
  const out = ['Host', 'a.example'];
  for (let i = 1; i < count; i++) out.push(`X-Filler-${i}`, 'v');
  return out;
}

const TABLE: readonly { name: string; lines: number; status: number | null }[] = [
  { name: 'one header line', lines: 1, status: null },
  { name: 'one under the limit', lines: MAX_HEADER_LINES - 1, status: null },
  { name: 'exactly the limit (100)', lines: MAX_HEADER_LINES, status: null },
  { name: 'one over the limit (101)', lines: MAX_HEADER_LINES + 1, status: 400 },
  { name: 'the reviewer\'s 150', lines: 150, status: 400 },
  { name: 'Node\'s old default, 1,000', lines: 1000, status: 400 },
];

describe('stage headerCount (table)', () => {
  it('the limit is HAProxy\'s default tune.http.maxhdr (101) less the request line', () => {
    expect(MAX_HEADER_LINES).to.equal(100);
  });
  for (const listener of ['https', 'http'] as const) {
    for (const row of TABLE) {
      it(`${listener}: ${row.name} → ${row.status ?? 'passes'}`, () => {
        const { ctx, answer } = stageContext({ headers: headerLines(row.lines), listener });
        expect(headerCount()(ctx)).to.equal(row.status === null);
        expect(answer.status).to.equal(row.status);
        expect(ctx.answeredWith?.status ?? null).to.equal(row.status);
        // HAProxy closes the connection after its 400; a request that passes keeps it.
        expect(ctx.res.shouldKeepAlive === false).to.equal(row.status !== null);
      });
    }
  }
  it('counts what the client sent, not what an earlier stage left', () => {
    const { ctx } = stageContext({ headers: headerLines(MAX_HEADER_LINES + 1) });
    ctx.headers = headerLines(1);
    expect(headerCount()(ctx)).to.equal(false);
  });
});
