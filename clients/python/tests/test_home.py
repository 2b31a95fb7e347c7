"""The client's home member (protocol.md, "Members and the leader"): picked at random among the
members given (``calls="first"``: the first one listed), kept while it serves, even a follower,
and left only when it fails the client."""

import random
import time
import unittest

import holdfast
from holdfast import errors
from holdfast._transport import Transport

from .fakecluster import Cluster


class Picks:
    """A random source that picks ``index`` (``randrange(n)``), and notes each ``n`` asked."""

    def __init__(self, index):
        self.index = index
        self.asked = []

    def randrange(self, n):
        self.asked.append(n)
        return self.index


class Script:
    """A random source that picks each of ``picks`` in turn (``randrange(n)``), and notes each ``n``
    asked."""

    def __init__(self, *picks):
        self.picks = list(picks)
        self.asked = []

    def randrange(self, n):
        self.asked.append(n)
        return self.picks.pop(0)


class HomeTest(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(3)
        self.addCleanup(self.cluster.stop)
        self.cluster.followers_serve = True  # every member serves sessions; n1 leads

    def client(self, **options):
        c = holdfast.Client(self.cluster.urls(), request_timeout=1.0, ttl=3.0, **options)
        self.addCleanup(c.close)
        return c

    def nodes(self):
        """The node of each request but /status, in order."""
        return [e[0] for e in list(self.cluster.log) if e[2] != "/status"]

    def test_the_home_is_picked_at_random(self):
        picks = Picks(2)
        c = self.client(rng=picks)
        self.assertEqual(picks.asked, [3], "one pick among the three members")
        self.assertEqual(self.cluster.requests("/api/v1/sessions")[0][0], "n3")
        self.assertEqual(c._transport.home(), 2)

    def test_calls_first_sends_to_the_first_member_listed(self):
        self.cluster.leader = "n2"
        picks = Picks(2)
        c = self.client(calls="first", rng=picks)
        c.acquire("home/first").release()
        self.assertEqual(picks.asked, [], "no pick")
        self.assertEqual(set(self.nodes()), {"n1"})
        self.assertEqual(c._transport.home(), 0)

    def test_a_bad_calls_value_is_refused(self):
        for bad in ("leader", "First", "", None):
            with self.assertRaises(errors.InvalidArgument) as raised:
                holdfast.Client(self.cluster.urls(), calls=bad)
            message = str(raised.exception)
            self.assertIn(repr(bad), message)
            self.assertNotIn("\n", message)
        self.assertEqual(self.cluster.log, [], "nothing sent")

    def test_the_home_stays_at_a_follower_that_serves(self):
        c = self.client(rng=Picks(1))  # n2 follows n1
        lease = c.acquire("home/follower", wait=1)
        self.assertTrue(c.is_current("home/follower", lease.fencing_token))
        c.register("home/reg").compare_and_set(0, b"x")
        self.assertEqual(c.register("home/reg").get(), (1, b"x"))
        lease.release()
        time.sleep(0.2)  # a heartbeat and the event stream's poll, at least
        self.assertEqual(set(self.nodes()), {"n2"}, "every request at the follower")
        self.assertEqual(c._transport.home(), 1)

    def test_a_leader_only_route_is_followed_and_the_home_stays_on_success(self):
        t = Transport(self.cluster.urls(), 1.0, rng=Picks(2))
        a = t.call("GET", "/api/v1/members", http_timeout=1.0, deadline=time.monotonic() + 5)
        self.assertEqual((a.status, a.member), (200, self.cluster.url("n1")))
        self.assertEqual(t.home(), 0, "a member that does not serve named the leader")
        a = t.call("POST", "/api/v1/sessions", {"sessionId": "s" * 22, "ttlMillis": 3000},
                   http_timeout=1.0, deadline=time.monotonic() + 5)
        self.assertEqual(a.status, 201)
        t2 = Transport(self.cluster.urls(), 1.0, rng=Picks(2))
        t2.call("POST", "/api/v1/sessions/%s/keepalive" % ("s" * 22), {}, http_timeout=1.0,
                deadline=time.monotonic() + 5)
        self.assertEqual(t2.home(), 2, "a call answered at the follower leaves the home there")

    def test_the_home_moves_on_a_network_error(self):
        self.cluster.down.add("n2")  # closes every connection without an answer
        picks = Picks(1)
        c = self.client(rng=picks)
        opens = self.cluster.requests("/api/v1/sessions")
        self.assertEqual([e[0] for e in opens], ["n2", "n1"])
        self.assertEqual(picks.asked, [3, 2], "the first home, then one of the two others")
        self.assertEqual(c._transport.home(), 0, "the second of the others, counted on from n3")
        self.cluster.down.clear()
        c.acquire("home/moved").release()
        self.assertEqual({e[0] for e in self.cluster.requests("/api/v1/acquire")}, {"n1"},
                         "it stays at its new home once the old one is back")

    def test_a_home_that_fails_moves_to_the_member_picked_among_the_others(self):
        self.cluster.down.add("n2")
        # the others counted on from the one after the home: pick 0 is n3, pick 1 is n1
        for pick, moved in ((0, 2), (1, 0)):
            script = Script(1, pick)  # the home n2, then one of the others: n3 or n1
            t = Transport(self.cluster.urls(), 1.0, rng=script)
            self.cluster.log.clear()
            a = t.call("GET", "/api/v1/fence?name=x&token=1", None, http_timeout=1.0, deadline=time.monotonic() + 5)
            self.assertEqual(a.status, 200)
            self.assertEqual(self.nodes(), ["n2", "n%d" % (moved + 1)], "pick %d" % pick)
            self.assertEqual(t.home(), moved, "pick %d" % pick)
            self.assertEqual(script.asked, [3, 2], "one pick among the two others")

    def test_a_home_that_fails_never_stays_and_its_clients_spread_over_the_others(self):
        t = Transport(self.cluster.urls(), 1.0, rng=random.Random(11))
        moves = set()
        for _ in range(200):
            before = t.home()
            after = t.rotate(before)
            self.assertNotEqual(after, before)
            moves.add((before, after))
        # from each member, to each of the two others (one of them unseen in 200 moves: under 1e-9)
        self.assertEqual(moves, {(a, b) for a in range(3) for b in range(3) if a != b})
        self.assertEqual(t.rotate((t.home() + 1) % 3), t.home(), "a member that is not the home: no move")

    def test_calls_first_moves_a_home_that_fails_to_the_next_member_listed(self):
        self.cluster.down.add("n1")
        c = self.client(calls="first")
        self.assertEqual(c._transport.home(), 1, "home 0 failed: the next one listed")
        self.cluster.down = {"n2"}
        self.cluster.log.clear()
        c.acquire("home/first-moved").release()
        self.assertEqual([e[0] for e in self.cluster.requests("/api/v1/acquire")], ["n2", "n3"])
        self.assertEqual(c._transport.home(), 2, "home 1 failed: the next one listed")
        self.cluster.down = {"n3"}
        self.cluster.log.clear()
        c.acquire("home/first-moved-again").release()
        self.assertEqual([e[0] for e in self.cluster.requests("/api/v1/acquire")], ["n3", "n1"])
        self.assertEqual(c._transport.home(), 0, "home 2, the last, failed: the first one")

    def test_calls_first_walks_the_list_when_members_fail_in_turn(self):
        # four members; member 0 fails, then member 1: the home goes on to member 2, not back to 0
        t = Transport(["http://a:1", "http://b:1", "http://c:1", "http://d:1"], 1.0, calls="first")
        self.assertEqual(t.home(), 0)
        self.assertEqual(t.rotate(0), 1, "home 0 failed: the next one listed")
        self.assertEqual(t.rotate(1), 2, "home 1 failed: the next one listed, not back to 0")
        self.assertEqual(t.rotate(2), 3, "home 2 failed")
        self.assertEqual(t.rotate(3), 0, "home 3, the last, failed: the first one")

    def test_a_call_still_tries_every_member_once_a_round_wherever_the_home_moves(self):
        self.cluster.down = {"n1", "n2", "n3"}
        for calls, rng in (("first", None), ("home", random.Random(5))):
            t = Transport(self.cluster.urls(), 0.5, calls=calls, rng=rng)
            self.cluster.log.clear()
            with self.assertRaises(errors.Unavailable):
                t.call("GET", "/api/v1/fence?name=x&token=1", None, http_timeout=0.5, deadline=time.monotonic() + 1.0)
            tries = self.nodes()
            rounds = [tries[i:i + 3] for i in range(0, len(tries) - len(tries) % 3, 3)]
            self.assertGreaterEqual(len(rounds), 2, tries)
            for r in rounds:
                self.assertEqual(sorted(r), ["n1", "n2", "n3"], "%s: rounds %s" % (calls, rounds))

    def test_a_fleet_spreads_over_the_members(self):
        homes = {Transport(self.cluster.urls(), 1.0).home() for _ in range(40)}
        self.assertEqual(homes, {0, 1, 2})  # all 40 on two members: 3 * (2/3)**40, under 1e-6

    def test_a_seeded_random_source_picks_the_same_home(self):
        homes = [Transport(self.cluster.urls(), 1.0, rng=random.Random(7)).home() for _ in range(3)]
        self.assertEqual(len(set(homes)), 1)
        self.assertEqual(homes[0], random.Random(7).randrange(3))


if __name__ == "__main__":
    unittest.main()
