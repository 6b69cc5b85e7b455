"""Benchmarks: the persistent store against the naive in-memory way (``yibao bench``).

Pipeline stage: over the whole pipeline (generate → build → which-rule → validate).
Modules: :mod:`~kg.bench.runner` (the measurements), :mod:`~kg.bench.guard` (child processes
under time and memory limits), :mod:`~kg.bench.baseline` (the rdflib + pySHACL worker),
:mod:`~kg.bench.rdflib_store` (named queries through rdflib), :mod:`~kg.bench.scenarios`
(random which-rule scenarios), :mod:`~kg.bench.report` (BENCHMARKS.md).
"""
