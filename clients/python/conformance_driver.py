#!/usr/bin/env python3
"""Conformance driver for the Python client (clients/CONFORMANCE.md).

Reads one JSON command per line on standard input, runs each on its own thread (a waiting
acquire never holds up the commands after it), and writes one JSON line per answer, plus a
``{"event":"lost",...}`` line whenever a lease's loss callback fires and a
``{"event":"watch",...}`` line per event of a watch it runs. Standard output carries nothing else
and is flushed after every line; logs go to standard error.
"""

import json
import logging
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import holdfast  # noqa: E402
from holdfast.errors import HoldfastError  # noqa: E402

_out_lock = threading.Lock()
_state_lock = threading.Lock()
_clients = {}  # driver client name -> holdfast.Client
_handles = {}  # handle -> Lease or LeaseSet
_leaderships = {}  # handle -> Leadership
_watches = {}  # watch name -> (Watch, kind)


def emit(obj):
    line = json.dumps(obj, separators=(",", ":")) + "\n"
    with _out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


class BadCommand(Exception):
    pass


def need(cmd, field):
    if field not in cmd or cmd[field] is None:
        raise BadCommand("missing field %r" % field)
    return cmd[field]


def _known(table, key, what):
    """The entry ``key`` of one of the driver's tables; a command naming none is refused."""
    with _state_lock:
        found = table.get(key)
    if found is None:
        raise BadCommand("no %s %r" % (what, key))
    return found


def client_of(cmd):
    return _known(_clients, need(cmd, "client"), "open client")


def handle_of(cmd, field="handle"):
    return _known(_handles, need(cmd, field), "lease handle")


def on_lost_line(handle):
    def callback(lease, reason):
        emit({"event": "lost", "handle": handle, "token": lease.fencing_token, "reason": reason})
    return callback


class SessionLines(holdfast.SessionListener):
    """Writes a line for each loss and renewal of a client's session (``sessionEvents``)."""

    def __init__(self, name):
        self.name = name

    def lost(self, old_id, cause):
        emit({"event": "session", "client": self.name, "type": "lost", "sessionId": old_id,
              "cause": cause.message})

    def reestablished(self, new_id):
        emit({"event": "session", "client": self.name, "type": "reestablished",
              "sessionId": new_id})


def op_open(cmd):
    kwargs = {}
    if cmd.get("ttlMillis"):
        kwargs["ttl"] = cmd["ttlMillis"] / 1000.0
    if cmd.get("clientName"):
        kwargs["client_name"] = cmd["clientName"]
    if cmd.get("requestTimeoutMillis"):
        kwargs["request_timeout"] = cmd["requestTimeoutMillis"] / 1000.0
    if cmd.get("token"):
        kwargs["token"] = cmd["token"]
    if cmd.get("renewSessions") is not None:
        kwargs["renew_sessions"] = bool(cmd["renewSessions"])
    name = need(cmd, "client")
    c = holdfast.Client(need(cmd, "members"), **kwargs)
    if cmd.get("sessionEvents"):
        c.on_session(SessionLines(name))
    with _state_lock:
        old = _clients.get(name)
        _clients[name] = c
    if old is not None:
        old.close()
    return {"sessionId": c.session_id}


def op_acquire(cmd):
    c = client_of(cmd)
    handle = need(cmd, "handle")
    mode = cmd.get("mode") or "exclusive"
    kwargs = {"wait": (cmd.get("waitMillis") or 0) / 1000.0,
              "lease_timeout": (cmd.get("leaseMillis") or 0) / 1000.0 or None,
              "mode": mode}
    if mode == "permits":
        kwargs["permits"] = cmd.get("permits") if cmd.get("permits") is not None else 1
        kwargs["max_permits"] = cmd.get("maxPermits")
    lease = c.acquire(need(cmd, "name"), **kwargs)
    with _state_lock:
        _handles[handle] = lease
    lease.on_lost(on_lost_line(handle))
    return {"token": lease.fencing_token}


def op_acquire_all(cmd):
    c = client_of(cmd)
    handle = need(cmd, "handle")
    mode = cmd.get("mode") or "exclusive"
    if mode not in ("exclusive", "shared"):
        raise holdfast.InvalidArgument("holdfast: acquire_all takes exclusive or shared, not %r" % mode)
    leases = c.acquire_all(need(cmd, "names"), wait=(cmd.get("waitMillis") or 0) / 1000.0,
                           lease_timeout=(cmd.get("leaseMillis") or 0) / 1000.0 or None,
                           shared=(mode == "shared"))
    with _state_lock:
        _handles[handle] = leases
    leases.on_lost(on_lost_line(handle))
    return {"tokens": leases.tokens}


def op_release(cmd):
    handle_of(cmd).release()
    return {}


def op_is_valid(cmd):
    return {"valid": handle_of(cmd).valid}


def op_register_get(cmd):
    version, value = client_of(cmd).register(need(cmd, "key")).get()
    return {"version": version,
            "value": value.decode("utf-8", "replace") if value is not None else None}


def op_register_set(cmd):
    c = client_of(cmd)
    fence = None
    if cmd.get("fenceHandle"):
        fence = single_lease(handle_of(cmd, "fenceHandle"), cmd["fenceHandle"])
    value = cmd.get("value")
    version = c.register(need(cmd, "key")).compare_and_set(
        need(cmd, "expectedVersion"), value if value is not None else "", fence=fence)
    return {"version": version}


def op_fence_check(cmd):
    return {"current": client_of(cmd).is_current(need(cmd, "name"), need(cmd, "token"))}


def text(value):
    return value.decode("utf-8", "replace") if value is not None else None


def key_line(e):
    return {"key": e.key, "version": e.version, "value": text(e.value), "owner": e.owner}


def op_key_get(cmd):
    e = client_of(cmd).keys.get(need(cmd, "key"))
    return key_line(e) if e is not None else {"version": 0, "value": None, "owner": None}


def op_key_put(cmd):
    version = client_of(cmd).keys.put(
        need(cmd, "key"), cmd.get("value") or "",
        expected_version=cmd.get("expectedVersion", holdfast.ANY_VERSION),
        attach=bool(cmd.get("attach")), ttl=(cmd.get("ttlMillis") or 0) / 1000.0,
        lease=cmd.get("lease"))
    return {"version": version}


def op_key_delete(cmd):
    return {"version": client_of(cmd).keys.delete(
        need(cmd, "key"), expected_version=cmd.get("expectedVersion", holdfast.ANY_VERSION))}


def op_key_add(cmd):
    return {"value": client_of(cmd).keys.add(need(cmd, "key"), need(cmd, "delta"))}


def op_group_join(cmd):
    group = client_of(cmd).keys.group(need(cmd, "group"))
    return {"version": group.join(need(cmd, "member"), cmd.get("value") or "")}


def op_group_leave(cmd):
    return {"left": client_of(cmd).keys.group(need(cmd, "group")).leave(need(cmd, "member"))}


def op_key_list(cmd):
    page = client_of(cmd).keys.list(cmd.get("prefix") or "", after=cmd.get("after") or "",
                                    limit=cmd.get("limit") or 1000)
    return {"keys": [key_line(e) for e in page.entries], "more": page.more,
            "position": page.position}


def op_key_delete_prefix(cmd):
    return {"deleted": client_of(cmd).keys.delete_prefix(cmd.get("prefix") or "")}


def txn_compare(c):
    t = need(c, "type")
    if t == "version":
        return holdfast.txn.version(need(c, "key"), need(c, "order"), need(c, "version"))
    if t == "value":
        return holdfast.txn.value(need(c, "key"), need(c, "value"))
    if t == "absent":
        return holdfast.txn.absent(need(c, "key"))
    if t == "fence":
        return holdfast.txn.fence(single_lease(handle_of(c, "handle"), c["handle"]))
    if t == "holder":
        return holdfast.txn.holder(need(c, "lock"), need(c, "sessionId"))
    if t == "sessionAlive":
        return holdfast.txn.session_alive(need(c, "sessionId"))
    raise BadCommand("unknown compare %r" % t)


def txn_op(o):
    t, key = need(o, "type"), need(o, "key")
    if t == "put":
        return holdfast.txn.put(key, o.get("value") or "",
                                expected_version=o.get("expectedVersion", holdfast.ANY_VERSION),
                                attach=bool(o.get("attach")), ttl=(o.get("ttlMillis") or 0) / 1000.0,
                                lease=o.get("lease"))
    if t == "delete":
        return holdfast.txn.delete(key, expected_version=o.get("expectedVersion",
                                                               holdfast.ANY_VERSION))
    if t == "add":
        return holdfast.txn.add(key, need(o, "delta"))
    if t == "get":
        return holdfast.txn.get(key)
    raise BadCommand("unknown op %r" % t)


def op_txn(cmd):
    t = holdfast.Txn.when(*[txn_compare(c) for c in cmd.get("compares") or []]) \
        .then(*[txn_op(o) for o in cmd.get("then") or []]) \
        .otherwise(*[txn_op(o) for o in cmd.get("otherwise") or []])
    r = client_of(cmd).keys.commit(t)
    return {"succeeded": r.succeeded,
            "results": [{"version": x.version, "value": text(x.value), "counter": x.counter}
                        for x in r.results]}


def single_lease(fence, name):
    if isinstance(fence, holdfast.LeaseSet):
        if len(fence) != 1:
            raise BadCommand("fenceHandle %r names several leases" % name)
        fence = next(iter(fence))
    return fence


def watch_line(watch, kind, e):
    line = {"event": "watch", "watch": watch, "type": e.type, "name": e.name,
            "position": e.position}
    for field, value in (("sessionId", e.session_id), ("token", e.token), ("mode", e.mode),
                         ("cause", e.cause)):
        if value:
            line[field] = value
    if e.type == "registerSet" or (e.type == "state" and kind == "register"):
        line["version"] = e.version
        line["value"] = text(e.value)
    elif e.type == "registerDeleted":
        line["version"] = e.version
    elif e.type == "state" and kind == "keys":
        line["keys"] = [key_line(k) for k in e.keys]
    elif e.type == "state":
        line["locks"] = [{"name": l.name, "holders": [h.token for h in l.holders],
                          "waiters": len(l.waiters)} for l in e.locks]
    return line


def op_watch(cmd):
    c = client_of(cmd)
    name = need(cmd, "watch")
    kinds = [k for k in ("lock", "prefix", "register", "keys") if cmd.get(k) is not None]
    if len(kinds) != 1:
        raise BadCommand("a watch names exactly one of lock, prefix, register, keys")
    kind = kinds[0]
    w = c.watch(**{kind: cmd[kind]})
    first = w.next_event(30.0)  # raises the error of a refused watch
    if first is None:
        w.close()
        raise holdfast.Unavailable("holdfast: the watch told no state within 30 s")
    emit(watch_line(name, kind, first))
    with _state_lock:
        old = _watches.get(name)
        _watches[name] = w
    if old is not None:
        old.close()

    def follow():
        try:
            for e in w:
                emit(watch_line(name, kind, e))
        except HoldfastError as e:
            emit({"event": "watchEnded", "watch": name, "error": e.code, "message": e.message})

    threading.Thread(target=follow, daemon=True, name="watch-%s" % name).start()
    return {}


def op_unwatch(cmd):
    with _state_lock:
        w = _watches.pop(need(cmd, "watch"), None)
    if w is None:
        raise BadCommand("no watch %r" % cmd["watch"])
    w.close()
    return {}


def op_campaign(cmd):
    c = client_of(cmd)
    handle = need(cmd, "handle")
    leading = c.election(need(cmd, "name")).campaign(
        cmd.get("value") if cmd.get("value") is not None else "",
        wait=(cmd.get("waitMillis") or 0) / 1000.0,
        lease_timeout=(cmd.get("leaseMillis") or 0) / 1000.0 or None)
    with _state_lock:
        _handles[handle] = leading.lease
        _leaderships[handle] = leading
    leading.lease.on_lost(on_lost_line(handle))
    return {"epoch": leading.epoch}


def op_resign(cmd):
    leading = _known(_leaderships, need(cmd, "handle"), "leadership")
    leading.resign()
    return {}


def op_leader(cmd):
    leader = client_of(cmd).election(need(cmd, "name")).leader()
    if leader is None:
        return {"epoch": 0, "value": None}
    return {"epoch": leader.epoch, "value": leader.value}


def op_close(cmd):
    client_of(cmd).close()
    return {}


OPS = {
    "open": op_open,
    "acquire": op_acquire,
    "acquireAll": op_acquire_all,
    "release": op_release,
    "isValid": op_is_valid,
    "registerGet": op_register_get,
    "registerSet": op_register_set,
    "fenceCheck": op_fence_check,
    "close": op_close,
    "watch": op_watch,
    "unwatch": op_unwatch,
    "campaign": op_campaign,
    "resign": op_resign,
    "leader": op_leader,
    "keyGet": op_key_get,
    "keyPut": op_key_put,
    "keyDelete": op_key_delete,
    "keyAdd": op_key_add,
    "keyList": op_key_list,
    "keyDeletePrefix": op_key_delete_prefix,
    "txn": op_txn,
    "groupJoin": op_group_join,
    "groupLeave": op_group_leave,
}


def run(cmd):
    cid = cmd.get("id")
    try:
        fn = OPS.get(cmd.get("op"))
        if fn is None:
            raise BadCommand("unknown op %r" % cmd.get("op"))
        answer = {"id": cid, "ok": True}
        answer.update(fn(cmd))
    except HoldfastError as e:
        answer = {"id": cid, "ok": False, "error": e.code, "message": e.message}
    except (BadCommand, TypeError, ValueError, KeyError) as e:
        answer = {"id": cid, "ok": False, "error": "INVALID_ARGUMENT",
                  "message": "driver: %s" % (" ".join(str(e).split()) or type(e).__name__)}
    except Exception as e:  # never die on one command
        logging.exception("driver: command %r failed", cmd)
        answer = {"id": cid, "ok": False, "error": "UNAVAILABLE",
                  "message": "driver: %s: %s" % (type(e).__name__, " ".join(str(e).split()))}
    emit(answer)


def close_all():
    with _state_lock:
        clients = list(_clients.values())
        watches = list(_watches.values())
        _watches.clear()
    for w in watches:
        w.close()
    threads = [threading.Thread(target=c.close, daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)


def main():
    logging.basicConfig(stream=sys.stderr, level=os.environ.get("HOLDFAST_LOG", "WARNING"),
                        format="%(asctime)s %(threadName)s %(message)s")
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise ValueError("a command is a JSON object")
        except ValueError as e:
            emit({"id": None, "ok": False, "error": "INVALID_ARGUMENT",
                  "message": "driver: cannot read the line: %s" % " ".join(str(e).split())})
            continue
        if cmd.get("op") == "exit":
            close_all()
            emit({"id": cmd.get("id"), "ok": True})
            os._exit(0)
        threading.Thread(target=run, args=(cmd,), daemon=True, name="cmd-%s" % cmd.get("id")).start()
    close_all()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
