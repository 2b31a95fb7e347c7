import unittest

import holdfast
from holdfast import _validate as v
from holdfast.errors import InvalidArgument


class ValidateTest(unittest.TestCase):
    def test_names(self):
        v.check_name("jobs/nightly")
        v.check_name("a//b")  # the server decides about segments
        for bad in ("", None, 3):
            with self.assertRaises(InvalidArgument):
                v.check_name(bad)

    def test_wait_and_lease_in_seconds(self):
        self.assertEqual(v.check_wait(0), 0)
        self.assertEqual(v.check_wait(1.5), 1500)
        self.assertEqual(v.check_lease_timeout(None), 0)
        self.assertEqual(v.check_lease_timeout(3), 3000)
        for bad in (-1, -0.001, float("nan"), "1", True):
            with self.assertRaises(InvalidArgument):
                v.check_wait(bad)
        with self.assertRaises(InvalidArgument):
            v.check_lease_timeout(-2)

    def test_permits(self):
        v.check_permits(1, 1)
        v.check_permits(2, 5)
        for p, m in ((0, 5), (-1, 5), (1, 0), (6, 5), (1.5, 5), (1, None)):
            with self.assertRaises(InvalidArgument, msg=(p, m)):
                v.check_permits(p, m)

    def test_modes(self):
        self.assertEqual(v.check_mode(None, False, None), "exclusive")
        self.assertEqual(v.check_mode(None, True, None), "shared")
        self.assertEqual(v.check_mode(None, False, 3), "permits")
        with self.assertRaises(InvalidArgument):
            v.check_mode("upgrade", False, None)
        with self.assertRaises(InvalidArgument):
            v.check_mode("exclusive", True, None)

    def test_owner(self):
        v.check_owner(0)
        with self.assertRaises(InvalidArgument):
            v.check_owner(-1)

    def test_client_refuses_bad_arguments_before_sending(self):
        # Nothing listens on port 9 of 127.0.0.1: a call that reached the network would be
        # Unavailable, so InvalidArgument proves the check came first.
        with self.assertRaises(InvalidArgument):
            holdfast.Client([])
        with self.assertRaises(InvalidArgument):
            holdfast.Client(["http://127.0.0.1:9"], ttl=0.5)
        with self.assertRaises(InvalidArgument):
            holdfast.Client(["ftp://x"])

    def test_message_says_holdfast_and_the_cause(self):
        try:
            v.check_wait(-1)
        except InvalidArgument as e:
            self.assertEqual(e.code, "INVALID_ARGUMENT")
            self.assertTrue(e.message.startswith("holdfast: wait must not be negative"), e.message)


class SessionIdTest(unittest.TestCase):
    def test_one_form_as_every_client_makes(self):
        from holdfast._session import new_session_id

        for _ in range(500):
            sid = new_session_id()
            self.assertEqual(len(sid), 22, sid)
            self.assertIn(sid[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", sid)
            self.assertRegex(sid, r"^[A-Za-z0-9_-]{22}$")
