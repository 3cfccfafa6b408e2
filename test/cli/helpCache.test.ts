// The start path skips yargs' help-text cache (src/cli/cli.ts, skipHelpCache). It reaches into
// yargs' internal API, so this test says when a yargs upgrade has moved it, and checks that help
// is still rendered when asked for.
import { expect } from 'chai';
import yargs from 'yargs';
import { skipHelpCache } from '../../src/cli/cli.js';

describe('cli: yargs help cache skipped on the start path', () => {
  it('finds the cache hook in this yargs version and replaces it', () => {
    expect(skipHelpCache(yargs([]))).to.equal(true);
  });

  it('still renders help on request after the hook is replaced', async () => {
    const cli = yargs(['run']).scriptName('t').command('run', 'runs it', {}, () => undefined);
    expect(skipHelpCache(cli)).to.equal(true);
    await cli.parseAsync();
    const help = await cli.getHelp();
    expect(help).to.contain('runs it');
  });

  it('leaves an object without the internals alone', () => {
    expect(skipHelpCache({})).to.equal(false);
  });
});
