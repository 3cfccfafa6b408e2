// The request body as undici gets it when it is not all in yet: a PassThrough, not the
// IncomingMessage. undici destroys the body it stops sending (the app answered before reading it all,
// or failed), and a destroyed message stops the socket's reading: Node then reset the connection at
// keep_alive + 1 s, and the client's next request was lost. Unpiped instead, the rest is read and
// dropped and the connection serves its next request, as HAProxy 3.2 does (2.6 closes it).
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';

export class UploadBody extends PassThrough {
  /** True once the whole body went in (just before the end is pushed): undici then takes its length, as upstreamHead.ts predicts. */
  allIn = false;

  constructor(req: IncomingMessage) {
    super({
      flush: (done) => {
        this.allIn = true;
        done();
      },
    });
    req.pipe(this);
    // pipe() unpipes (and pauses) req first, in its own earlier listener.
    this.once('close', () => {
      if (!req.complete && !req.destroyed) req.resume();
    });
    // The client left mid-body: undici sees its body close and cancels the upstream request.
    req.once('close', () => {
      if (!req.complete) this.destroy();
    });
  }
}
