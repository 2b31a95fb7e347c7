"""Service registry: register an instance under the session, list and watch the group, print
joins and leaves (docs/service-discovery.md; the same program is in Node, Go and Java).

    python3 clients/python/examples/service_registry.py SERVICE [INSTANCE ADDRESS]

With INSTANCE and ADDRESS it registers ``services/SERVICE/INSTANCE`` = ADDRESS, attached to its
session, so the entry goes when the process dies (after the session's TTL: HOLDFAST_TTL_MS,
default 10000). It prints ``member I A`` per instance listed, ``ready``, then ``join I A`` and
``leave I CAUSE`` as the group changes, until killed. HOLDFAST_MEMBERS: the servers' HTTP addresses.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import holdfast  # noqa: E402


def main(argv):
    if len(argv) not in (1, 3):
        sys.exit("usage: service_registry.py SERVICE [INSTANCE ADDRESS]")
    members = os.environ.get("HOLDFAST_MEMBERS", "http://127.0.0.1:4655").split(",")
    ttl = int(os.environ.get("HOLDFAST_TTL_MS", "10000")) / 1000.0
    with holdfast.Client(members, ttl=ttl, client_name="service-registry") as client:
        group = client.keys.group("services/" + argv[0])          # keys services/SERVICE/<instance>
        if len(argv) == 3:
            group.join(argv[1], argv[2])                           # attached: gone with the session
        known = {}
        for instance, address in sorted(group.members().items()):  # the listing
            known[instance] = address.decode()
            print("member", instance, known[instance], flush=True)
        print("ready", flush=True)
        with group.watch() as watch:                               # state, then every change
            for event in watch:
                instance = group.member(event.name)
                if event.type == "state":                          # first, and after a gap
                    now = {group.member(k.key): k.text for k in event.keys}
                    for gone in sorted(set(known) - set(now)):
                        print("leave", gone, "unknown", flush=True)
                    for new in sorted(set(now) - set(known)):
                        print("join", new, now[new], flush=True)
                    known = now
                elif event.type == "registerSet" and instance not in known:
                    known[instance] = event.value.decode()
                    print("join", instance, known[instance], flush=True)
                elif event.type == "registerDeleted" and known.pop(instance, None) is not None:
                    print("leave", instance, event.cause or "deleted", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
