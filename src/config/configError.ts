// Every configuration problem found in one pass, each naming where it is (file and field) and what to do.
export interface ConfigProblem {
  readonly where: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `${p.where}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}
