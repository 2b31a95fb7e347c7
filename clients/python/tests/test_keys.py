"""Keys, transactions and groups against the in-process imitation of the protocol
(tests/fakecluster.py, tests/fakekeys.py): request shapes, answers, retries, errors, watches."""

import base64
import struct

from holdfast import ANY_VERSION, Txn, errors, txn
from holdfast.keys import KeyEntry
from holdfast.watch import REGISTER_DELETED, REGISTER_SET, STATE, parse_watch_page

from .fakecluster import FakeClusterCase


class ParseKeysWatchTest(FakeClusterCase):
    def test_a_keys_gap_is_a_state_with_the_keys(self):
        page = parse_watch_page({"watch": "keys", "name": "services/", "gap": True,
                                 "next": "9.0", "events": [],
                                 "keys": [{"key": "services/a", "version": 2, "value": "eA==",
                                           "owner": "S"}]})
        [state] = page.events
        self.assertEqual(state.type, STATE)
        self.assertEqual(state.keys, [KeyEntry("services/a", 2, b"x", "S")])

    def test_a_deletion_has_its_version_and_cause(self):
        page = parse_watch_page({"name": "services/", "gap": False, "next": "10.0", "events": [
            {"type": "registerDeleted", "name": "services/a", "sessionId": "S", "version": 2,
             "cause": "sessionExpired", "position": "10.0"}]})
        [e] = page.events
        self.assertEqual((e.type, e.name, e.version, e.cause, e.value),
                         (REGISTER_DELETED, "services/a", 2, "sessionExpired", None))


class KeysAgainstFakeTest(FakeClusterCase):
    MEMBERS = 3

    def setUp(self):
        super().setUp()
        self.client = self.new_client()
        self.keys = self.client.keys

    def last(self, path):
        return self.cluster.requests(path)[-1][3]

    def test_put_get_delete_with_request_ids(self):
        self.assertEqual(self.keys.put("config/x", "on", attach=True, ttl=5), 1)
        put = self.last("/api/v1/keys/put")
        self.assertEqual((put["session"], put["key"], put["value"], put["expectedVersion"],
                          put["attach"], put["ttlMillis"]),
                         (self.client.session_id, "config/x", "b24=", -1, True, 5000))
        self.assertEqual((put["requestId"], put["ackedBelow"]), (1, 1))
        self.assertEqual(self.keys.get("config/x"),
                         KeyEntry("config/x", 1, b"on", self.client.session_id))
        self.assertEqual(self.keys.put("config/x", b"off", expected_version=1), 2)
        self.assertNotIn("attach", self.last("/api/v1/keys/put"))
        self.assertEqual(self.keys.get("config/x").owner, self.client.session_id,
                         "a put without a lifetime keeps the key's")
        self.assertEqual(self.keys.put("config/x", b"off", detach=True), 3)
        self.assertTrue(self.last("/api/v1/keys/put")["detach"])
        self.assertIsNone(self.keys.get("config/x").owner)
        with self.assertRaises(errors.InvalidArgument):
            self.keys.put("config/x", b"x", attach=True, detach=True)
        self.assertEqual(self.keys.delete("config/x", expected_version=3), 3)
        self.assertEqual(self.last("/api/v1/keys/delete")["requestId"], 4)
        self.assertIsNone(self.keys.get("config/x"))
        self.assertEqual(self.keys.delete("config/x"), 0)

    def test_a_put_on_a_lease_sends_it_with_attach_and_bad_ones_are_refused_before_sending(self):
        self.keys.put("svc/a", b"x", lease="LeaseSession0000000001")
        put = self.last("/api/v1/keys/put")
        self.assertEqual((put["lease"], put["attach"]), ("LeaseSession0000000001", True))
        for bad in ({"lease": ""}, {"lease": "LeaseSession0000000001", "detach": True},
                    {"lease": "LeaseSession0000000001", "ttl": 5}):
            with self.assertRaises(errors.InvalidArgument):
                self.keys.put("svc/b", b"x", **bad)
        self.assertEqual(len(self.cluster.requests("/api/v1/keys/put")), 1,
                         "a refused put is not sent")

    def test_a_wrong_version_is_a_conflict_with_the_current_one(self):
        self.keys.put("config/y", b"1")
        with self.assertRaises(errors.Conflict) as e:
            self.keys.put("config/y", b"2", expected_version=0)
        self.assertEqual(e.exception.current_version, 1)
        with self.assertRaises(errors.Conflict):
            self.keys.delete("config/y", expected_version=5)

    def test_bad_arguments_are_refused_before_sending(self):
        for call in (lambda: self.keys.put("", b"x"), lambda: self.keys.put("k", 5),
                     lambda: self.keys.put("k", b"x", ttl=0.5),
                     lambda: self.keys.put("k", b"x", expected_version=-2),
                     lambda: self.keys.list("", limit=0), lambda: self.keys.add("k", 1.5)):
            with self.assertRaises(errors.InvalidArgument):
                call()
        self.assertEqual(self.cluster.requests("/api/v1/keys/put"), [])

    def test_add_counts_in_one_step(self):
        self.assertEqual(self.keys.add("stats/runs", 5), 5)
        self.assertEqual(self.keys.add("stats/runs", -2), 3)
        self.assertEqual(self.last("/api/v1/keys/add")["delta"], -2)
        self.assertEqual(self.keys.get("stats/runs").counter, 3)
        self.keys.put("stats/text", b"abc")
        with self.assertRaises(errors.InvalidArgument):
            self.keys.add("stats/text", 1)

    def test_list_pages_and_scan(self):
        for i in range(5):
            self.keys.put("svc/%d" % i, str(i))
        self.keys.put("other", b"x")
        page = self.keys.list("svc/", limit=2)
        self.assertEqual([e.key for e in page.entries], ["svc/0", "svc/1"])
        self.assertTrue(page.more)
        self.assertEqual(page.next, "svc/1")
        self.assertTrue(page.position)
        self.assertEqual([e.text for e in self.keys.scan("svc/", page=2)], list("01234"))
        self.assertEqual(self.cluster.requests("/api/v1/keys")[-1][1], "GET")

    def test_delete_prefix_pages_until_nothing_is_left_and_refuses_an_empty_prefix(self):
        for i in range(5):
            self.keys.put("svc/%d" % i, str(i))
        self.keys.put("svd", b"x")
        self.assertEqual(self.keys.delete_prefix("svc/", page=2), 5)
        pages = [r[3] for r in self.cluster.requests("/api/v1/keys/delete-prefix")]
        self.assertEqual([(p["prefix"], p["limit"]) for p in pages], [("svc/", 2)] * 3)
        self.assertEqual(len({p["requestId"] for p in pages}), 3, "each page its own request id")
        self.assertEqual([e.key for e in self.keys.scan("sv")], ["svd"])
        self.assertEqual(self.keys.delete_prefix("svc/"), 0)
        with self.assertRaises(errors.InvalidArgument) as e:
            self.keys.delete_prefix("")
        self.assertEqual(str(e.exception).replace("holdfast: ", ""),
                         "a prefix delete needs a prefix: deleting every key at once is not offered")
        with self.assertRaises(errors.InvalidArgument):
            self.keys.delete_prefix("svc/", page=0)
        self.assertEqual(len(self.cluster.requests("/api/v1/keys/delete-prefix")), 4)

    def test_a_keys_only_listing_asks_for_no_values(self):
        self.keys.put("cfg/a", b"a value")
        page = self.keys.list("cfg/", keys_only=True)
        self.assertEqual([(e.key, e.version, e.value) for e in page.entries], [("cfg/a", 1, b"")])
        self.assertEqual(self.keys.list("cfg/").entries[0].value, b"a value")

    def test_a_transaction_runs_one_branch_and_answers_each_op(self):
        self.keys.put("acct/a", b"10")
        t = Txn.when(txn.version("acct/a", "equal", 1), txn.absent("acct/b")) \
            .then(txn.put("acct/a", b"4"), txn.put("acct/b", b"6", attach=True),
                  txn.add("acct/moves", 1), txn.get("acct/a")) \
            .otherwise(txn.get("acct/a"))
        r = self.keys.commit(t)
        self.assertTrue(r.succeeded)
        self.assertEqual([x.version for x in r.results], [2, 1, 1, 2])
        self.assertEqual(r.results[2].counter, 1)
        self.assertEqual(r.results[3].value, b"4")
        sent = self.last("/api/v1/txn")
        self.assertEqual(sent["compares"][0], {"type": "version", "key": "acct/a",
                                               "order": "equal", "version": 1})
        self.assertEqual(sent["then"][1]["attach"], True)
        self.assertEqual(sent["session"], self.client.session_id)
        again = self.keys.commit(t)
        self.assertFalse(again.succeeded)
        self.assertEqual((again.results[0].version, again.results[0].value), (2, b"4"))

    def test_a_refused_op_is_the_answer_naming_its_place(self):
        with self.assertRaises(errors.Conflict) as e:
            self.keys.commit(Txn.when().then(txn.put("k", b"x"),
                                             txn.delete("k2", expected_version=3)))
        self.assertTrue(e.exception.message.startswith("then op 2:"), e.exception.message)
        self.assertIsNone(self.keys.get("k"))

    def test_a_transaction_retried_after_a_lost_answer_applies_once(self):
        self.cluster.drop["/api/v1/txn"] = 1
        r = self.keys.commit(Txn.when(txn.absent("once")).then(txn.add("once", 1)))
        self.assertTrue(r.succeeded, "the first answer, not a second run's")
        self.assertEqual(r.results[0].counter, 1)
        sent = self.cluster.requests("/api/v1/txn")
        self.assertGreaterEqual(len(sent), 2)
        self.assertEqual({s[3]["requestId"] for s in sent}, {sent[0][3]["requestId"]})
        self.assertEqual(self.keys.get("once").counter, 1)

    def test_quota_is_its_typed_error(self):
        self.cluster.keys.quota = 1
        self.keys.put("q/1", b"x", attach=True)
        with self.assertRaises(errors.QuotaExceeded) as e:
            self.keys.put("q/2", b"x", attach=True)
        self.assertEqual(e.exception.status, 429)

    def next(self, watch):
        event = watch.next_event(3.0)
        self.assertIsNotNone(event, "no event within 3 s")
        return event

    def test_a_keys_watch_tells_writes_and_an_expiry_with_its_cause(self):
        other = self.new_client(renew_sessions=False)
        other.keys.put("services/web/i-1", b"10.0.0.1:80", attach=True)
        with self.keys.watch("services/web/") as w:
            state = self.next(w)
            self.assertEqual([(e.key, e.value, e.owner) for e in state.keys],
                             [("services/web/i-1", b"10.0.0.1:80", other.session_id)])
            self.keys.put("services/web/i-2", b"10.0.0.2:80")
            self.keys.put("services/db/x", b"not watched")
            e = self.next(w)
            self.assertEqual((e.type, e.name, e.value), (REGISTER_SET, "services/web/i-2", b"10.0.0.2:80"))
            self.cluster.expire(other.session_id)
            e = self.next(w)
            self.assertEqual((e.type, e.name, e.cause, e.version),
                             (REGISTER_DELETED, "services/web/i-1", "sessionExpired", 1))


    def test_a_keys_state_the_server_cut_is_completed_by_listing_before_the_changes(self):
        for i in range(5):
            self.keys.put("big/%d" % i, b"v%d" % i)
        self.cluster.keys.state_limit = 2  # the server cut the state to fit a frame: "more"
        with self.keys.watch("big/") as w:
            state = self.next(w)
            self.assertEqual(state.type, STATE)
            self.assertEqual([(e.key, e.value) for e in state.keys],
                             [("big/%d" % i, b"v%d" % i) for i in range(5)])
            self.keys.put("big/5", b"v5")
            e = self.next(w)
            self.assertEqual((e.type, e.name), (REGISTER_SET, "big/5"))

    def test_a_group_joins_lists_and_watches_members(self):
        group = self.keys.group("services/web")
        other = self.new_client()
        with group.watch() as w:
            self.assertEqual(self.next(w).keys, [])
            other.keys.group("services/web").join("i-7", "10.0.0.7:8080")
            e = self.next(w)
            self.assertEqual((e.type, group.member(e.name)), (REGISTER_SET, "i-7"))
            self.assertEqual(group.members(), {"i-7": b"10.0.0.7:8080"})
            self.assertTrue(self.last("/api/v1/keys/put")["attach"])
            other.close()
            e = self.next(w)
            self.assertEqual((e.type, group.member(e.name), e.cause),
                             (REGISTER_DELETED, "i-7", "sessionClosed"))
        self.assertEqual(group.members(), {})
        with self.assertRaises(errors.InvalidArgument):
            group.join("a/b")

    def test_a_member_name_belongs_to_one_live_session(self):
        mine = self.keys.group("services/web")
        other = self.new_client(renew_sessions=False)  # ends with its session: joins nothing again
        theirs = other.keys.group("services/web")
        theirs.join("i-1", "10.0.0.1:80")
        self.assertEqual(theirs.join("i-1", "10.0.0.1:81"), 2, "the holder joins again: new value")
        with self.assertRaises(errors.Conflict) as refused:
            mine.join("i-1", "10.0.0.2:80")
        self.assertEqual((refused.exception.message, refused.exception.holder,
                          refused.exception.current_version),
                         ("member i-1 of group services/web is held by session "
                          + other.session_id, other.session_id, 2))
        self.assertFalse(mine.leave("i-1"), "another session's leave deletes nothing")
        self.assertEqual(self.keys.get("services/web/i-1"),
                         KeyEntry("services/web/i-1", 2, b"10.0.0.1:81", other.session_id))
        self.cluster.expire(other.session_id)
        self.assertEqual(mine.join("i-1", "10.0.0.2:80"), 1, "free once its session ended")
        self.assertTrue(mine.leave("i-1"))
        self.assertIsNone(self.keys.get("services/web/i-1"))
        self.keys.put("services/web/plain", b"no session")
        with self.assertRaises(errors.Conflict) as plain:
            mine.join("plain")
        self.assertIsNone(plain.exception.holder)
        self.assertIn("held by no session", plain.exception.message)
