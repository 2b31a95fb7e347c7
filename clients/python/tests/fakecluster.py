"""A small in-process imitation of a Holdfast cluster's HTTP protocol, for the unit tests.

Only what the tests need: /status, sessions (open, keepalive, close), acquire (exclusive, with
waits), release, renew, cancel, fence, registers, the event stream, watches (every member, from
one record of changes; ``forget_changes`` makes older positions a gap), and the reads elections
use (locks/{name}, elections/{name}). Each "node" is an HTTP server on a free port; one of them
leads, the others answer 503 NOT_LEADER (an older build), or, with ``followers_serve``, serve
sessions as the leader does (as a member that forwards to the leader), all but ``/api/v1/members``
(only the leader's). Requests are remembered by (session, requestId) so that
a retry gets the first answer. ``drop`` makes a node process a request and close the connection
without answering; a node in ``down`` closes every connection without an answer (its long polls
too).
"""

import base64
import json
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import holdfast
from holdfast.election import proclaimed

from .fakekeys import FakeKeys



def send_json(handler, status, data):
    """Answers ``handler``'s request with ``status`` and the JSON bytes ``data``; a client that went
    away meanwhile (close aborts its long polls) is no error."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    try:
        handler.wfile.write(data)
    except OSError:
        pass

class Cluster:
    def __init__(self, nodes=3):
        self.cond = threading.Condition()
        self.leader = "n1"
        self.followers_serve = False
        self.sessions = {}  # id -> {"events": [...], "alive": bool, "memory": {}}
        self.holders = {}  # name -> (session, token)
        self.registers = {}  # key -> (version, value)
        self.next_token = 100
        self.log = []  # (node, method, path, body)
        self.headers = []  # the headers of each request, in the order of log
        self.drop = {}  # path -> count of answers to drop
        self.gap_next = set()  # session ids whose next poll answers a gap
        self.down = set()  # node ids that answer nothing
        self.refuse_keys = set()  # register keys whose writes are refused CONFLICT
        self.refuse_opens = False  # session opens are answered 503 UNAVAILABLE
        self.silent_opens = set()  # node ids that never answer a session open (for up to 5 s)
        self.keys_unavailable = False  # key reads and writes are answered 503 UNAVAILABLE
        self.changes = []  # watch events; the position after changes[i] is "<i+1>.0"
        self.changes_from = 0  # changes before this index are forgotten: older positions gap
        self.keys = FakeKeys(self)
        self.servers = {}
        for i in range(1, nodes + 1):
            nid = "n%d" % i
            srv = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(nid))
            srv.daemon_threads = True
            threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
            self.servers[nid] = srv

    def url(self, nid):
        return "http://127.0.0.1:%d" % self.servers[nid].server_address[1]

    def urls(self):
        return [self.url(n) for n in sorted(self.servers)]

    def stop(self):
        for s in self.servers.values():
            s.shutdown()
            s.server_close()

    def requests(self, path):
        return [e for e in self.log if e[2] == path]

    def revoke(self, name):
        with self.cond:
            h = self.holders.pop(name, None)
            if h:
                self._event(h[0], {"type": "lost", "name": name, "token": h[1], "reason": "revoked"})
                self._change({"type": "released", "name": name, "sessionId": h[0], "token": h[1],
                              "mode": "exclusive", "cause": "revoked"})
            self.cond.notify_all()

    def _change(self, ev):
        ev = dict(ev, position="%d.0" % (len(self.changes) + 1))
        self.changes.append(ev)
        self.cond.notify_all()

    def expire(self, sid):
        """Session ``sid`` expires: its locks and attached keys go, its stream says so."""
        with self.cond:
            self.sessions[sid]["alive"] = False
            self.keys.end_session(sid, "sessionExpired")
            self._event(sid, {"type": "sessionExpired"})
            self.cond.notify_all()

    def forget_changes(self):
        """The next watch poll from an older position answers a gap (as after a restart)."""
        with self.cond:
            self._change({"type": "_snapshot", "name": ""})  # concerns no watch
            self.changes_from = len(self.changes)

    def _event(self, sid, ev):
        s = self.sessions.get(sid)
        if s is not None:
            ev = dict(ev, position=str(len(s["events"]) + 1))
            s["events"].append(ev)

    # ------------------------------------------------------------ handling

    def _handler(self, nid):
        cluster = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _do(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                body = json.loads(raw) if raw else None
                parts = urllib.parse.urlsplit(self.path)
                path, query = parts.path, dict(urllib.parse.parse_qsl(parts.query))
                cluster.log.append((nid, method, path, body))
                cluster.headers.append(dict(self.headers))
                if method == "POST" and path == "/api/v1/sessions" and nid in cluster.silent_opens:
                    quiet_until = time.monotonic() + 5
                    while nid in cluster.silent_opens and time.monotonic() < quiet_until:
                        time.sleep(0.05)
                    self.close_connection = True
                    return
                status, answer = (None, None) if nid in cluster.down else \
                    cluster.handle(nid, method, path, query, body)
                if status is None:  # a dead node
                    self.close_connection = True
                    return
                with cluster.cond:
                    drop = cluster.drop.get(path, 0)
                    if drop:
                        cluster.drop[path] = drop - 1
                if drop:
                    self.close_connection = True
                    return
                send_json(self, status, json.dumps(answer).encode())

            def do_GET(self):
                self._do("GET")

            def do_POST(self):
                self._do("POST")

            def do_DELETE(self):
                self._do("DELETE")

        return H

    @staticmethod
    def _err(status, code, message, **extra):
        e = {"code": code, "message": message}
        e.update(extra)
        return status, {"error": e}

    def handle(self, nid, method, path, query, body):
        if path == "/status":
            return 200, {"id": nid, "leader": self.leader}
        if path.startswith("/api/v1/sessions/") and path.endswith("/events"):
            return self._events(path.split("/")[4], query)
        if path == "/api/v1/watch":
            return self._watch(nid, query)
        if self.keys_unavailable and path.startswith("/api/v1/keys"):
            # A service without a leader for a while (an election right after an outage), whose
            # sessions are served again already.
            return self._err(503, "UNAVAILABLE", "%s serves no key now" % nid)
        if nid != self.leader and (not self.followers_serve or path.startswith("/api/v1/members")):
            return self._err(503, "NOT_LEADER", "%s does not lead" % nid, leader=self.leader)
        if path == "/api/v1/members":
            return 200, {"members": sorted(self.servers)}
        with self.cond:
            if path == "/api/v1/sessions" and method == "POST":
                if self.refuse_opens:
                    return self._err(503, "UNAVAILABLE", "%s opens no session now" % nid)
                sid = body.get("sessionId") or "fake%d" % len(self.sessions)
                self.sessions.setdefault(sid, {"events": [], "alive": True, "memory": {},
                                               "ttl": body.get("ttlMillis")})
                return 201, {"sessionId": sid, "ttlMillis": body.get("ttlMillis")}
            if path.endswith("/keepalive"):
                s = self.sessions.get(path.split("/")[4])
                if not s or not s["alive"]:
                    return self._err(410, "SESSION_EXPIRED", "no such session")
                return 200, {}
            if method == "DELETE":
                s = self.sessions.get(path.split("/")[4])
                if s:
                    s["alive"] = False
                    for name, h in list(self.holders.items()):
                        if h[0] == path.split("/")[4]:
                            del self.holders[name]
                            self._change({"type": "released", "name": name, "sessionId": h[0],
                                          "token": h[1], "mode": "exclusive",
                                          "cause": "sessionClosed"})
                    self.keys.end_session(path.split("/")[4], "sessionClosed")
                    self._event(path.split("/")[4], {"type": "sessionClosed"})
                    self.cond.notify_all()
                return 200, {}
            if path == "/api/v1/fence":
                h = self.holders.get(query["name"])
                return 200, {"name": query["name"], "token": int(query["token"]),
                             "current": bool(h and h[1] == int(query["token"]))}
            if path.startswith("/api/v1/locks/"):
                info = self._lock_info(urllib.parse.unquote(path[len("/api/v1/locks/"):]))
                if info is None:
                    return self._err(404, "NOT_FOUND", "no lock is held or waited for")
                return 200, {"lock": info}
            if path.startswith("/api/v1/elections/"):
                name = urllib.parse.unquote(path[len("/api/v1/elections/"):])
                h = self.holders.get(name)
                if h is None:
                    return self._err(404, "NOT_FOUND", "nobody leads the election %s now" % name)
                _, raw = self.registers.get(name, (0, None))
                found = proclaimed(base64.b64decode(raw) if raw else None)
                return 200, {"election": {"name": name, "epoch": h[1], "sessionId": h[0],
                                          "value": found[1] if found and found[0] == h[1] else None}}
            if path.startswith("/api/v1/keys/") and method == "GET":
                return self.keys.read(urllib.parse.unquote(path[len("/api/v1/keys/"):]))
            if path == "/api/v1/keys" and method == "GET":
                return self.keys.list(query)
            if path.startswith("/api/v1/registers/") and method == "GET":
                key = urllib.parse.unquote(path[len("/api/v1/registers/"):])
                if key not in self.registers:
                    return self._err(404, "NOT_FOUND", "no register %s" % key)
                v, val = self.registers[key]
                return 200, {"key": key, "version": v, "value": val}
            sid = body.get("session") if isinstance(body, dict) else None
            s = self.sessions.get(sid)
            if s is None or not s["alive"]:
                return self._err(410, "SESSION_EXPIRED", "session %s is gone" % sid)
            rid = body.get("requestId")
            if rid in s["memory"]:
                return s["memory"][rid]
        answer = self._write(nid, path, body, s)
        if answer[0] != 503:
            with self.cond:
                s["memory"][rid] = answer
        return answer

    def _write(self, nid, path, body, s):
        sid = body["session"]
        with self.cond:
            if path == "/api/v1/acquire":
                name = body["name"]
                if not name or "//" in name:
                    return self._err(400, "INVALID_ARGUMENT", "bad name %r" % name)
                end = time.monotonic() + body.get("waitMillis", 0) / 1000.0
                queued = False
                while name in self.holders:
                    if not s["alive"]:  # the session ended while it waited
                        return self._err(410, "SESSION_EXPIRED", "session %s is gone" % sid)
                    if self.leader != nid and not self.followers_serve:  # stopped leading meanwhile
                        return self._err(503, "NOT_LEADER", "%s no longer leads" % nid,
                                         leader=self.leader)
                    left = end - time.monotonic()
                    if left <= 0:
                        if queued:
                            self._change({"type": "waitEnded", "name": name, "sessionId": sid,
                                          "mode": "exclusive", "cause": "timedOut"})
                        return self._err(409, "TIMEOUT", "%s was not granted" % name)
                    if not queued:
                        queued = True
                        self._change({"type": "queued", "name": name, "sessionId": sid,
                                      "mode": "exclusive"})
                    self.cond.wait(min(left, 0.1))
                self.next_token += 1
                self.holders[name] = (sid, self.next_token)
                self._change({"type": "acquired", "name": name, "sessionId": sid,
                              "token": self.next_token, "mode": "exclusive"})
                return 200, {"name": name, "granted": True, "token": self.next_token,
                             "requestId": body["requestId"]}
            if path in ("/api/v1/release", "/api/v1/renew"):
                h = self.holders.get(body["name"])
                if h != (sid, body["token"]):
                    return self._err(409, "NOT_OWNER", "not held")
                if path == "/api/v1/release":
                    del self.holders[body["name"]]
                    self._change({"type": "released", "name": body["name"], "sessionId": sid,
                                  "token": body["token"], "mode": "exclusive",
                                  "cause": "released"})
                    self.cond.notify_all()
                    return 200, {"name": body["name"], "released": True}
                return 200, {"name": body["name"], "renewed": True}
            if path == "/api/v1/registers/set":
                v, _ = self.registers.get(body["key"], (0, None))
                if v != body["expectedVersion"] or body["key"] in self.refuse_keys:
                    return self._err(409, "CONFLICT", "%s is at version %d, not %d"
                                     % (body["key"], v, body["expectedVersion"]), currentVersion=v)
                if "fenceName" in body:
                    h = self.holders.get(body["fenceName"])
                    if h != (sid, body["fenceToken"]):
                        return self._err(409, "NOT_OWNER", "fence is not current")
                self.registers[body["key"]] = (v + 1, body["value"])
                self._change({"type": "registerSet", "name": body["key"], "sessionId": sid,
                              "version": v + 1, "value": body["value"]})
                return 200, {"key": body["key"], "version": v + 1}
            if path.startswith("/api/v1/keys/") or path == "/api/v1/txn":
                return self.keys.write(path, body, sid)
            if path == "/api/v1/cancel":
                return 200, {"name": body["name"], "cancelled": True}
        return self._err(404, "NOT_FOUND", "no route %s" % path)

    def _lock_info(self, name):
        h = self.holders.get(name)
        if h is None:
            return None
        return {"name": name, "semaphore": False, "maxPermits": 1, "waiters": [],
                "holders": [{"sessionId": h[0], "clientName": "fake", "mode": "exclusive",
                             "permits": 1, "token": h[1], "holdCount": 1}]}

    def _watch(self, nid, query):
        kinds = [k for k in ("lock", "prefix", "register", "keys") if k in query]
        if len(kinds) != 1:
            return self._err(400, "INVALID_ARGUMENT", "exactly one of lock, prefix, register")
        kind, name = kinds[0], query[kinds[0]]
        if kind not in ("prefix", "keys") and (not name or ".." in name.split("/")):
            return self._err(400, "INVALID_ARGUMENT", "bad name %r" % name)
        if kind == "lock" and name.startswith("secret/"):
            return self._err(403, "PERMISSION_DENIED", "may not read %s" % name)

        def concerns(ev):
            if ev["type"] == "_snapshot":
                return False
            if kind == "register":
                return ev["type"] == "registerSet" and ev["name"] == name
            if kind == "keys":
                return ev["type"].startswith("register") and ev["name"].startswith(name)
            if ev["type"] in ("registerSet", "registerDeleted"):
                return False
            return ev["name"] == name if kind == "lock" else ev["name"].startswith(name)

        wait = int(query.get("waitMillis", "20000")) / 1000.0
        end = time.monotonic() + wait
        with self.cond:
            after = query.get("after")
            if after is not None:
                if not after.endswith(".0") or not after[:-2].isdigit():
                    return self._err(400, "INVALID_ARGUMENT", "bad position %r" % after)
                after = int(after[:-2])
            while True:
                nxt = "%d.0" % len(self.changes)
                if after is None or after < self.changes_from:
                    answer = {"watch": kind, "name": name, "gap": True, "next": nxt, "events": []}
                    if kind == "keys":
                        answer["keys"] = [dict(self.keys.store[k]) for k in sorted(self.keys.store)
                                          if k.startswith(name)]
                        cut = self.keys.state_limit  # a state cut to fit a frame, as the server's
                        if cut is not None and len(answer["keys"]) > cut:
                            answer["keys"], answer["more"] = answer["keys"][:cut], True
                    elif kind == "register":
                        v, val = self.registers.get(name, (0, None))
                        answer["register"] = {"key": name, "version": v, "value": val}
                    else:
                        answer["locks"] = [self._lock_info(n) for n in sorted(self.holders)
                                           if (n == name if kind == "lock" else n.startswith(name))]
                    return 200, answer
                if nid in self.down:
                    return None, None
                evs = [e for e in self.changes[after:] if concerns(e)]
                left = end - time.monotonic()
                if evs or left <= 0:
                    return 200, {"watch": kind, "name": name, "gap": False, "next": nxt,
                                 "events": evs}
                self.cond.wait(min(left, 0.2))

    def _events(self, sid, query):
        wait = int(query.get("waitMillis", "20000")) / 1000.0
        after = int(query.get("after", "0"))
        end = time.monotonic() + wait
        with self.cond:
            while True:
                s = self.sessions.get(sid)
                if s is None:
                    return self._err(410, "SESSION_EXPIRED", "no session")
                if sid in self.gap_next:
                    self.gap_next.discard(sid)
                    holds = [{"name": n, "token": h[1], "mode": "exclusive", "permits": 1}
                             for n, h in self.holders.items() if h[0] == sid]
                    return 200, {"sessionId": sid, "gap": True, "events": [],
                                 "next": str(len(s["events"])),
                                 "state": {"exists": s["alive"], "holds": holds, "waits": []}}
                evs = s["events"][after:]
                left = end - time.monotonic()
                if evs or left <= 0:
                    return 200, {"sessionId": sid, "events": evs,
                                 "next": str(len(s["events"])), "gap": False}
                self.cond.wait(min(left, 0.2))


class FakeClusterCase(unittest.TestCase):
    """A test case against a fake cluster of ``MEMBERS`` members (``self.cluster``), started
    before each test and stopped after it; :meth:`new_client` opens a client on it that is closed
    after the test, before the cluster stops."""

    MEMBERS = 1

    def setUp(self):
        self.cluster = Cluster(self.MEMBERS)
        self.addCleanup(self.cluster.stop)

    def new_client(self, **options):
        """A client of every member (request timeout 1 s, TTL 3 s unless ``options`` say else)."""
        options = dict({"request_timeout": 1.0, "ttl": 3.0}, **options)
        c = holdfast.Client(self.cluster.urls(), **options)
        self.addCleanup(c.close)
        return c
