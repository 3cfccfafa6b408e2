// Where the dev PKI is made (issue 21 item 4): pki_dir written in a config file is relative to that
// file, like every path there; the default and --pki-dir start at the working directory.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';

describe('config: where a relative pki_dir starts', function () {
  this.timeout(60_000);
  let tmp = '';
  let configDir = '';
  let workDir = '';

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'mtls-edge-pkidir-'));
    configDir = join(tmp, 'config');
    workDir = join(tmp, 'work');
    mkdirSync(configDir);
    mkdirSync(workDir);
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const rootCert = (dir: string): string => join(dir, 'ca', 'root-ca.crt');

  const cases: { name: string; yaml: string; pkiDirFlag?: string; expected: () => string; notAt: () => string }[] = [
    { name: 'pki_dir in the file: beside the file', yaml: 'pki_dir: pki\n', expected: () => join(configDir, 'pki'), notAt: () => join(workDir, 'pki') },
    { name: 'no pki_dir in the file: ./certs of the working directory', yaml: 'https_port: 0\n', expected: () => join(workDir, 'certs'), notAt: () => join(configDir, 'certs') },
    { name: '--pki-dir over the file: from the working directory', yaml: 'pki_dir: pki\n', pkiDirFlag: 'flagged', expected: () => join(workDir, 'flagged'), notAt: () => join(configDir, 'pki') },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const file = join(configDir, 'edge.yaml');
      writeFileSync(file, `${c.yaml}http_port: false\n`);
      await loadConfig({ file, cwd: workDir, overrides: c.pkiDirFlag ? { pkiDir: c.pkiDirFlag, httpsPort: 0 } : { httpsPort: 0 } });
      expect(existsSync(rootCert(c.expected())), `dev PKI in ${c.expected()}`).to.equal(true);
      expect(existsSync(rootCert(c.notAt())), `no dev PKI in ${c.notAt()}`).to.equal(false);
    });
  }
});
