// A scripted in-memory cluster behind a fake fetch, for tests without a server.
import type { FetchLike } from "../src/transport";

export interface Sent {
  url: string;
  method: string;
  path: string;
  /** The query string, with its "?" (or ""). */
  search: string;
  /** The request's signal: a long poll a handler answers ends when it aborts. */
  signal?: AbortSignal;
  body: any;
  raw: string | undefined;
}

export type Reply = { status: number; body?: unknown } | "drop" | "refuse" | "hang";

export type Handler = (req: Sent) => Reply | Promise<Reply | undefined> | undefined;

/** A fake fetch: every request is recorded, then answered by the first handler that answers. */
export class FakeCluster {
  readonly sent: Sent[] = [];
  private handlers: Handler[] = [];
  private pendingPolls: Array<{ resolve: (r: Reply) => void; after: string | undefined; session: string }> = [];
  readonly events: any[] = [];
  private position = 0;

  constructor(readonly ids: Record<string, string> = { "http://a": "n1" }, public leader = "n1") {}

  on(handler: Handler): this {
    this.handlers.push(handler);
    return this;
  }

  /**
   * Queues events for the session's stream and wakes a waiting poll: every session's stream, or
   * only the stream of `session` when it is given.
   */
  push(event: Record<string, unknown>, session?: string): void {
    this.position++;
    this.events.push({ position: `${this.position}.0`, ...event, ...(session === undefined ? {} : { forSession: session }) });
    for (const p of this.pendingPolls.splice(0)) p.resolve(this.eventsAnswer(p.after, p.session));
  }

  /** Answers the next waiting poll with a gap. */
  gap(state: unknown): void {
    this.position++;
    const answer: Reply = { status: 200, body: { sessionId: "s", gap: true, next: `${this.position}.0`, events: [], state } };
    for (const p of this.pendingPolls.splice(0)) p.resolve(answer);
  }

  private eventsAnswer(after: string | undefined, session = ""): Reply {
    const from = after === undefined ? 0 : Number(after.split(".")[0]);
    const events = this.events
      .filter((e) => Number(String(e.position).split(".")[0]) > from)
      .filter((e) => e.forSession === undefined || e.forSession === session)
      .map(({ forSession: _, ...e }) => e);
    return { status: 200, body: { sessionId: "s", gap: false, next: `${this.position}.0`, events } };
  }

  count(path: string): number {
    return this.sent.filter((s) => s.path === path).length;
  }

  readonly fetch: FetchLike = async (fullUrl, init) => {
    const u = new URL(fullUrl);
    const url = `${u.protocol}//${u.host}`;
    const path = u.pathname;
    const sent: Sent = {
      url,
      method: init.method,
      path,
      search: u.search,
      signal: init.signal,
      body: init.body === undefined ? undefined : JSON.parse(init.body),
      raw: init.body,
    };
    this.sent.push(sent);
    let reply: Reply | Promise<Reply | undefined> | undefined;
    for (const h of this.handlers) {
      reply = h(sent);
      if (reply instanceof Promise) reply = await abortable(reply, init.signal); // a long poll ends on abort
      if (reply !== undefined) break;
    }
    if (reply === undefined) reply = this.defaults(sent, u);
    return this.deliver(reply, init.signal);
  };

  private deliver(reply: Reply | Promise<Reply | undefined>, signal: AbortSignal): Promise<{ status: number; text(): Promise<string> }> {
    return new Promise((resolve, reject) => {
      const abort = () => reject(Object.assign(new Error("This operation was aborted"), { name: "AbortError" }));
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      Promise.resolve(reply).then((r) => {
        if (r === undefined || r === "hang") return; // only the signal ends it
        signal.removeEventListener("abort", abort);
        if (r === "refuse") {
          reject(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }));
        } else if (r === "drop") {
          reject(Object.assign(new TypeError("fetch failed"), { cause: { code: "UND_ERR_SOCKET" } }));
        } else {
          const text = r.body === undefined ? "" : JSON.stringify(r.body);
          resolve({ status: r.status, text: async () => text });
        }
      });
    });
  }

  private defaults(req: Sent, u: URL): Reply | Promise<Reply> {
    const path = req.path;
    if (path === "/status") return { status: 200, body: { id: this.ids[req.url], leader: this.leader } };
    if (this.ids[req.url] !== this.leader && path.startsWith("/api/v1/") && !path.endsWith("/events")) {
      return { status: 503, body: { error: { code: "NOT_LEADER", message: "not the leader", leader: this.leader } } };
    }
    if (path === "/api/v1/sessions") return { status: 201, body: { sessionId: req.body.sessionId, ttlMillis: req.body.ttlMillis } };
    if (path.endsWith("/keepalive")) return { status: 200, body: {} };
    if (path.endsWith("/events")) {
      const after = u.searchParams.get("after") ?? undefined;
      const session = decodeURIComponent(path.split("/")[4]);
      const now = this.eventsAnswer(after, session);
      if ((now as any).body.events.length > 0) return now;
      return new Promise<Reply>((resolve) => this.pendingPolls.push({ resolve, after, session }));
    }
    if (req.method === "DELETE") return { status: 200, body: {} };
    if (path === "/api/v1/release") return { status: 200, body: { name: req.body.name, released: true } };
    if (path === "/api/v1/renew") return { status: 200, body: { name: req.body.name, renewed: true } };
    return { status: 404, body: { error: { code: "NOT_FOUND", message: `no route ${path}` } } };
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(Object.assign(new Error("This operation was aborted"), { name: "AbortError" }));
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", abort);
        reject(e);
      },
    );
  });
}
