// Table: allow | flag | drop for header names with underscores.
import { expect } from 'chai';
import { underscoreHeaders } from '../../../src/edge/stages/underscoreHeaders.js';
import { underscoreNote } from '../../../src/observe/logSink.js';
import { pairs, stageContext } from './stageContext.js';

const IN = ['Host', 'a', 'X_SSL_Client_Verify', '0', 'X-SSL-Client-Verify', '21', 'x_y', '1'];
const TABLE = [
  { action: 'allow', out: IN, flagged: undefined },
  { action: 'flag', out: IN, flagged: ['X_SSL_Client_Verify', 'x_y'] },
  { action: 'drop', out: ['Host', 'a', 'X-SSL-Client-Verify', '21'], flagged: ['X_SSL_Client_Verify', 'x_y'] },
] as const;

describe('stage underscoreHeaders (table)', () => {
  for (const row of TABLE) {
    it(`${row.action}`, () => {
      const { ctx } = stageContext({ headers: IN });
      expect(underscoreHeaders(row.action)(ctx)).to.equal(true);
      expect(pairs(ctx.headers)).to.deep.equal(pairs(row.out));
      expect(ctx.underscoreHeaders).to.deep.equal(row.flagged);
    });
  }
  it('nothing flagged without underscores', () => {
    const { ctx } = stageContext({ headers: ['Host', 'a'] });
    underscoreHeaders('flag')(ctx);
    expect(ctx.underscoreHeaders).to.equal(undefined);
  });
  it('the log note names the dashed reading', () => {
    expect(underscoreNote(['X_SSL_Client_Verify'])).to.equal('X_SSL_Client_Verify: your framework may read this as X-SSL-Client-Verify');
  });
});
