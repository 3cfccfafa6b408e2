// Table: several Host lines, as HAProxy 2.6 and 3.2 answer them (test/parity covers the real ones).
import { expect } from 'chai';
import { duplicateHost } from '../../../src/edge/stages/duplicateHost.js';
import { pairs, stageContext } from './stageContext.js';

const TABLE: readonly { name: string; headers: string[]; status: number | null; forwarded?: [string, string][] }[] = [
  { name: 'one Host', headers: ['Host', 'a.example', 'X', '1'], status: null, forwarded: [['Host', 'a.example'], ['X', '1']] },
  { name: 'two identical Host lines: one is forwarded', headers: ['Host', 'a.example', 'X', '1', 'host', 'a.example'], status: null, forwarded: [['Host', 'a.example'], ['X', '1']] },
  { name: 'identical but for surrounding spaces', headers: ['Host', 'a.example', 'HOST', ' a.example '], status: null, forwarded: [['Host', 'a.example']] },
  { name: 'two different values', headers: ['Host', 'a.example', 'Host', 'evil.example'], status: 400 },
  { name: 'the same name, another port', headers: ['Host', 'a.example', 'Host', 'a.example:443'], status: 400 },
  { name: 'no Host (the fronting stage answers that)', headers: ['X', '1'], status: null, forwarded: [['X', '1']] },
  { name: 'Hostx is not Host', headers: ['Host', 'a.example', 'Hostx', 'b'], status: null, forwarded: [['Host', 'a.example'], ['Hostx', 'b']] },
];

describe('stage duplicateHost (table)', () => {
  for (const row of TABLE) {
    it(`${row.name} → ${row.status ?? 'passes'}`, () => {
      const { ctx, answer } = stageContext({ headers: row.headers });
      expect(duplicateHost()(ctx)).to.equal(row.status === null);
      expect(answer.status).to.equal(row.status);
      if (row.forwarded) expect(pairs(ctx.headers)).to.deep.equal(row.forwarded);
    });
  }
});
