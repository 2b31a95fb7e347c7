"""Time and threads come from the client's clock and thread factory only: no module of the library
but ``holdfast/_clock.py`` reads the system clock or waits on it, and none but
``holdfast/_threads.py`` makes a thread (as the Java build's ArchitectureTest holds the recipes and
watches to theirs). The check reads the sources: every name a module uses, with its imports
resolved, against the lists below."""

import ast
import os
import unittest
from typing import Dict, List, Optional

PACKAGE = os.path.join(os.path.dirname(__file__), "..", "holdfast")

#: What reads the system clock or waits on it: any use of the ``time`` module, and these.
CLOCK = ("time", "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today",
         "datetime.date.today")
#: What makes a thread (or a process, or a loop that runs work of its own).
THREADS = ("threading.Thread", "threading.Timer", "_thread", "concurrent.futures",
           "multiprocessing", "asyncio", "sched", "os.fork")

#: The one module that may use each list: the clock, the thread factory.
HOMES = {"_clock.py": CLOCK, "_threads.py": THREADS}


def _names(tree: ast.AST) -> Dict[str, str]:
    """What each name a module binds by an import stands for, as a dotted name."""
    bound: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    bound[a.asname] = a.name
                else:
                    head = a.name.split(".")[0]
                    bound[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                bound[a.asname or a.name] = node.module + "." + a.name
    return bound


def _dotted(node: ast.AST, bound: Dict[str, str]) -> Optional[str]:
    """``time.monotonic`` for an expression ``t.monotonic`` where ``t`` is the time module."""
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in bound:
        return None
    return ".".join([bound[node.id]] + parts[::-1])


def _matches(name: str, listed: tuple) -> bool:
    return any(name == x or name.startswith(x + ".") for x in listed)


def findings(source: str, filename: str) -> List[str]:
    """Each use of the clock or of a thread in ``source`` that its module may not make."""
    tree = ast.parse(source, filename)
    bound = _names(tree)
    allowed = HOMES.get(os.path.basename(filename), ())
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, (ast.Name, ast.Attribute)):
            names.append(_dotted(node, bound))
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.extend(node.module + "." + a.name for a in node.names)
        for name in names:
            if name is None or (allowed and _matches(name, allowed)):
                continue
            for what, listed in (("reads the system clock", CLOCK), ("makes a thread", THREADS)):
                if _matches(name, listed):
                    found.append("%s:%d %s (%s)" % (os.path.basename(filename), node.lineno,
                                                    what, name))
    return sorted(set(found))


def modules() -> Dict[str, str]:
    out = {}
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            with open(os.path.join(PACKAGE, name), encoding="utf-8") as f:
                out[name] = f.read()
    return out


class InjectedTimeAndThreadsTest(unittest.TestCase):
    def test_only_the_clock_reads_time_and_only_the_thread_factory_makes_threads(self):
        sources = modules()
        self.assertIn("client.py", sources)
        found = [f for name, source in sources.items() for f in findings(source, name)]
        self.assertEqual(found, [], "take time from the client's clock (transport.clock) and "
                                    "threads from its factory (transport.threads)")

    def test_the_homes_are_where_the_clock_and_the_threads_are(self):
        """The check sees real uses: the clock's and the factory's own, were they anywhere else."""
        sources = modules()
        for home, what in (("_clock.py", "reads the system clock"), ("_threads.py", "makes a thread")):
            elsewhere = findings(sources[home], "elsewhere.py")
            self.assertTrue(elsewhere, home)
            self.assertTrue(all(what in f for f in elsewhere), elsewhere)

    def test_each_way_of_breaking_the_rule_is_caught(self):
        planted = {
            "import time\nnow = time.monotonic()\n": "time.monotonic",
            "import time as t\nt.sleep(1)\n": "time.sleep",
            "from time import monotonic\nx = monotonic()\n": "time.monotonic",
            "import datetime\nd = datetime.datetime.now()\n": "datetime.datetime.now",
            "from datetime import datetime as D\nd = D.utcnow()\n": "datetime.datetime.utcnow",
            "import threading\nthreading.Thread(target=print).start()\n": "threading.Thread",
            "import threading\nthreading.Timer(1, print).start()\n": "threading.Timer",
            "from threading import Thread\nThread(target=print).start()\n": "threading.Thread",
            "import threading\nclass V(threading.Thread): pass\n": "threading.Thread",
            "import _thread\n_thread.start_new_thread(print, ())\n": "_thread",
            "from concurrent.futures import ThreadPoolExecutor\n": "concurrent.futures",
            "import asyncio\n": "asyncio",
        }
        for source, name in planted.items():
            found = findings(source, "planted.py")
            self.assertTrue(any("(%s" % name in f for f in found), (source, found))
        self.assertEqual(findings("import threading\nlock = threading.Lock()\n"
                                  "e = threading.Event()\n", "fine.py"), [])


if __name__ == "__main__":
    unittest.main()
