import unittest

from holdfast import errors
from holdfast.errors import error_for


class ErrorMappingTest(unittest.TestCase):
    def test_every_code_has_its_type(self):
        cases = {
            (409, "TIMEOUT"): errors.LockTimeout,
            (400, "INVALID_ARGUMENT"): errors.InvalidArgument,
            (409, "LOCK_LOST"): errors.LockLost,
            (409, "NOT_OWNER"): errors.NotOwner,
            (409, "CONFLICT"): errors.Conflict,
            (409, "DEADLOCK"): errors.Deadlock,
            (410, "SESSION_EXPIRED"): errors.SessionExpired,
            (503, "UNAVAILABLE"): errors.Unavailable,
            (403, "PERMISSION_DENIED"): errors.PermissionDenied,
            (429, "QUOTA_EXCEEDED"): errors.QuotaExceeded,
            (404, "NOT_FOUND"): errors.NotFound,
        }
        for (status, code), cls in cases.items():
            e = error_for(status, {"error": {"code": code, "message": "why %s" % code}})
            self.assertIs(type(e), cls, code)
            self.assertIsInstance(e, errors.HoldfastError)
            self.assertEqual(e.code, code)
            self.assertEqual(e.message, "why %s" % code)
            self.assertEqual(str(e), "why %s" % code)
            self.assertEqual(e.status, status)

    def test_conflict_carries_current_version(self):
        e = error_for(409, {"error": {"code": "CONFLICT", "message": "m", "currentVersion": 5}})
        self.assertEqual(e.current_version, 5)

    def test_lock_lost_carries_token_and_deadlock_cycle(self):
        self.assertEqual(error_for(409, {"error": {"code": "LOCK_LOST", "message": "m",
                                                   "token": 42}}).token, 42)
        self.assertEqual(error_for(409, {"error": {"code": "DEADLOCK", "message": "m",
                                                   "cycle": ["a", "b"]}}).cycle, ["a", "b"])

    def test_message_is_one_line(self):
        e = error_for(400, {"error": {"code": "INVALID_ARGUMENT", "message": "bad\nname\r\n x"}})
        self.assertEqual(e.message, "bad name x")

    def test_unknown_code_is_the_base_type_with_the_code(self):
        e = error_for(418, {"error": {"code": "TEAPOT", "message": "short and stout"}})
        self.assertIs(type(e), errors.HoldfastError)
        self.assertEqual(e.code, "TEAPOT")

    def test_body_without_error_shape_maps_by_status(self):
        e = error_for(401, "Unauthorized", "http://h:1")
        self.assertIsInstance(e, errors.PermissionDenied)
        self.assertIn("http://h:1 answered HTTP 401: Unauthorized", e.message)
        self.assertIsInstance(error_for(404, None), errors.NotFound)
        self.assertIsInstance(error_for(500, "<html>\n</html>"), errors.Unavailable)
        self.assertNotIn("\n", error_for(500, "<html>\n</html>").message)

    def test_subtypes_are_exported_at_the_top(self):
        import holdfast
        for name in ("HoldfastError", "LockTimeout", "InvalidArgument", "LockLost", "NotOwner",
                     "Conflict", "Deadlock", "SessionExpired", "Unavailable", "PermissionDenied",
                     "QuotaExceeded", "NotFound"):
            self.assertIs(getattr(holdfast, name), getattr(errors, name))
