// The process log: readable lines on a terminal, JSON lines for machines. Built on winston, but the
// rest of mtls-edge only sees the small Logger interface below, so the backend stays replaceable.
// Every line passes the redaction step first: no field or message can carry a key or password out.
// winston (≈80 modules, ≈3 MB resident) is loaded at the first line that passes the level, so a
// quiet edge (log level error or warn, e.g. in CI) does not carry it until it has something to say.
// It is a CommonJS package, so it loads synchronously there: no line waits or changes order.
import { createRequire } from 'node:module';
import type winston from 'winston';
import { redactFields, scrubText } from './redact.js';
import { escapeJsonText, escapeText, hasUnsafeChars, safeJson } from './escape.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'pretty' | 'json';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** Lets hot paths skip building fields for a line that would be dropped. */
  isLevelEnabled(level: LogLevel): boolean;
  readonly level: LogLevel;
  readonly format: LogFormat;
  close(): Promise<void>;
}

export interface LoggerOptions {
  /** Default: `pretty` when the stream is a TTY, else `json`. */
  format?: LogFormat;
  /** One of error|warn|info|debug; default info. */
  level?: string;
  /** Default process.stdout. */
  stream?: NodeJS.WritableStream;
}

const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** The format chosen when none is configured: humans at a terminal, JSON everywhere else. */
export function defaultLogFormat(stream: NodeJS.WritableStream): LogFormat {
  return (stream as NodeJS.WritableStream & { isTTY?: boolean }).isTTY ? 'pretty' : 'json';
}

// winston's `info` object; our fields travel under `fields` so a field called `level` or `message`
// cannot overwrite winston's own properties.
interface Info extends winston.Logform.TransformableInfo {
  fields?: Record<string, unknown>;
  time?: string;
}

const COLOURS: Record<LogLevel, string> = { error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[36m', debug: '\x1b[90m' };
const RESET = '\x1b[0m';

// Field values a client may control (SNI, path, certificate names, reasons) are quoted as JSON with
// every control, separator and bidi character escaped: they can neither end the line nor colour it.
function prettyValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=\\]+$/.test(v) && !hasUnsafeChars(v) ? v : safeJson(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return safeJson(v);
}

/** `key=value` pairs after the message, quoting only where needed. */
export function prettyFields(fields: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out += ` ${escapeText(k)}=${prettyValue(v)}`;
  }
  return out;
}

/** One pretty line: the message is escaped text (it may quote an SNI or a path), then the fields. */
export function prettyLine(time: string, head: string, message: string, fields: Readonly<Record<string, unknown>>): string {
  return `${time} ${head} ${escapeText(message)}${prettyFields(fields)}`;
}

/** One JSON line; JSON.stringify escapes C0 controls, escapeJsonText the rest. */
export function jsonLine(time: string, level: string, message: string, fields: Readonly<Record<string, unknown>>): string {
  return escapeJsonText(JSON.stringify({ time, level, msg: message, ...fields }));
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const stream = opts.stream ?? process.stdout;
  const format = opts.format ?? defaultLogFormat(stream);
  const levelName = opts.level ?? 'info';
  if (!isLogLevel(levelName)) {
    throw new Error(`Unknown log level "${levelName}": use one of ${LOG_LEVELS.join(', ')}`);
  }
  const level: LogLevel = levelName;
  const colour = format === 'pretty' && Boolean((stream as { isTTY?: boolean }).isTTY);

  const w = lazyBackend(() => winstonLogger(level, format, colour, stream));
  const log = (lvl: LogLevel, message: string, fields?: LogFields): void => {
    if (LEVEL_RANK[lvl] > LEVEL_RANK[level]) return;
    w.get().log({ level: lvl, message, fields: fields as Record<string, unknown> | undefined });
  };

  return {
    level,
    format,
    error: (m, f) => log('error', m, f),
    warn: (m, f) => log('warn', m, f),
    info: (m, f) => log('info', m, f),
    debug: (m, f) => log('debug', m, f),
    isLevelEnabled: (lvl) => LEVEL_RANK[lvl] <= LEVEL_RANK[level],
    close: () => {
      const backend = w.made();
      if (!backend) return Promise.resolve();
      return new Promise<void>((resolve) => {
        // `finish` fires once winston has handed every queued line to the stream; the stream itself
        // (usually stdout) belongs to the caller and stays open.
        backend.once('finish', () => resolve());
        backend.end();
      });
    },
  };
}

function lazyBackend<T>(make: () => T): { get(): T; made(): T | null } {
  let made: T | null = null;
  return { get: () => (made ??= make()), made: () => made };
}

const requireCjs = createRequire(import.meta.url);

function winstonLogger(level: LogLevel, format: LogFormat, colour: boolean, stream: NodeJS.WritableStream): winston.Logger {
  const winston = requireCjs('winston') as typeof import('winston');
  const redact = winston.format((info: Info) => {
    info.message = scrubText(String(info.message));
    info.fields = redactFields(info.fields);
    info.time = new Date().toISOString();
    return info;
  });

  const render =
    format === 'json'
      ? winston.format.printf((info: Info) => jsonLine(info.time ?? '', info.level, String(info.message), info.fields ?? {}))
      : winston.format.printf((info: Info) => {
          const lvl = info.level as LogLevel;
          const tag = lvl.toUpperCase().padEnd(5);
          const head = colour ? `${COLOURS[lvl] ?? ''}${tag}${RESET}` : tag;
          return prettyLine(info.time ?? '', head, String(info.message), info.fields ?? {});
        });

  return winston.createLogger({
    levels: LEVEL_RANK,
    level,
    format: winston.format.combine(redact(), render),
    transports: [new winston.transports.Stream({ stream })],
    exitOnError: false,
  });
}
