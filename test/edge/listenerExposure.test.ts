// Table: a non-loopback bind with the plain-HTTP listener on is said at start (that listener passes
// any client's certificate headers); loopback, or no plain listener, says nothing. And the default
// bind is loopback.
import { expect } from 'chai';
import { exposureWarning } from '../../src/edge/listenerExposure.js';
import { configSchema } from '../../src/config/schema.js';

const TABLE: [string, number | null, boolean][] = [
  ['127.0.0.1', 8080, false],
  ['localhost', 8080, false],
  ['::1', 8080, false],
  ['0.0.0.0', null, false],
  ['0.0.0.0', 8080, true],
  ['::', 8080, true],
  ['192.168.1.20', 8080, true],
];

describe('listener exposure at start', () => {
  for (const [bind, httpPort, warns] of TABLE) {
    it(`bind ${bind}, plain-HTTP port ${httpPort ?? 'off'}: ${warns ? 'a warning' : 'nothing'}`, () => {
      const w = exposureWarning(bind, httpPort);
      if (!warns) expect(w).to.equal(null);
      else expect(w).to.match(new RegExp(`^the plain-HTTP listener on ${bind.replace(/\./g, '\\.')}:${httpPort} is reachable from other machines .* Bind 127\\.0\\.0\\.1 .* \\(http_port: false, --http-port -1\\)`));
    });
  }

  it('binds loopback unless told otherwise', () => {
    expect(configSchema.parse({}).bind).to.equal('127.0.0.1');
  });
});
