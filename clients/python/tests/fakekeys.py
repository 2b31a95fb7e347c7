"""Keys in the in-process imitation of the protocol (tests/fakecluster.py): get, list, put,
delete, add and transactions (compares on version, value and absence), attached keys deleted when
their session ends, and their changes in the watch record. The cluster holds its lock (``cond``)
around every call."""

import base64
import struct


class FakeKeys:
    def __init__(self, cluster):
        self.cluster = cluster
        self.store = {}  # key -> {"key","version","value","owner"}
        self.quota = 10000  # keys attached to one session
        self.state_limit = None  # the most keys of a watch's state ("more" beyond); None: all

    def read(self, key):
        e = self.store.get(key)
        if e is None:
            return self.cluster._err(404, "NOT_FOUND", "no key %s" % key)
        return 200, dict(e)

    def list(self, query):
        prefix, after = query.get("prefix", ""), query.get("after", "")
        limit = int(query.get("limit", "1000"))
        names = [k for k in sorted(self.store) if k.startswith(prefix) and k > after]
        keys = [dict(self.store[k]) for k in names[:limit]]
        if query.get("keysOnly") == "true":
            keys = [dict(k, value="") for k in keys]
        return 200, {"keys": keys,
                     "more": len(names) > limit, "position": "%d.0" % len(self.cluster.changes)}

    def write(self, path, body, sid):
        if path == "/api/v1/txn":
            return self._txn(body, sid)
        if path == "/api/v1/keys/delete-prefix":
            return self._delete_prefix(body, sid)
        op = dict(body, type=path.rsplit("/", 1)[1])
        err = self._refused(op)
        if err:
            return err
        return 200, dict(self._apply(op, sid), key=body["key"])

    def _delete_prefix(self, body, sid):
        prefix, limit = body.get("prefix") or "", body.get("limit", 1000)
        if not prefix:
            return self.cluster._err(400, "INVALID_ARGUMENT", "a prefix delete needs a prefix:"
                                     " deleting every key at once is not offered")
        names = [k for k in sorted(self.store) if k.startswith(prefix)][:limit]
        for k in names:
            self._delete(k, sid, None)
        return 200, {"prefix": prefix, "deleted": len(names), "more": len(names) == limit}

    def end_session(self, sid, cause):
        """Deletes the keys attached to ``sid`` with ``cause``, as the session's end does."""
        for k in [k for k, e in self.store.items() if e["owner"] == sid]:
            self._delete(k, sid, cause)

    def _refused(self, op):
        v = self.store.get(op["key"], {}).get("version", 0)
        expected = op.get("expectedVersion", -1)
        if op["type"] in ("put", "delete") and expected not in (-1, v):
            return self.cluster._err(409, "CONFLICT", "%s is at version %d, not %d"
                                     % (op["key"], v, expected), currentVersion=v)
        if op.get("attach") and sum(1 for e in self.store.values()
                                    if e["owner"] == op.get("session")) >= self.quota:
            return self.cluster._err(429, "QUOTA_EXCEEDED", "the session has %d keys; the limit"
                                     " is %d" % (self.quota, self.quota))
        held = len(base64.b64decode(self.store[op["key"]]["value"])) if op["key"] in self.store else 8
        if op["type"] == "add" and held != 8:
            return self.cluster._err(400, "INVALID_ARGUMENT", "%s holds %d bytes, not a counter"
                                     " (exactly 8 bytes)" % (op["key"], held))
        return None

    def _apply(self, op, sid):
        key = op["key"]
        old = self.store.get(key)
        v = old["version"] if old else 0
        if op["type"] == "get":
            return {"version": v, "value": old["value"]} if old else {"version": 0}
        if op["type"] == "delete":
            if old:
                self._delete(key, sid, None)
            return {"version": v}
        if op["type"] == "add":
            n = (struct.unpack(">q", base64.b64decode(old["value"]))[0] if old else 0) + op["delta"]
            value, owner = base64.b64encode(struct.pack(">q", n)).decode(), old and old["owner"]
        else:
            keeps = not (op.get("attach") or op.get("detach") or op.get("ttlMillis"))
            value = op["value"]
            owner = (old and old["owner"]) if keeps else sid if op.get("attach") else None
        self.store[key] = {"key": key, "version": v + 1, "value": value, "owner": owner}
        self.cluster._change({"type": "registerSet", "name": key, "sessionId": sid,
                              "version": v + 1, "value": value})
        if op["type"] == "add":
            return {"version": v + 1, "value": n, "counter": n}
        return {"version": v + 1}

    def _delete(self, key, sid, cause):
        e = self.store.pop(key)
        ev = {"type": "registerDeleted", "name": key, "sessionId": sid, "version": e["version"]}
        if cause:
            ev["cause"] = cause
        self.cluster._change(ev)

    def _holds(self, c):
        e = self.store.get(c["key"])
        v = e["version"] if e else 0
        if c["type"] == "absent":
            return e is None
        if c["type"] == "value":
            return e is not None and e["value"] == c["value"]
        return {"equal": v == c["version"], "notEqual": v != c["version"],
                "less": v < c["version"], "greater": v > c["version"]}[c["order"]]

    def _txn(self, body, sid):
        succeeded = all(self._holds(c) for c in body["compares"])
        branch = "then" if succeeded else "otherwise"
        ops = body[branch]
        for i, op in enumerate(ops):
            err = self._refused(dict(op, session=sid))
            if err:
                err[1]["error"]["message"] = "%s op %d: %s" % (branch, i + 1,
                                                               err[1]["error"]["message"])
                return err
        results = [self._apply(op, sid) for op in ops]
        for op, r in zip(ops, results):
            if op["type"] == "add":
                del r["value"]  # a transaction's add answers its counter
        return 200, {"succeeded": succeeded, "results": results}
