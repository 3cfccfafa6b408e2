// Table: an Expect header, as Gorouter's Go server answers it behind HAProxy (417 for anything but
// 100-continue; an empty one counts as none). The edge-level checks are in test/edge/errors.test.ts
// and, against HAProxy, test/hostile/review11.test.ts.
import { expect } from 'chai';
import { expectation } from '../../../src/edge/stages/expectation.js';
import { stageContext } from './stageContext.js';

const TABLE: readonly { name: string; headers: string[]; status: number | null }[] = [
  { name: 'no Expect', headers: ['Host', 'a.example'], status: null },
  { name: 'Expect: 100-continue', headers: ['Host', 'a.example', 'Expect', '100-continue'], status: null },
  { name: 'Expect: 100-Continue (any case)', headers: ['Host', 'a.example', 'Expect', '100-Continue'], status: null },
  { name: 'an empty Expect (Go reads it as none)', headers: ['Host', 'a.example', 'Expect', ''], status: null },
  { name: 'Expect: foo', headers: ['Host', 'a.example', 'Expect', 'foo'], status: 417 },
  { name: 'Expect: 200-ok', headers: ['Host', 'a.example', 'Expect', '200-ok'], status: 417 },
];

describe('stage expectation (table)', () => {
  for (const row of TABLE) {
    it(`${row.name} → ${row.status ?? 'passes'}`, () => {
      const { ctx, answer } = stageContext({ headers: row.headers });
      expect(expectation([])(ctx)).to.equal(row.status === null);
      expect(answer.status).to.equal(row.status);
      if (row.status !== null) expect(ctx.answeredWith?.status).to.equal(417);
    });
  }
});
