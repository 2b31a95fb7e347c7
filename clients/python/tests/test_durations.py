import unittest

from holdfast._durations import format_duration


class FormatDurationTest(unittest.TestCase):
    """Durations in messages as people write them, as the server and the Java client print them."""

    def test_whole_terms_from_hours_down_in_the_fewest_terms(self):
        self.assertEqual(format_duration(10), "10s")
        self.assertEqual(format_duration(0.5), "500ms")
        self.assertEqual(format_duration(90), "1m30s")
        self.assertEqual(format_duration(1.5), "1s500ms")
        self.assertEqual(format_duration(86400), "24h")
        self.assertEqual(format_duration(4.35), "4s350ms")  # not 4s349ms from the float

    def test_zero_and_under_a_millisecond(self):
        self.assertEqual(format_duration(0), "0s")
        self.assertEqual(format_duration(0.0004), "<1ms")
        self.assertEqual(format_duration(2.0004), "2s")

    def test_a_lost_session_names_its_ttl_so(self):
        from holdfast._session import Heartbeat
        beat = Heartbeat.__new__(Heartbeat)
        beat._ttl = 10.0
        self.assertEqual(beat._silence(), "no heartbeat acknowledged for 10s")


if __name__ == "__main__":
    unittest.main()
