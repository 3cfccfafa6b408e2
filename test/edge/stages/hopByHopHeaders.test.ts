// Table: what the hop-by-hop stage leaves of a header list (Connection tokens included).
import { expect } from 'chai';
import { hopByHopHeaders } from '../../../src/edge/stages/hopByHopHeaders.js';
import { pairs, stageContext } from './stageContext.js';

interface Row {
  readonly name: string;
  readonly upgrade?: boolean;
  readonly in: string[];
  readonly out: string[];
}

const TABLE: readonly Row[] = [
  { name: 'ordinary headers pass untouched', in: ['Host', 'a', 'X-Y', '1'], out: ['Host', 'a', 'X-Y', '1'] },
  {
    name: 'the fixed hop-by-hop set goes',
    in: ['Host', 'a', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Trailer', 'x', 'Upgrade', 'websocket', 'Proxy-Connection', 'x', 'Expect', '100-continue', 'X-Y', '1'],
    out: ['Host', 'a', 'X-Y', '1'],
  },
  {
    name: 'names listed in Connection go, any case, every copy',
    in: ['Host', 'a', 'Connection', 'close, X-Foo ,x-bar', 'x-foo', '1', 'X-FOO', '2', 'X-Bar', '3', 'X-Baz', '4'],
    out: ['Host', 'a', 'X-Baz', '4'],
  },
  {
    name: 'tokens from several Connection headers add up',
    in: ['Connection', 'x-a', 'connection', 'x-b', 'X-A', '1', 'X-B', '2', 'X-C', '3'],
    out: ['X-C', '3'],
  },
  {
    name: 'a token cannot remove Host',
    in: ['Host', 'a', 'Connection', 'host', 'X-Y', '1'],
    out: ['Host', 'a', 'X-Y', '1'],
  },
  {
    name: 'client-sent H10 named in Connection go here (the certificate rules set the real ones later)',
    in: ['Host', 'a', 'Connection', 'close, X-SSL-Client-Subject-CN, X-Forwarded-Client-Cert', 'X-SSL-Client-Subject-CN', 'c3Bvb2Y='],
    out: ['Host', 'a'],
  },
  {
    name: 'an Upgrade request keeps Upgrade and Connection, but not the names Connection lists',
    upgrade: true,
    in: ['Host', 'a', 'Upgrade', 'websocket', 'Connection', 'Upgrade, X-Foo', 'X-Foo', '1', 'Keep-Alive', '1'],
    out: ['Host', 'a', 'Upgrade', 'websocket', 'Connection', 'Upgrade, X-Foo'],
  },
];

describe('stage hopByHopHeaders (table)', () => {
  for (const row of TABLE) {
    it(row.name, () => {
      const { ctx } = stageContext({ headers: row.in });
      expect(hopByHopHeaders({ keepUpgrade: row.upgrade ?? false })(ctx)).to.equal(true);
      expect(pairs(ctx.headers)).to.deep.equal(pairs(row.out));
    });
  }
});
