"""``python -m leadkit.cli``: the ``leadkit`` command."""

from leadkit.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
