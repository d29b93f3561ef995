"""The flat API loaded lazily, and the constructor checks of every public class.

``leadkit/__init__.py`` imports its names under ``if TYPE_CHECKING:`` only; :class:`LazyModule`
parses those imports (once, on the first attribute asked for) into a name -> module table and
imports a name's module when the name is first used. So ``import leadkit`` loads nothing but
this module, and ``import leadkit.status`` loads what ``status`` needs.

Every public class's constructor is wrapped with the argument checks of
:mod:`leadkit._typecheck` whichever way it is reached: :class:`_CheckOnImport`, a finder for
leadkit's own modules only, wraps the public classes a module defines as soon as the module has
run (``from leadkit.values import Money`` included), and a name fetched through the package is
checked too.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import threading
from collections.abc import Callable, Collection, Sequence
from types import ModuleType
from typing import Any

__all__ = ["LazyModule", "exports_of"]


def exports_of(init_file: str | os.PathLike[str]) -> dict[str, str]:
    """The name -> module table of a package ``__init__``: the ``from X import a, b`` lines
    under its top-level ``if TYPE_CHECKING:``. Raises ImportError when the file has none
    (leadkit needs its sources, as every wheel and sdist ships them)."""
    import ast  # only when a name is first asked for: `import leadkit` stays light

    try:
        with open(init_file, encoding="utf-8") as source:
            tree = ast.parse(source.read())
    except OSError as e:
        raise ImportError(f"leadkit cannot read its own API table in {init_file}: {e}") from e
    table: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name):
            if node.test.id != "TYPE_CHECKING":
                continue
            for item in node.body:
                if isinstance(item, ast.ImportFrom) and item.module and not item.level:
                    for alias in item.names:
                        table[alias.asname or alias.name] = item.module
    if not table:
        raise ImportError(f"no `if TYPE_CHECKING:` imports in {init_file}")
    return table


class LazyModule:
    """The ``__getattr__`` and ``__dir__`` of a package whose names load on first use."""

    def __init__(self, name: str, init_file: str, public: Sequence[str]) -> None:
        self._name = name
        self._file = init_file
        self._public = tuple(public)
        self._table: dict[str, str] | None = None
        self._lock = threading.Lock()

    @classmethod
    def install(
        cls, name: str, init_file: str, public: Sequence[str]
    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
        """The package's ``(__getattr__, __dir__)``; also installs the constructor checks."""
        lazy = cls(name, init_file, public)
        _CheckOnImport.install(name, frozenset(public))
        return lazy.getattr, lazy.dir

    def table(self) -> dict[str, str]:
        """Which module holds each public name."""
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = exports_of(self._file)
        return self._table

    def getattr(self, name: str) -> Any:
        """Import the module holding ``name``; raises AttributeError for an unknown name."""
        module = self.table().get(name) if name in self._public else None
        if module is None:
            raise AttributeError(f"module {self._name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        _check([value])
        setattr(sys.modules[self._name], name, value)
        return value

    def dir(self) -> list[str]:
        """The module's names: what is loaded and every public name."""
        return sorted(set(vars(sys.modules[self._name])) | set(self._public))


def _check(values: Collection[object]) -> None:
    from leadkit._typecheck import check_constructors

    check_constructors(values)


class _CheckOnImport:  # a meta path finder (not the ABC: importlib.abc is slow to import)
    """Wraps the public classes of each leadkit module once the module has run."""

    def __init__(self, package: str, public: frozenset[str]) -> None:
        self._prefix = package + "."
        self._public = public

    @classmethod
    def install(cls, package: str, public: frozenset[str]) -> None:
        if not any(isinstance(f, cls) and f._prefix == package + "." for f in sys.meta_path):
            sys.meta_path.insert(0, cls(package, public))

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self._prefix) or fullname.startswith("leadkit._"):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if spec is None or not isinstance(loader, importlib.machinery.SourceFileLoader):
            return spec
        run = loader.exec_module
        public = self._public

        def exec_module(module: ModuleType) -> None:
            run(module)
            names = public.intersection(vars(module))
            own = [
                value
                for name in names
                if isinstance(value := vars(module)[name], type)
                and value.__module__ == module.__name__
            ]
            if own:
                _check(own)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
