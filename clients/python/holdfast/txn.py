"""The parts of a transaction (protocol.md, "Keys"), to write ``txn.put(...)`` and the like:

    from holdfast import Txn, txn
    client.keys.commit(Txn.when(txn.fence(lease), txn.version("from", "equal", 4))
                       .then(txn.put("from", rest), txn.put("to", total)))
"""

from .keys import (ANY_VERSION, Compare, Op, OpResult, Txn, TxnResult, absent, add, delete, fence,
                   get, holder, put, session_alive, value, version)

__all__ = ["ANY_VERSION", "Compare", "Op", "OpResult", "Txn", "TxnResult", "absent", "add",
           "delete", "fence", "get", "holder", "put", "session_alive", "value", "version"]
