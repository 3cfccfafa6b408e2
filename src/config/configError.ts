// Every configuration problem found in one pass, each naming where it is (file and field) and what to do.
export interface ConfigProblem {
  readonly where: string;
  readonly message: string;
}

const problemLine = (p: ConfigProblem): string => `${p.where}: ${p.message}`;

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(problemLine).join('\n'));
    this.name = 'ConfigError';
  }

  /** Each problem as `where: message`, joined by `separator` (a log line, an indented stderr block). */
  joined(separator: string): string {
    return this.problems.map(problemLine).join(separator);
  }
}
