# SPDX-License-Identifier: GPL-2.0
"""Reads from shadows (bpf/lib/shadow.bpf.h) against the kernel's numbers.

An address space that ran on several CPUs (4, src/core/tracer.c) is read
from shadows of its per-CPU counters instead of their sum. A machine with 2
CPUs never gets there, so the test build forces them on from an address
space's first CPU (RSSTRACE_TEST_SHADOW_FROM_CPUS=1) and every accuracy test
runs again: rows against /proc at exit and exec, fork, threads, bursts of
children, each run checked to have read from shadows. The 40-CPU guest
(tests/vm/suite 6.12@64:40) takes them without forcing, in
tests/test_concurrent_faults.py."""

import inspect

import pytest

import test_accuracy
from harness import TEST_BUILD, exact_counters, hooked_env, trace

pytestmark = pytest.mark.root

# the accuracy tests that trace through harness.trace() (one runs ./rsstrace
# under its own parent, which the test build's hooks cannot reach)
ACCURACY_TESTS = [f for name, f in inspect.getmembers(test_accuracy, inspect.isfunction)
                  if name.startswith("test_") and "trace(" in inspect.getsource(f)]


def trace_from_shadows(cmd, *opts, **kw):
    run = trace(cmd, *opts, exe=TEST_BUILD, env=hooked_env(RSSTRACE_TEST_SHADOW_FROM_CPUS="1"), **kw)
    if run.summary:
        assert run.summary["address_spaces_read_from_shadows"] >= 1, run.summary
        assert run.summary["address_spaces_past_the_shadow_map"] == 0, run.summary
    return run


@pytest.mark.parametrize("test", ACCURACY_TESTS, ids=lambda f: f.__name__[len("test_"):])
def test_accuracy_read_from_shadows(test, monkeypatch):
    if not exact_counters():
        pytest.skip("counters are one atomic each up to 6.1: read exactly in O(1), no shadows")
    monkeypatch.setattr(test_accuracy, "trace", trace_from_shadows)
    test()
