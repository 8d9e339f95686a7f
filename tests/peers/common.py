"""What the three client scripts share: steps that record a failure and go on,
and a closing line with the counts."""

import sys
import time
import traceback


class Skip(Exception):
    """A step that cannot run because one before it failed."""


class Run:
    """One script's steps. A step that raises is a failure; later steps go on
    (those that need its result raise Skip), so that one run finds every
    failure."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = []

    def step(self, title, fn, *args, **kwargs):
        """Runs fn; returns its result, or None when it failed."""
        try:
            result = fn(*args, **kwargs)
        except Skip as e:
            self.failed.append(f"{title}: skipped ({e})")
            print(f"SKIP {self.name}: {title}: {e}", flush=True)
            return None
        except Exception as e:  # noqa: BLE001 - any error is the step's failure
            message = describe(e)
            self.failed.append(f"{title}: {message}")
            print(f"FAIL {self.name}: {title}: {message}", flush=True)
            if not isinstance(e, AssertionError) and not hasattr(e, "status"):
                # Unexpected: where it came from.
                traceback.print_exc(limit=-3, file=sys.stdout)
            return None
        self.passed += 1
        print(f"ok   {self.name}: {title}", flush=True)
        return result

    def finish(self):
        """Prints the failures and the counts; the process's exit code."""
        if self.failed:
            print(f"\n{self.name}: failures:")
            for failure in self.failed:
                print(f"  - {failure}")
        print(f"{self.name}: {self.passed} passed, {len(self.failed)} failed", flush=True)
        return 1 if self.failed else 0


def describe(error):
    """One line: an SDK's API error as its status and body (its own text
    spans lines, headers included), anything else as its type and text."""
    status, body = getattr(error, "status", None), getattr(error, "body", None)
    if isinstance(status, int) and body is not None:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        text = f"{type(error).__name__}: HTTP {status}: {body}"
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:600]


def need(value, what):
    """value, or Skip when an earlier step did not produce it."""
    if value is None:
        raise Skip(f"needs {what}")
    return value


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def until(what, poll, done, timeout=30.0, interval=0.2):
    """Polls until done(poll()) holds; the last result. A wait that never
    ends is a failure naming what it waited for and the last value seen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = poll()
        if done(last):
            return last
        time.sleep(interval)
    raise AssertionError(f"waited {timeout:.0f} s for {what}; last seen: {last!r}"[:600])
