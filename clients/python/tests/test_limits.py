"""The client's limits are the shared ones: clients/vectors/limits.json, which the Java API's,
the Node client's and the Go client's tests read too."""

import json
import os
import unittest

from holdfast import _session, election, keys

LIMITS = os.path.join(os.path.dirname(__file__), "..", "..", "vectors", "limits.json")


class LimitsTest(unittest.TestCase):
    def test_the_constants_equal_the_shared_limits_that_name_this_client(self):
        with open(LIMITS, encoding="utf-8") as f:
            limits = json.load(f)["limits"]
        shared = {limit["name"]: limit["value"] for limit in limits if "python" in limit["clients"]}
        self.assertTrue(shared)
        ours = {
            "anyVersion": keys.ANY_VERSION,
            "maxTxnOps": keys.MAX_TXN_OPS,
            "maxPage": keys.MAX_PAGE,
            "minKeyTtlMillis": keys.MIN_TTL * 1000,
            "maxKeyTtlMillis": keys.MAX_TTL * 1000,
            "maxLeaderValueBytes": election.MAX_VALUE_BYTES,
            "sessionRenewalFirstMillis": round(_session.RENEW_FIRST * 1000),
            "sessionRenewalCapMillis": round(_session.RENEW_CAP * 1000),
            "rejoinFirstMillis": round(_session.REJOIN_FIRST * 1000),
            "rejoinCapMillis": round(_session.REJOIN_CAP * 1000),
        }
        self.assertEqual(ours, shared)


if __name__ == "__main__":
    unittest.main()
