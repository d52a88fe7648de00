#!/usr/bin/env python3
"""Run the integration tests (stdlib unittest, the default python3).

    python3 tests/integration/run.py [-k PATTERN]... [-v] [-x] [FILE|MODULE[.Class[.test]]]...

With no FILE, every tests/integration/test_*.py is run. -k keeps the tests
whose full name (module.Class.test) contains PATTERN (or matches it as a
shell pattern when it has * ? [); it may be repeated. Prints one line per
test and closes with exactly

    integration: N passed, M failed, K skipped

(an error counts as a failure; so does a class or module fixture that
failed). The exit status is 1 when anything failed, 0 otherwise.
"""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class Result(unittest.TestResult):
    def __init__(self, stream, verbose):
        super().__init__()
        self.stream = stream
        self.verbose = verbose
        self.passed = 0
        self.failed = 0
        self.skipped_n = 0
        self.t0 = {}

    def _line(self, word, test, extra=""):
        dur = time.monotonic() - self.t0.pop(test, time.monotonic())
        self.stream.write(f"{word:<5} {test.id()} ({dur:.2f}s){extra}\n")
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        self.t0[test] = time.monotonic()
        if self.verbose:
            self.stream.write(f"..... {test.id()}\n")
            self.stream.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line("ok", test)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        self._line("ok", test, " (expected failure)")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed += 1
        self._line("FAIL", test, " (unexpected success)")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skipped_n += 1
        self._line("skip", test, f": {reason}")

    def _bad(self, word, test, err):
        self.failed += 1
        if isinstance(test, unittest.TestCase):
            self._line(word, test)
        else:  # a setUpClass / setUpModule failure
            self.stream.write(f"{word:<5} {test}\n")
        self.stream.write(self._exc_info_to_string(err, test)
                          if isinstance(test, unittest.TestCase)
                          else "".join(__import__("traceback").format_exception(*err)))
        self.stream.flush()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad("FAIL", test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._bad("ERROR", test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            word = "FAIL" if issubclass(err[0], test.failureException) else "ERROR"
            self.failed += 1
            self.stream.write(f"{word:<5} {subtest.id()}\n")
            self.stream.write(self._exc_info_to_string(err, test))
            self.stream.flush()


def load(names, patterns):
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = [p if any(c in p for c in "*?[") else f"*{p}*"
                                   for p in patterns]
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    if not names:
        return loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    suite = unittest.TestSuite()
    for n in names:
        if n.endswith(".py") or os.path.sep in n:
            n = os.path.splitext(os.path.basename(n))[0]
        suite.addTests(loader.loadTestsFromName(n))
    return suite


def count(suite):
    return suite.countTestCases()


def main():
    ap = argparse.ArgumentParser(description="run the integration tests")
    ap.add_argument("names", nargs="*", help="test files or dotted names")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="only tests whose name contains PATTERN")
    ap.add_argument("-v", "--verbose", action="store_true", help="announce each test")
    ap.add_argument("-x", "--failfast", action="store_true", help="stop at the first failure")
    args = ap.parse_args()
    os.chdir(os.path.dirname(os.path.dirname(HERE)))  # the repository root
    suite = load(args.names, args.patterns)
    result = Result(sys.stdout, args.verbose)
    result.failfast = args.failfast
    t0 = time.monotonic()
    sys.stdout.write(f"integration: running {count(suite)} tests\n")
    sys.stdout.flush()
    suite.run(result)
    sys.stdout.write(f"({time.monotonic() - t0:.1f}s)\n")
    sys.stdout.write(f"integration: {result.passed} passed, {result.failed} failed, "
                     f"{result.skipped_n} skipped\n")
    sys.stdout.flush()
    return 1 if result.failed or not result.wasSuccessful() else 0


if __name__ == "__main__":
    sys.exit(main())
