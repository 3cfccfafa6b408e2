// The commands and their one-line summaries, apart from the command modules: the top-level help,
// `--version` and an unknown command are answered from this list alone, without loading the PKI
// tooling or the edge (about 0.2 s of imports on a small VM).
export const COMMAND_SUMMARIES = {
  start: { command: 'start', describe: 'Run the edge (zero config: dev PKI in ./certs, echo upstream, HTTPS :8443, HTTP :8080)' },
  certs: { command: 'certs <command>', describe: 'Dev PKI and certificate tooling (init, issue, export, import, inspect)' },
  export: { command: 'export <target>', describe: 'Write the configuration for real HAProxy or nginx (export haproxy|nginx --out DIR)' },
  echo: { command: 'echo', describe: 'Run only the echo upstream (answers with the method, path and headers it received)' },
} as const;

export type CommandName = keyof typeof COMMAND_SUMMARIES;
