"""Storage adapters implementing the ports of :mod:`leadkit.ports`.

- :mod:`leadkit.adapters.memory`: the in-memory store, a real adapter (thread-safe, the same
  version checks and all-or-nothing units of work as SQL) and the reference implementation.
- :mod:`leadkit.adapters.sql`: SQLAlchemy 2 Core; a SQLite file is the embedded default
  (``pip install "leadkit[sql]"``).

Adapters never import each other. Every adapter passes the shipped contract suite,
:mod:`leadkit.testing.contract`.
"""
