// The README walk (issue 21): README.md and docs/*.md must work exactly as written. Every fenced
// block, file by file in the order given, is run in a temporary copy of the working tree (see
// test/support/docClone.ts), loaded (YAML through src/config/load.ts), or checked statically
// with the reason in the test title (docker, a benchmark, a suite npm test runs anyway). A block
// with no directive is run as shell, line by line, and every line must exit 0 and leave nothing
// running; a block the walker cannot place fails, so a new doc line cannot slip by. Directives are
// HTML comments above the fence, `<!-- walk: … -->`; their grammar is in CONTRIBUTING.md.
//
// Ports are the docs' own (8443, 8080, 9901, 3000): the walk checks they are free before each file
// and fails naming the one in use (mocha tests elsewhere use port 0). Background processes
// (`npm start`, `mtls-edge start`) are stopped by process group at the end of each file, also when
// a block failed, and the last test of each file checks by process group id that none is left and
// the ports are free again.
//
// Issue 21 items 1–12 → the test or walk step that fails on the main before the fix:
//   1  CI recipe leaves the edge running: owned elsewhere (test/examples/ciRecipe.test.ts). The walk
//      also runs both README CI blocks; a process left in a command's process group fails it (the
//      old `npx mtls-edge start … & … kill %1` block did).
//   2  docker compose / app.localhost: owned elsewhere (test/packaging/compose.test.ts); the README
//      docker block is static here.
//   3  README config's CRL paths: walk step "README.md:… yaml" (loaded through src/config/load.ts;
//      the old paths are files `certs init` never writes); also test/packaging/readme.test.ts.
//   4  pki_dir relative to the config file: test/cli/pkiDir.test.ts.
//   5  trainer lessons send failures/K.crt: walk step "README.md:… inline: curl …" (trainer table):
//      after the CRL restart the revoked curl must be refused as X509_V_ERR_CERT_REVOKED in the
//      edge's log (revoked.crt alone gives 21), the expired one as X509_V_ERR_CERT_HAS_EXPIRED;
//      test/observe/lessons.test.ts "name the curl command …" for the lesson card.
//   6  the 496 page: test/edge/explain.test.ts "no certificate: the handshake completes and the
//      client gets 496 with the reason, not a TLS alert".
//   7  export --p12 into the repo root: test/pki/noOpenssl.test.ts "certs export --p12 writes into
//      the PKI folder, refuses to overwrite, and --force replaces"; walk steps docs/certs.md export
//      (output names certs/client.p12) and keytool (reads certs/client.p12).
//   8  `npm start --forwarded-client-cert`: walk step "README.md:… inline: curl …" (trainer table)
//      starts `npm start -- --crl …` and `npm start -- --forwarded-client-cert …` and waits for the
//      ready line (without `--` the edge exits with Unknown argument).
//   9  messages: owned elsewhere (test/cli/messages.test.ts).
//   10 unreachable upstream: test/edge/errors.test.ts "the page says why in x-mtls-edge-error …" and
//      "Accept: application/json gets the same status as JSON with the reason …".
//   11 openssl s_client -cert_chain: walk step "docs/certs.md:… openssl s_client …" (a real
//      handshake; the HTTP answer typed into s_client must show X-SSL-Client-Verify 0).
//   12 first npx takes 8–10 s: owned elsewhere (test/cli/readmeInvocation.test.ts); the walk runs
//      `mtls-edge` as `node bin/mtls-edge.js`, as the README says for a checkout.
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { docBlocks, parseArgs, type DocBlock } from '../support/docBlocks.js';
import { makeClone, portFree, removeClone, stopBackground, type Clone } from '../support/docClone.js';
import { blockTitle, walkBlock } from '../support/docWalk.js';
import { ProcessMark } from '../support/processes.js';

const root = process.cwd();
const DOC_PORTS = [8443, 8080, 9901, 3000];
const files = ['README.md', ...readdirSync(`${root}/docs`).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

describe('the README walk: every fenced block of the docs, as written', function () {
  this.timeout(90_000);
  for (const file of files) {
    describe(file, () => {
      let clone: Clone | undefined;
      before(async () => {
        for (const port of DOC_PORTS) {
          if (!(await portFree(port))) {
            throw new Error(`port ${port} is in use by another process; the walk runs the docs' commands as written and needs ${DOC_PORTS.join(', ')} free`);
          }
        }
        clone = makeClone(root);
      });
      after(async () => {
        if (!clone) return;
        await stopBackground(clone);
        removeClone(clone);
      });

      for (const block of docBlocks(root, file)) {
        it(blockTitle(block), async function () {
          if (!clone) this.skip();
          const report = await walkBlock(clone, block);
          expect(report.length, 'the walk did nothing with this block').to.be.greaterThan(0);
        });
      }

      it(`${file}: every background process stopped (checked by process group), ${DOC_PORTS.join('/')} free again`, async () => {
        await stopBackground(clone!);
        for (const port of DOC_PORTS) expect(await portFree(port), `port ${port} still in use after the walk of ${file}`).to.equal(true);
      });
    });
  }
});

describe('the README walk refuses what it cannot place', () => {
  const nowhere: Clone = { dir: '/nonexistent', tmp: '/nonexistent', env: {}, background: [], mark: new ProcessMark() };
  const block = (lang: string, body: string, directives: string[] = []): DocBlock => ({
    file: 'x.md', line: 1, lang, body,
    directives: directives.map((d) => {
      const [kind = '', ...rest] = d.split(' ');
      return { kind, args: parseArgs(rest.join(' ')), text: d };
    }),
  });

  it('reads words, "strings" with escapes and /regexps/', () => {
    const args = parseArgs('expect "a \\"b\\"\\r\\n" output /x\\/y\\s/i');
    expect(args.slice(0, 3)).to.deep.equal(['expect', 'a "b"\r\n', 'output']);
    expect(String(args[3])).to.equal('/x\\/y\\s/i');
  });

  it('a yaml or ts block without a directive, and an unknown directive, fail the walk', async () => {
    for (const b of [block('yaml', 'a: 1'), block('ts', 'x()'), block('sh', 'true', ['run-please'])]) {
      let error: unknown;
      await walkBlock(nowhere, b).catch((e: unknown) => { error = e; });
      expect(String(error), `${b.lang} ${b.directives.map((d) => d.text).join()}`).to.match(/annotate it|unknown walk directive/);
    }
  });
});
