"""leadkit's hypothesis plugin, outside the leadkit package so that ``import hypothesis`` loads no
leadkit module.

Hypothesis calls :func:`_hypothesis_setup_hook` (the ``hypothesis`` entry point in leadkit's
``pyproject.toml``) when it is imported. If leadkit is loaded, the hook registers leadkit's
strategies for ``st.from_type`` at once; otherwise ``import leadkit`` registers them later,
when it finds hypothesis loaded. Either way they are registered once, deferred.
"""

from __future__ import annotations

import sys

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    """Register leadkit's strategies now if leadkit is loaded; else leave it to leadkit."""
    if "leadkit" in sys.modules:
        from leadkit.testing._hypothesis_hook import register

        register()
