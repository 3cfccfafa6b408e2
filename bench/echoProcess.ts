// The echo upstream as its own process (so it can be pinned away from the proxy under test).
// Usage: node dist-bench/bench/echoProcess.js <port>   — prints "ready <port>" when listening.
import { startEchoServer } from '../src/echo/echoServer.js';

const port = Number(process.argv[2] ?? 0);
const echo = await startEchoServer('127.0.0.1', port);
process.stdout.write(`ready ${echo.port}\n`);
const stop = (): void => {
  void echo.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
