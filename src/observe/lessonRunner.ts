// The admin listener's side of the lessons panel: lists the lessons with their curl commands, runs
// one at a time (so the events after it are its own) and names the events it produced, which the
// page then shows as a flow.
import type { EdgeEvent } from './events.js';
import type { EventStream } from './eventStream.js';
import type { StatusSnapshot } from './status.js';
import { curlCommand, lessonById, lessonPath, lessonTarget, LESSONS, runLesson, type Lesson, type LessonOutcome } from './lessons.js';

interface LessonListing {
  /** Why no lesson can run here, or null. */
  readonly problem: string | null;
  readonly lessons: readonly { id: string; title: string; teaches: string; curl: string | null; compareModes: boolean }[];
}

interface LessonRun {
  readonly status: 200 | 404 | 409;
  readonly body: { lesson: string; outcome: LessonOutcome; seqs: number[] } | { error: string };
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

export function lessonRunner(stream: EventStream, status: () => StatusSnapshot): LessonRunner {
  let running: Promise<unknown> = Promise.resolve();

  const eventsAfter = async (seq: number, lesson: Lesson): Promise<number[]> => {
    const deadline = Date.now() + EVENT_WAIT_MS;
    for (;;) {
      const found = stream.recent().filter((i) => i.seq > seq && isLessonEvent(i.event, lesson)).map((i) => i.seq);
      if (found.length > 0 || Date.now() >= deadline) return found;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  return {
    list(): LessonListing {
      const target = lessonTarget(status());
      return {
        problem: typeof target === 'string' ? target : null,
        lessons: LESSONS.map((l) => ({ id: l.id, title: l.title, teaches: l.teaches, curl: typeof target === 'string' ? null : curlCommand(l, target), compareModes: l.compareModes === true })),
      };
    },
    run(id: string): Promise<LessonRun> {
      const lesson = lessonById(id);
      if (!lesson) return Promise.resolve({ status: 404, body: { error: `no lesson ${JSON.stringify(id)}: GET /lessons lists them` } });
      const target = lessonTarget(status());
      if (typeof target === 'string') return Promise.resolve({ status: 409, body: { error: target } });
      const turn = running.then(async (): Promise<LessonRun> => {
        const before = stream.lastSeq;
        const outcome = await runLesson(lesson, target);
        return { status: 200, body: { lesson: lesson.id, outcome, seqs: await eventsAfter(before, lesson) } };
      });
      running = turn.catch(() => undefined);
      return turn;
    },
  };
}
