// The admin listener's side of the lessons panel: lists the lessons with their curl commands, runs
// one at a time (so the events after it are its own) and names the events it produced, which the
// page then shows as a flow.
import type { EdgeEvent } from './events.js';
import type { EventStream } from './eventStream.js';
import type { StatusSnapshot } from './status.js';
import { curlCommand, lessonById, lessonNote, lessonPath, lessonTarget, LESSONS, runLesson, type Lesson, type LessonOutcome, type LessonSupport, type LessonTarget } from './lessons.js';
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

// A request's event is emitted when its response has ended, which can be just after the client saw
// the end: the runner waits this long for it.
const EVENT_WAIT_MS = 2_000;
const POLL_MS = 20;

const isLessonEvent = (e: EdgeEvent, lesson: Lesson): boolean =>
  (e.kind === 'request' && e.path === lessonPath(lesson)) || e.kind === 'handshake-rejected' || e.kind === 'connection-error';

interface LessonRunner {
  list(): LessonListing;
  /** Runs one lesson after any other still running; names the events it produced. */
  run(id: string): Promise<LessonRun>;
}

export function lessonRunner(stream: EventStream, status: () => StatusSnapshot, support: LessonSupport): LessonRunner {
  let running: Promise<unknown> = Promise.resolve();

  const eventsAfter = async (seq: number, lesson: Lesson): Promise<number[]> => {
    const deadline = Date.now() + EVENT_WAIT_MS;
    for (;;) {
      const found = stream.recent().filter((i) => i.seq > seq && isLessonEvent(i.event, lesson)).map((i) => i.seq);
      if (found.length > 0 || Date.now() >= deadline) return found;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  /** One run: the request, then the events it produced. */
  const runOnce = async (lesson: Lesson, target: LessonTarget, mode: ForwardedClientCertMode | null): Promise<{ outcome: LessonOutcome; seqs: number[] }> => {
    const before = stream.lastSeq;
    if (mode === null) {
      const outcome = await runLesson(lesson, target);
      return { outcome, seqs: await eventsAfter(before, lesson) };
    }
    let listener;
    try {
      listener = await support.openModeListener(mode);
    } catch (e) {
      return { outcome: { kind: 'not-run', error: `no lesson listener for ${mode}: ${(e as Error).message}` }, seqs: [] };
    }
    try {
      const outcome = await runLesson(lesson, target, listener);
      return { outcome, seqs: await eventsAfter(before, lesson) };
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
