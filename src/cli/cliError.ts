// An error the user caused (bad flag, bad file, wrong password): printed as one line, no stack.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
