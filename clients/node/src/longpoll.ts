/**
 * The long poll that the session's event stream and watches share (protocol.md, "The event stream"
 * and "Watches"): it asks `path(after)` at the client's home member (any member serves both),
 * hands each 200 answer to `take` and asks again from the answer's `next`. After a network error,
 * an unreadable answer, or `503`/`504`/`404` (a member that has not caught up) it moves to the
 * next member, after any other failing status back to the home, each time after a backoff (50 ms
 * doubling to 1 s, jittered). A refused position (`400` while it has one) starts again without one,
 * which the server answers with the state (a gap).
 */
import { Backoff, sleep } from "./backoff";
import { NetworkFailure, Transport } from "./transport";

export interface LongPoll<P extends { next: string | undefined }> {
  readonly transport: Transport;
  /** For the log: "events", "watch of jobs/nightly". */
  readonly what: string;
  path(after: string | undefined): string;
  readonly waitMillis: number;
  readonly requestTimeoutMs: number;
  /** Aborting it ends the poll. */
  readonly signal: AbortSignal;
  log(message: string): void;
  /** True to end the poll; asked before each poll. */
  stopped(): boolean;
  /** A 200 answer's body read; throws if it is not one. */
  parse(body: any): P;
  /** Handles a page (`sentAt`: the client's clock when its poll was sent); false ends the poll. */
  take(page: P, sentAt: number): Promise<boolean> | boolean;
  /** Judges any other answer but a refused position: true ends the poll. */
  final(status: number, error: any): boolean;
}

/**
 * Polls until the poll ends (see {@link LongPoll}); rejects with what the transport threw other
 * than a network failure (the signal aborted, the transport closed).
 */
export async function longPoll<P extends { next: string | undefined }>(poll: LongPoll<P>): Promise<void> {
  const { transport } = poll;
  const backoff = new Backoff();
  const pause = async (): Promise<boolean> => {
    try {
      await sleep(transport.clock, backoff.next(), poll.signal);
      return true;
    } catch {
      return false;
    }
  };
  let after: string | undefined;
  let index = transport.homeIndex;
  while (!poll.signal.aborted && !poll.stopped()) {
    const url = transport.members[index];
    const sentAt = transport.clock.now();
    let status: number;
    let body: any;
    try {
      ({ status, body } = await transport.exchange(url, "GET", poll.path(after), undefined, poll.waitMillis + poll.requestTimeoutMs, poll.signal));
    } catch (e) {
      if (!(e instanceof NetworkFailure)) throw e;
      poll.log(`${poll.what}: ${url}: ${e.description}; trying the next member`);
      index = (index + 1) % transport.members.length;
      if (!(await pause())) return;
      continue;
    }
    if (poll.signal.aborted || poll.stopped()) return;
    if (status === 200) {
      let page: P;
      try {
        page = poll.parse(body);
      } catch (e) {
        poll.log(`${poll.what}: ${url}: ${(e as Error).message}`);
        index = (index + 1) % transport.members.length;
        if (!(await pause())) return;
        continue;
      }
      backoff.reset();
      if (!(await poll.take(page, sentAt))) return;
      if (page.next !== undefined) after = page.next;
      index = transport.homeIndex;
      continue;
    }
    const error = body?.error ?? {};
    if (status === 400 && after !== undefined) {
      poll.log(`${poll.what}: ${url} refused position ${after}: ${error.message ?? ""}; reading the state`);
      after = undefined;
      continue;
    }
    if (poll.final(status, error)) return;
    poll.log(`${poll.what}: ${url}: ${status} ${error.code ?? ""} ${error.message ?? ""}`.trim());
    index = status === 503 || status === 504 || status === 404 ? (index + 1) % transport.members.length : transport.homeIndex;
    if (!(await pause())) return;
  }
}
