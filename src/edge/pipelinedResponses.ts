// A connection's pipelined requests that wait for (or have) their turn, and how far the edge reads
// ahead of them. Node's HTTP parser turns every request a client sends into objects at once (about
// 2 KB each), while the edge hands them to the app one at a time (edge.ts): without a bound, one
// connection pipelining a megabyte of 27-byte GETs queued 50,000 requests (≈ 90 MB of heap) behind a
// slow answer. HAProxy parses one request at a time from its 16 KB buffer and leaves the rest in the
// kernel. The edge stops reading a connection while more than PIPELINED_READ_AHEAD of its requests
// wait, and reads again once the queue is short: TCP flow control then holds the client back, and
// what Node had already read (one read, at most 64 KB) is the most one connection can queue. That
// is still megabytes per connection, so the whole process keeps at most PIPELINED_BUDGET waiting:
// past it, a connection that pipelines one more is closed (many connections each queueing one read's
// worth took the heap past its limit, which ends the process).
import type { Duplex } from 'node:stream';

/** Pipelined requests one connection may have waiting before the edge stops reading it. */
const PIPELINED_READ_AHEAD = 32;

/** Pipelined requests waiting over all connections (about 2 KB each: ≈ 20 MB) before one more closes its connection. */
export const PIPELINED_BUDGET = 10_000;
let pipelinedWaiting = 0;

interface Pipelined {
  /** The `ended` callbacks of the connection's pipelined responses that have not closed. */
  readonly queued: Set<() => void>;
  /** Reading is stopped because the queue is long. */
  held: boolean;
  /** An Upgrade took the socket: its reading is no longer the edge's to stop or resume. */
  upgraded: boolean;
}

const PIPELINED = Symbol('mtls-edge.pipelined-responses');
type WithPipelined = Duplex & { [PIPELINED]?: Pipelined };

/**
 * Node resumes a socket itself (reading a request body, or once a full write buffer drained), so a
 * connection whose queue is long is paused again at every resume. Documented stream events only.
 */
function pauseWhileHeld(this: WithPipelined): void {
  if (this[PIPELINED]?.held === true) this.pause();
}

function holdOrRelease(socket: WithPipelined, p: Pipelined): void {
  if (p.upgraded) return;
  if (!p.held && p.queued.size > PIPELINED_READ_AHEAD) {
    p.held = true;
    socket.pause();
  } else if (p.held && p.queued.size <= PIPELINED_READ_AHEAD) {
    p.held = false;
    if (!socket.destroyed) socket.resume();
  }
}

/**
 * Registers a pipelined response: `ended` runs when the socket closes unless it ran before (it
 * removes itself by calling the function returned). Node queues pipelined responses and never closes
 * one whose connection dies before its turn, and their requests may have closed cleanly long before
 * (an upstream that answered without reading the body). One close listener per socket.
 */
export function queuePipelined(socket: Duplex, ended: () => void): () => void {
  const s = socket as WithPipelined;
  let p = s[PIPELINED];
  if (p === undefined) {
    const created: Pipelined = { queued: new Set(), held: false, upgraded: false };
    p = created;
    s[PIPELINED] = created;
    socket.once('close', () => {
      for (const f of [...created.queued]) f();
      created.queued.clear();
    });
    socket.on('resume', pauseWhileHeld);
  }
  const own = p;
  own.queued.add(ended);
  pipelinedWaiting++;
  holdOrRelease(s, own);
  return () => {
    if (!own.queued.delete(ended)) return;
    pipelinedWaiting--;
    holdOrRelease(s, own);
  };
}

/** True when the edge's pipelined requests (this one included) are over PIPELINED_BUDGET: the caller closes its connection. */
export function overPipelinedBudget(): boolean {
  return pipelinedWaiting > PIPELINED_BUDGET;
}

/**
 * True while the edge has stopped reading the connection: a request head that Node finds past its
 * deadline then may be waiting in the kernel, held back by the edge, not by the client. Its bytes are
 * read once the queue is short; its deadline runs again from its turn (requestTimeout.ts).
 */
export function readingHeld(socket: Duplex): boolean {
  return (socket as WithPipelined)[PIPELINED]?.held === true;
}

/**
 * An Upgrade took the socket from Node's HTTP parser: its reading is the Upgrade's from now on (paused
 * until its turn, then relayed). The answers still queued before it neither stop nor resume it again
 * (resumed, its bytes would flow to no one while the Upgrade waits). A stop in force is undone: it
 * halted reading where only the parser, now gone, would start it again, so the stream still counts a
 * read in progress and would never read the tunnel. Pushing nothing ends that read (Node's documented
 * effect of `push('')`): the socket reads again, into its own buffer, as without a stop.
 */
export function upgradeTakesReading(socket: Duplex): void {
  const p = (socket as WithPipelined)[PIPELINED];
  if (p === undefined || p.upgraded) return;
  p.upgraded = true;
  socket.removeListener('resume', pauseWhileHeld);
  if (p.held) {
    p.held = false;
    socket.push(Buffer.alloc(0));
  }
}
