"""Take a lock, use its fencing token, write a fenced register, release (README's example).

Start a server first (`./holdfast server`), then: python3 clients/python/examples/lock.py
"""

import os
import sys

# From a checkout of the repository, without installing the package:
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import holdfast  # noqa: E402

members = os.environ.get("HOLDFAST_MEMBERS", "http://127.0.0.1:4655").split(",")

with holdfast.Client(members, client_name="example") as client:
    with client.lock("jobs/nightly", wait=30) as lease:
        lease.on_lost(lambda l, reason: print("lost", l.name, reason))
        print("holding", lease.name, "with fencing token", lease.fencing_token)

        # A register write that happens only while this lease is current.
        report = client.register("jobs/nightly/last-run")
        version, value = report.get()
        version = report.compare_and_set(version, b"done by token %d" % lease.fencing_token,
                                         fence=lease)
        print("wrote version", version, "->", report.get()[1].decode())

    try:
        client.acquire("jobs/nightly").release()  # free again: try-once succeeds
    except holdfast.LockTimeout as e:
        print("busy:", e)
