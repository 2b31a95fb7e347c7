"""The client words a refusal as the Java API does: clients/vectors/messages.json, which the Java
API's tests (CountersTest, ExpectedVersionsTest) and the Node and Go clients' tests read too. This
client words exactly the messages that name "python"; its test server (tests/fakekeys.py,
tests/fakecluster.py) words the others as the server does."""

import json
import os
import unittest

from holdfast import errors
from holdfast.keys import KeyEntry

from .fakecluster import FakeClusterCase

MESSAGES = os.path.join(os.path.dirname(__file__), "..", "..", "vectors", "messages.json")


def messages():
    with open(MESSAGES, encoding="utf-8") as f:
        return {m["name"]: m for m in json.load(f)["messages"]}


class MessagesTest(unittest.TestCase):
    def test_the_client_words_exactly_the_messages_that_name_it(self):
        self.assertEqual(sorted(n for n, m in messages().items() if "python" in m["clients"]),
                         ["notACounter"])

    def test_a_value_of_another_length_is_no_counter_in_the_shared_words(self):
        examples = messages()["notACounter"]["examples"]
        self.assertTrue(examples)
        for e in examples:
            entry = KeyEntry(e["key"], 1, bytes(e["valueBytes"]))
            with self.assertRaises(errors.InvalidArgument) as refused:
                entry.counter
            self.assertEqual(str(refused.exception), "holdfast: " + e["message"], e)


class FakeWordsTest(FakeClusterCase):
    """The test server says what the server says, so that the client's tests meet its words."""

    def test_a_conflict_and_an_add_to_no_counter(self):
        client = self.new_client()
        for e in messages()["versionConflict"]["examples"]:
            for _ in range(e["version"]):
                client.keys.put(e["key"], "x")
            with self.assertRaises(errors.Conflict) as refused:
                client.keys.put(e["key"], "y", expected_version=e["expected"])
            self.assertEqual((str(refused.exception), refused.exception.current_version),
                             (e["message"], e["version"]), e)
            register = client.register("r/" + e["key"])
            for n in range(e["version"]):
                register.compare_and_set(n, "x")
            with self.assertRaises(errors.Conflict) as refused:
                register.compare_and_set(e["expected"], "y")
            self.assertEqual(str(refused.exception), "r/" + e["message"], e)
        for e in messages()["notACounter"]["examples"]:
            client.keys.put(e["key"], bytes(e["valueBytes"]))
            with self.assertRaises(errors.InvalidArgument) as refused:
                client.keys.add(e["key"], 1)
            self.assertEqual(str(refused.exception), e["message"], e)
