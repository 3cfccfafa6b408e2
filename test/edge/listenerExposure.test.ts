// Table: a non-loopback bind with the plain-HTTP listener on is said at start (that listener passes
// any client's certificate headers); loopback, or no plain listener, says nothing. And the default
// bind is loopback.
import { expect } from 'chai';
import { exposureWarning } from '../../src/edge/listenerExposure.js';
import { configSchema } from '../../src/config/schema.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIND_ENV, loadConfig } from '../../src/config/load.js';
import { testPki } from '../support/edgeHarness.js';

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

  // [file's bind, --bind, MTLS_EDGE_BIND] → the bind: the file and the flag win over the variable
  // (the container image sets it; a user's own configuration still decides).
  const BINDS: [string | null, string | null, string | null, string][] = [
    [null, null, null, '127.0.0.1'],
    [null, null, '0.0.0.0', '0.0.0.0'],
    ['127.0.0.1', null, '0.0.0.0', '127.0.0.1'],
    [null, '127.0.0.2', '0.0.0.0', '127.0.0.2'],
    [null, null, '', '127.0.0.1'],
  ];
  for (const [inFile, flag, env, expected] of BINDS) {
    it(`bind: file ${inFile ?? '-'}, --bind ${flag ?? '-'}, ${BIND_ENV} ${env ?? '-'} → ${expected}`, async () => {
      const { dir: pkiDir } = await testPki();
      const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-bind-'));
      try {
        const file = join(dir, 'edge.yaml');
        writeFileSync(file, `pki_dir: ${pkiDir}\n${inFile ? `bind: ${inFile}\n` : ''}`);
        const loaded = await loadConfig({ file, overrides: flag ? { bind: flag } : {}, env: env === null ? {} : { [BIND_ENV]: env } });
        expect(loaded.config.bind).to.equal(expected);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
