// Mocha's spec output plus the closing line CI reads: "N passed, N failed".
// A run that executes no test counts as a failure, so an empty run cannot pass unnoticed.
'use strict';
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes = 0, failures = 0, pending = 0 } = runner.stats || {};
      const skipped = pending ? `, ${pending} skipped` : '';
      process.stdout.write(`\n${passes} passed, ${failures} failed${skipped}\n`);
      if (passes + failures === 0) {
        process.stdout.write('no test was executed\n');
        process.exitCode = 1;
      }
    });
  }
}
module.exports = SummaryReporter;
