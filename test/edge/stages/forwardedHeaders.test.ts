// Table: X-Forwarded-Proto only when absent, then one X-Forwarded-For line, at the end.
import { expect } from 'chai';
import { forwardedHeaders } from '../../../src/edge/stages/forwardedHeaders.js';
import { pairs, stageContext } from './stageContext.js';

const TABLE: readonly { name: string; listener: 'https' | 'http'; in: string[]; out: string[] }[] = [
  { name: 'https: both appended', listener: 'https', in: ['Host', 'a'], out: ['Host', 'a', 'X-Forwarded-Proto', 'https', 'X-Forwarded-For', '192.0.2.7'] },
  { name: 'http: proto is http', listener: 'http', in: ['Host', 'a'], out: ['Host', 'a', 'X-Forwarded-Proto', 'http', 'X-Forwarded-For', '192.0.2.7'] },
  { name: 'a client proto is kept, not added', listener: 'https', in: ['x-forwarded-proto', 'http'], out: ['x-forwarded-proto', 'http', 'X-Forwarded-For', '192.0.2.7'] },
  { name: 'a client XFF line is kept, one more appended', listener: 'https', in: ['X-Forwarded-For', '10.0.0.1'], out: ['X-Forwarded-For', '10.0.0.1', 'X-Forwarded-Proto', 'https', 'X-Forwarded-For', '192.0.2.7'] },
];

describe('stage forwardedHeaders (table)', () => {
  for (const row of TABLE) {
    it(row.name, () => {
      const { ctx } = stageContext({ headers: row.in, listener: row.listener });
      expect(forwardedHeaders()(ctx)).to.equal(true);
      expect(pairs(ctx.headers)).to.deep.equal(pairs(row.out));
      expect(pairs(ctx.req.rawHeaders), 'the client list is left as received').to.deep.equal(pairs(row.in));
    });
  }
});
