"""The layers of leadkit as data, and a checker that reads a module's imports and calls.

Every module belongs to one layer; a module may import its own layer and the layers below it,
never one above. Imports are resolved the way Python resolves them: relative imports against the
module's package, ``from leadkit import X`` to the submodule ``leadkit.X`` when there is one and
to the flat API (the top layer) otherwise, ``__import__("x")`` and
``importlib.import_module("x")`` with a constant name like ``import x``. Importing a package
imports its ``__init__``, which is as high as the highest module it imports.

The domain may use only the standard library modules and third-party libraries listed in
:data:`DOMAIN_LIBRARIES`, and reads no clock and draws no random number under any alias:
``import datetime as _dt; _dt.datetime.now()`` and ``from datetime import datetime as DT;
DT.now()`` are both caught.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from enum import IntEnum
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "leadkit"


class Layer(IntEnum):
    """From the bottom up; a module may import its own layer and every layer below it."""

    KERNEL = 0  # the error tree
    DOMAIN = 1  # values, the aggregate, rules, planners: pure
    CODEC = 2  # the JSON converter and the generated codec
    PORTS = 3  # repository and unit-of-work protocols, queries
    APPLICATION = 4  # services that open units of work over the ports
    EDGE = 5  # adapters and io: files, databases
    OUTER = 6  # the command line, charts, sample data and the testing kit
    API = 7  # the flat public API: leadkit/__init__.py


# The layer of each module, by the longest matching dotted prefix.
LAYERS: Mapping[str, Layer] = {
    "leadkit.errors": Layer.KERNEL,
    "leadkit._named": Layer.DOMAIN,
    "leadkit.problems": Layer.DOMAIN,
    "leadkit.labels": Layer.KERNEL,
    "leadkit.values": Layer.DOMAIN,
    "leadkit.status": Layer.DOMAIN,
    "leadkit.fields": Layer.DOMAIN,
    "leadkit.timeline": Layer.DOMAIN,
    "leadkit.patch": Layer.DOMAIN,
    "leadkit.profiles": Layer.DOMAIN,
    "leadkit.events": Layer.DOMAIN,
    "leadkit.lead": Layer.DOMAIN,
    # The aggregate's parts: its base, its command groups and its event appliers.
    "leadkit._lead_base": Layer.DOMAIN,
    "leadkit._lead_timeline": Layer.DOMAIN,
    "leadkit._lead_scoring": Layer.DOMAIN,
    "leadkit._lead_merging": Layer.DOMAIN,
    "leadkit._lead_apply": Layer.DOMAIN,
    "leadkit.merging": Layer.DOMAIN,
    "leadkit.record_merging": Layer.DOMAIN,
    "leadkit.records": Layer.DOMAIN,
    "leadkit.policies": Layer.DOMAIN,
    "leadkit.conversion_request": Layer.DOMAIN,
    "leadkit.conversion_plan": Layer.DOMAIN,
    "leadkit.conversion_planner": Layer.DOMAIN,
    "leadkit.assignment": Layer.DOMAIN,
    "leadkit.lead_edits": Layer.DOMAIN,
    "leadkit.reports": Layer.DOMAIN,
    "leadkit.duplicates": Layer.DOMAIN,
    "leadkit.shards": Layer.DOMAIN,
    "leadkit.scoring": Layer.DOMAIN,
    "leadkit.scoring.codec": Layer.CODEC,
    "leadkit.serialization": Layer.CODEC,
    "leadkit.json_values": Layer.CODEC,
    "leadkit.fastcodec": Layer.CODEC,
    "leadkit.dialect": Layer.CODEC,
    "leadkit.schemas": Layer.CODEC,
    "leadkit.erasure": Layer.DOMAIN,
    "leadkit.ports": Layer.PORTS,
    "leadkit.queries": Layer.PORTS,
    "leadkit.outbox_ports": Layer.PORTS,
    # The planner's names and the DuplicateCheck port (it reads through a unit of work).
    "leadkit.conversion": Layer.PORTS,
    "leadkit.access": Layer.PORTS,
    "leadkit.rescoring": Layer.PORTS,
    "leadkit.bulk": Layer.APPLICATION,
    "leadkit.services": Layer.APPLICATION,
    "leadkit.duplicate_checks": Layer.APPLICATION,
    "leadkit.guarded": Layer.APPLICATION,
    "leadkit.mass_editing": Layer.APPLICATION,
    "leadkit.record_merge_service": Layer.APPLICATION,
    "leadkit.idempotency": Layer.APPLICATION,
    "leadkit.privacy": Layer.APPLICATION,
    "leadkit.adapters": Layer.EDGE,
    # Wraps the public constructors by their type hints (inspect); run by the flat API and io.
    "leadkit._typecheck": Layer.EDGE,
    "leadkit._lazy": Layer.EDGE,
    "leadkit.io": Layer.EDGE,
    "leadkit.desk": Layer.EDGE,
    "leadkit.desk_arguments": Layer.EDGE,
    "leadkit.desk_workflows": Layer.EDGE,
    "leadkit.scan_workers": Layer.EDGE,
    "leadkit.cli": Layer.OUTER,
    "leadkit.charts": Layer.OUTER,
    "leadkit.testing": Layer.OUTER,
    "leadkit": Layer.API,
}

# What the domain (and the kernel and codec) may import from outside leadkit: the pure part of
# the standard library and the field libraries of the core dependencies.
DOMAIN_LIBRARIES = frozenset(
    {
        "__future__",
        "abc",
        "bisect",
        "collections",
        "contextlib",
        "copy",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "hashlib",
        "heapq",
        "itertools",
        "json",
        "keyword",
        "math",
        "numbers",
        "operator",
        "re",
        "string",
        "textwrap",
        "types",
        "typing",
        "unicodedata",
        "urllib.parse",
        # third-party: the core dependencies
        "attrs",
        "cattrs",
        "email_validator",
        "iso4217",
        "jellyfish",
        "phonenumbers",
        "rapidfuzz",
    }
)
# The generated codec registers its source with linecache so tracebacks show it.
CODEC_LIBRARIES = DOMAIN_LIBRARIES | {"linecache"}

# Calls that read a clock or draw a random number, by the qualified name they resolve to.
CLOCK_AND_RANDOM = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.perf_counter",
        "time.localtime",
        "time.gmtime",
        "uuid.uuid1",
        "uuid.uuid4",
        "os.urandom",
        "builtins.open",
        "builtins.input",
    }
)
RANDOM_MODULES = ("random", "secrets")


@cache
def _nodes(source: str) -> tuple[ast.AST, ...]:
    """The import statements and calls of ``source``, at any depth (one walk per text)."""
    return tuple(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom | ast.Call)
    )


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of a source file and whether it is a package ``__init__``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


@cache
def all_modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(path)[0]: path for path in sorted((SRC / PACKAGE).rglob("*.py"))}


def layer_of(module: str) -> Layer:
    """The layer of ``module`` by its longest prefix in :data:`LAYERS`."""
    parts = module.split(".")
    # The root names the flat API only: a new module must be given its own layer.
    for end in range(len(parts), 1 if module != PACKAGE else 0, -1):
        found = LAYERS.get(".".join(parts[:end]))
        if found is not None:
            return found
    raise KeyError(f"{module} has no layer: add it to LAYERS")


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports(module: str, is_package: bool, source: str, known: set[str]) -> Iterator[str]:
    """Every module ``source`` imports, resolved to dotted names (at any depth of the code)."""
    for node in _nodes(source):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve_from(module, is_package, node)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield sub if sub in known else target
        elif isinstance(node, ast.Call) and node.args:
            name = _dotted(node.func)
            first = node.args[0]
            if (
                name in ("__import__", "importlib.import_module", "import_module")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield first.value


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _aliases(source: str) -> dict[str, str]:
    """Local names bound by imports, mapped to what they name (``DT`` -> ``datetime.datetime``)."""
    found: dict[str, str] = {}
    for node in _nodes(source):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    found[top] = top
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


def calls(source: str) -> Iterator[str]:
    """Every call in ``source``, its callee resolved through the module's import aliases."""
    aliases = _aliases(source)
    for node in _nodes(source):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if not name:
                continue
            head, _, rest = name.partition(".")
            if head in aliases:
                yield aliases[head] + (f".{rest}" if rest else "")
            elif not rest and head in ("open", "input"):
                yield f"builtins.{head}"
            else:
                yield name


def _outside(name: str) -> bool:
    return name != PACKAGE and not name.startswith(PACKAGE + ".")


def _allowed_library(name: str, allowed: frozenset[str]) -> bool:
    return any(name == lib or name.startswith(lib + ".") for lib in allowed)


def violations(
    module: str, source: str, known: Mapping[str, Layer], *, is_package: bool = False
) -> list[str]:
    """What ``source`` (the text of ``module``) breaks; ``known`` maps every module of the
    package to its effective layer (a package at the height of what its ``__init__`` imports)."""
    mine = layer_of(module)
    found: list[str] = []
    for target in sorted(set(imports(module, is_package, source, set(known)))):
        if _outside(target):
            allowed = CODEC_LIBRARIES if mine is Layer.CODEC else DOMAIN_LIBRARIES
            if mine <= Layer.CODEC and not _allowed_library(target, allowed):
                found.append(f"{module} ({mine.name}) imports {target}, not a domain library")
            continue
        theirs = known.get(target)
        if theirs is None:
            continue  # a name that does not exist is the interpreter's business
        if theirs > mine:
            found.append(f"{module} ({mine.name}) imports {target} ({theirs.name})")
        elif _adapter(module) and _adapter(target) and _adapter(module) != _adapter(target):
            found.append(f"adapter {module} imports another adapter, {target}")
    if mine <= Layer.CODEC:
        for call in sorted(set(calls(source))):
            if call in CLOCK_AND_RANDOM or call.split(".", 1)[0] in RANDOM_MODULES:
                found.append(f"{module} ({mine.name}) calls {call}")
    return found


def _adapter(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] == [PACKAGE, "adapters"] and len(parts) > 2:
        return parts[2]
    return None


def effective_layers(sources: Mapping[str, str]) -> dict[str, Layer]:
    """The layer of every module; a package ``__init__`` (which runs whatever it imports) as high
    as the highest module it imports, so importing a package is judged by what it loads."""
    own = {name: layer_of(name) for name in sources}
    packages = _package_names(sources)
    result = dict(own)
    for package in sorted(packages, key=lambda n: -n.count(".")):
        loaded = [
            result.get(t, own.get(t, Layer.KERNEL))
            for t in imports(package, True, sources[package], set(sources))
            if not _outside(t) and t.startswith(package + ".")
        ]
        result[package] = max([own[package], *loaded])
    return result


def _package_names(sources: Mapping[str, str]) -> set[str]:
    return {name for name in sources if any(o.startswith(name + ".") for o in sources)}


def check_tree(overrides: Mapping[str, str] | None = None) -> list[str]:
    """Every violation in the source tree, with ``overrides`` (module -> source) replacing files."""
    sources = {name: path.read_text(encoding="utf-8") for name, path in all_modules().items()}
    sources.update(overrides or {})
    known = effective_layers(sources)
    packages = _package_names(sources)
    found: list[str] = []
    for name, text in sorted(sources.items()):
        found.extend(violations(name, text, known, is_package=name in packages))
    return found


def _runtime_source(source: str) -> str:
    """``source`` without its ``if TYPE_CHECKING:`` blocks: the imports Python runs."""
    tree = ast.parse(source)

    def type_only(node: ast.stmt) -> bool:
        return isinstance(node, ast.If) and _dotted(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        )

    tree.body = [node for node in tree.body if not type_only(node)]
    return ast.unparse(tree)


def import_cycles(overrides: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Pairs of modules that import each other directly (at module level or in a function),
    with ``overrides`` (module -> source) replacing files. An import under ``if
    TYPE_CHECKING:`` is for the type checker only: Python never runs it, so it makes no
    circle (a module that creates the objects of another may name its type so)."""
    sources = {name: path.read_text(encoding="utf-8") for name, path in all_modules().items()}
    sources.update(overrides or {})
    packages = _package_names(sources)
    edges: dict[str, set[str]] = {}
    for name, text in sources.items():
        edges[name] = {
            t
            for t in imports(name, name in packages, _runtime_source(text), set(sources))
            if t in sources and t not in packages
        }
    return sorted(
        (a, b) for a, targets in edges.items() for b in targets if a < b and a in edges.get(b, ())
    )


# ---------------------------------------------------------------------------------------------
# Sizes: no module above MODULE_LINES lines, no function above FUNCTION_LINES lines, unless it
# says why at its top with a ``# size: <reason>`` comment (a module: in its header, above its
# first statement after the docstring; a function: on the line above its ``def`` or its first
# decorator, or between the ``def`` line and the first statement of its body).

MODULE_LINES = 800
FUNCTION_LINES = 80
SIZE_MARKER = re.compile(r"^\s*# size: \S")


def _module_excused(lines: list[str], tree: ast.Module) -> bool:
    body = tree.body
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        first = body[1] if len(body) > 1 else None
    end = first.lineno - 1 if first is not None else len(lines)
    return any(SIZE_MARKER.match(line) for line in lines[:end])


def _function_excused(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    top = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    start = max(top - 2, 0)  # the line above the def (0-based index top - 2)
    end = node.body[0].lineno - 1  # up to the line before the first statement
    return any(SIZE_MARKER.match(line) for line in lines[start:end])


def _functions(
    tree: ast.AST, prefix: str
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method at any depth, by qualified name (``module.Class.method``)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}.{node.name}"
            yield name, node
            yield from _functions(node, name)
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}.{node.name}")
        else:
            yield from _functions(node, prefix)


def oversize(module: str, source: str) -> dict[str, int]:
    """What in ``module`` is over the size limits without a ``# size:`` reason, with its size in
    lines: ``"module leadkit.x"`` and ``"function leadkit.x.Class.method"``."""
    lines = source.splitlines()
    tree = ast.parse(source)
    found: dict[str, int] = {}
    if len(lines) > MODULE_LINES and not _module_excused(lines, tree):
        found[f"module {module}"] = len(lines)
    for name, node in _functions(tree, module):
        size = (node.end_lineno or node.lineno) - node.lineno + 1
        if size > FUNCTION_LINES and not _function_excused(lines, node):
            found[f"function {name}"] = size
    return found


def oversize_tree(overrides: Mapping[str, str] | None = None) -> dict[str, int]:
    """Everything over the size limits in the source tree, ``overrides`` replacing files."""
    sources = {name: path.read_text(encoding="utf-8") for name, path in all_modules().items()}
    sources.update(overrides or {})
    found: dict[str, int] = {}
    for name, text in sorted(sources.items()):
        found.update(oversize(name, text))
    return found
