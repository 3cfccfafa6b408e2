// The admin listener's side of the lessons panel: lists the lessons with their curl commands, runs
// one at a time and names the events its own connection produced (found by its client port), which
// the page then shows as a flow.
import type { EdgeEvent } from './events.js';
import type { EventStream } from './eventStream.js';
import type { StatusSnapshot } from './status.js';
import { curlCommand, lessonById, lessonNote, lessonPath, lessonTarget, LESSONS, runLesson, type Lesson, type LessonAttempt, type LessonOutcome, type LessonSupport, type LessonTarget } from './lessons.js';
import { FORWARDED_CLIENT_CERT_MODES, type ForwardedClientCertMode } from '../headers/modeTable.js';

interface LessonListing {
  /** Why no lesson can run here, or null. */
  readonly problem: string | null;
  readonly lessons: readonly { id: string; title: string; teaches: string; curl: string | null; compareModes: boolean; note: string | null }[];
}

/** The same request under one forwarded_client_cert mode, on a lesson listener of the edge. */
interface ModeRun {
  readonly mode: ForwardedClientCertMode;
  readonly outcome: LessonOutcome;
  readonly seqs: number[];
}

interface LessonRun {
  readonly status: 200 | 404 | 409;
  readonly body: { lesson: string; outcome: LessonOutcome; seqs: number[]; note: string | null; modes?: ModeRun[] } | { error: string };
}

// A request's event is emitted when its response has ended, and a refused handshake's when the edge
// has closed the connection: both can come after the client saw the end, later still on a busy
// machine. The runner waits for them, at most this long; it goes on as soon as they are there.
const EVENT_WAIT_MS = 15_000;
const POLL_MS = 20;

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * An event of the lesson's own connection: the edge saw the runner's local port as the client port
 * (on loopback). Other clients' requests and refused handshakes at the same time are not the lesson's.
 */
const isOwnEvent = (e: EdgeEvent, lesson: Lesson, clientPort: number): boolean =>
  (e.kind === 'request' || e.kind === 'handshake-rejected') && e.clientPort === clientPort && LOOPBACK.has(e.clientAddress) &&
  (e.kind === 'handshake-rejected' || e.path === lessonPath(lesson));

/** The event that ends the wait: the request's for an answer, the refused handshake's (or a request's, in explain mode) otherwise. */
const isClosingEvent = (e: EdgeEvent, outcome: LessonOutcome): boolean => outcome.kind === 'response' ? e.kind === 'request' : true;

interface LessonRunner {
  list(): LessonListing;
  /** Runs one lesson after any other still running; names the events it produced. */
  run(id: string): Promise<LessonRun>;
}

export function lessonRunner(stream: EventStream, status: () => StatusSnapshot, support: LessonSupport): LessonRunner {
  let running: Promise<unknown> = Promise.resolve();

  /** The events of the lesson's connection after `seq`, once the one that ends it is there (bounded). */
  const eventsAfter = async (seq: number, lesson: Lesson, attempt: LessonAttempt): Promise<number[]> => {
    const { outcome, clientPort } = attempt;
    // No connection, no events: a lesson that could not run, or a connect that failed.
    if (outcome.kind === 'not-run' || clientPort === null) return [];
    const deadline = Date.now() + EVENT_WAIT_MS;
    for (;;) {
      const own = stream.recent().filter((i) => i.seq > seq && isOwnEvent(i.event, lesson, clientPort));
      if (own.some((i) => isClosingEvent(i.event, outcome)) || Date.now() >= deadline) return own.map((i) => i.seq);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  /** One run: the request, then the events it produced. */
  const runOnce = async (lesson: Lesson, target: LessonTarget, mode: ForwardedClientCertMode | null): Promise<{ outcome: LessonOutcome; seqs: number[] }> => {
    const before = stream.lastSeq;
    if (mode === null) {
      const attempt = await runLesson(lesson, target);
      return { outcome: attempt.outcome, seqs: await eventsAfter(before, lesson, attempt) };
    }
    let listener;
    try {
      listener = await support.openModeListener(mode);
    } catch (e) {
      return { outcome: { kind: 'not-run', error: `no lesson listener for ${mode}: ${(e as Error).message}` }, seqs: [] };
    }
    try {
      const attempt = await runLesson(lesson, target, listener);
      return { outcome: attempt.outcome, seqs: await eventsAfter(before, lesson, attempt) };
    } finally {
      listener.close();
    }
  };

  return {
    list(): LessonListing {
      const snapshot = status();
      const target = lessonTarget(snapshot, support.pkiDir());
      return {
        problem: typeof target === 'string' ? target : null,
        lessons: LESSONS.map((l) => ({
          id: l.id,
          title: l.title,
          teaches: l.teaches,
          curl: typeof target === 'string' ? null : curlCommand(l, target),
          compareModes: l.compareModes === true,
          note: typeof target === 'string' ? null : lessonNote(l, snapshot, target),
        })),
      };
    },
    run(id: string): Promise<LessonRun> {
      const lesson = lessonById(id);
      if (!lesson) return Promise.resolve({ status: 404, body: { error: `no lesson ${JSON.stringify(id)}: GET /lessons lists them` } });
      const snapshot = status();
      const target = lessonTarget(snapshot, support.pkiDir());
      if (typeof target === 'string') return Promise.resolve({ status: 409, body: { error: target } });
      const turn = running.then(async (): Promise<LessonRun> => {
        const { outcome, seqs } = await runOnce(lesson, target, null);
        const note = lessonNote(lesson, snapshot, target);
        if (!lesson.compareModes) return { status: 200, body: { lesson: lesson.id, outcome, seqs, note } };
        // One mode after the other, so that each run's events are its own.
        const modes: ModeRun[] = [];
        for (const mode of FORWARDED_CLIENT_CERT_MODES) modes.push({ mode, ...(await runOnce(lesson, target, mode)) });
        return { status: 200, body: { lesson: lesson.id, outcome, seqs, note, modes } };
      });
      running = turn.catch(() => undefined);
      return turn;
    },
  };
}
