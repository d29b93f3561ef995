"""Argument type checks for every public constructor.

:func:`check_constructors` wraps the ``__init__`` of each given class so that an argument of
the wrong type is refused before the class sees it: InvalidValue (or ConfigurationError for
rules, models and policies) naming the parameter and the type it must have, never a bare
TypeError or AttributeError from deep inside. The checks are built once per class from its
type hints (attrs fields, else the ``__init__`` signature); a hint that cannot be checked at
run time (a protocol, a type variable, an unresolvable name) is not checked.

The checks run on every construction, so each parameter also gets the exact types whose every
instance passes its check (``str`` for ``str``, ``int`` and ``float`` for ``float``, the
members' for a union): ``type(value) in exact`` settles the common case without calling the
check, and containers of such items are checked in C (``frozenset(map(type, items))``). A
value of any other type goes through the check, so the result is the same either way
(tests/properties/test_typecheck_properties.py).
"""

from __future__ import annotations

import collections.abc as abc
import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs

from leadkit.errors import ConfigurationError, InvalidValue, LeadkitError

__all__ = ["UNCHECKED", "check_constructors", "exact_types", "trusted"]

Check = Callable[[object], bool]

_CONFIG_MODULES: Final = (
    "leadkit.policies",
    "leadkit.scoring",
    "leadkit.duplicates.rules",
    "leadkit.duplicates.conditions",
    "leadkit.duplicates.rule_sets",
    "leadkit.assignment",
    "leadkit.profiles",
    "leadkit.status",
    "leadkit.io.plan",
    "leadkit.io.mail",
    "leadkit.io.limits",
)
_SKIP: Final = object()

# Classes whose constructor is not wrapped, each with the reason. Their public way in checks its
# own arguments instead.
UNCHECKED: Final = {
    "leadkit.lead.Lead": "built by Lead.create (which checks its arguments) and its commands "
    "(whose events check theirs); every command evolves the lead, and checking each evolve "
    "made commands three times slower",
}


def _describe(hint: Any) -> str:
    text = getattr(hint, "__name__", None) if isinstance(hint, type) else None
    if text is None:
        text = str(hint).replace("typing.", "").replace("collections.abc.", "")
        text = text.replace("leadkit.", "")
    return text


def _plain(kind: type) -> Check:
    if kind is float:
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    if kind is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if kind is complex:
        return lambda v: isinstance(v, int | float | complex) and not isinstance(v, bool)
    return lambda v: isinstance(v, kind)


def _plain_class(hint: object) -> bool:
    """A class checked by isinstance alone (numbers have bool rules, protocols and streams
    are not checked)."""
    return (
        isinstance(hint, type)
        and typing.get_origin(hint) is None
        and getattr(hint, "__supertype__", None) is None
        and hint not in (int, float, complex, bool, object, abc.Callable)
        and not getattr(hint, "_is_protocol", False)
        and not issubclass(hint, typing.IO)
    )


def _all(check: Check, values: Iterable[object]) -> bool:
    return all(map(check, values))


# Containers whose iteration is plain and repeatable: their items' types can be read first.
_BUILTIN_CONTAINERS: Final = frozenset({tuple, list, frozenset, set, dict})


def _items(check: Check, exact: frozenset[type], values: Iterable[object]) -> bool:
    """``check`` holds for every item of ``values``: at C speed when every item of a builtin
    container is of one of the ``exact`` types, else item by item."""
    if exact and type(values) in _BUILTIN_CONTAINERS:
        try:
            if frozenset(map(type, values)) <= exact:
                return True
        except Exception:  # a type whose metaclass cannot hash: the plain walk decides
            pass
    return _all(check, values)


def _inner(hint: Any) -> Any:
    """The hint a NewType or ``Annotated`` stands for, else None."""
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:
        return supertype
    return typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else None


def exact_types(hint: Any, depth: int = 0) -> tuple[type, ...]:
    """The types whose every instance passes the check of ``hint`` (an exact ``type(value)``
    match, so no subclass overriding anything is included): the fast path before the check.
    Empty when none is known (containers, literals, callables, protocols)."""
    if depth > 6:
        return ()
    inner = _inner(hint)
    if inner is not None:
        return exact_types(inner, depth + 1)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(dict.fromkeys(t for a in args for t in exact_types(a, depth + 1)))
    if hint is None or hint is type(None):
        return (type(None),)
    if origin is not None or hint in (Any, object) or _class_checker(hint) in (_SKIP, callable):
        return ()
    return _NUMBERS.get(hint, (hint,))


_NUMBERS: Final[dict[type, tuple[type, ...]]] = {
    int: (int,),
    float: (int, float),
    complex: (int, float, complex),
}


def _checker(hint: Any, depth: int = 0) -> Check | object:
    """A predicate for ``hint``, or _SKIP when it cannot be checked."""
    if depth > 6 or hint is Any or hint is object or isinstance(hint, typing.TypeVar | str):
        return _SKIP
    inner = _inner(hint)
    if inner is not None:
        return _checker(inner, depth + 1)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.ClassVar, typing.Final):
        return _SKIP
    if origin is typing.Literal:
        allowed = tuple((type(a), a) for a in args)
        return lambda v: (
            any(type(v) is t and v == a for t, a in allowed)
            or any(isinstance(a, enum.Enum) and v is a for _, a in allowed)
        )
    if origin is typing.Union or origin is types.UnionType:
        return _union_checker(args, depth)
    if hint is None or hint is type(None):
        return lambda v: v is None
    if origin is None:
        return _class_checker(hint)
    if origin is abc.Callable:
        return callable
    if not isinstance(origin, type):
        return _SKIP
    return _generic_checker(origin, args, depth)


def _union_checker(args: tuple[Any, ...], depth: int) -> Check | object:
    """A predicate for ``X | Y | ...``, or _SKIP when a member cannot be checked."""
    simple = tuple(type(None) if a is None else a for a in args)
    if all(_plain_class(a) for a in simple):  # one isinstance: the common ``X | None``
        return lambda v: isinstance(v, simple)
    members = [_checker(a, depth + 1) for a in args]
    if any(m is _SKIP for m in members):
        return _SKIP
    checks = typing.cast(list[Check], members)
    return lambda v: any(c(v) for c in checks)


def _class_checker(hint: Any) -> Check | object:
    """A predicate for a bare class (no type arguments), or _SKIP for a protocol or stream."""
    if not isinstance(hint, type):
        return _SKIP
    if getattr(hint, "_is_protocol", False) and not getattr(hint, "_is_runtime_protocol", False):
        return _SKIP
    if hint is abc.Callable:
        return callable
    if issubclass(hint, typing.IO):  # BinaryIO, TextIO: nominal, but streams are duck-typed
        return _SKIP
    return _plain(hint)


def _generic_checker(origin: type, args: tuple[Any, ...], depth: int) -> Check | object:
    """A predicate for a parametrised class: a tuple, a mapping, a collection or another."""
    outer = _plain(origin)
    if origin is tuple:
        return _tuple_checker(args, depth, outer)
    if issubclass(origin, abc.Mapping) and len(args) == 2:
        key, value = _checker(args[0], depth + 1), _checker(args[1], depth + 1)
        exact_key = frozenset(exact_types(args[0], depth + 1))
        exact_value = frozenset(exact_types(args[1], depth + 1))

        def mapping(v: object) -> bool:
            if not isinstance(v, origin):
                return False
            items = typing.cast(abc.Mapping[object, object], v)
            plain = type(items) is dict  # iterated as is (a dict view is not a builtin)
            keys: Iterable[object] = items if plain else items.keys()
            if key is not _SKIP and not _items(typing.cast(Check, key), exact_key, keys):
                return False
            if value is _SKIP:
                return True
            values = list(items.values()) if plain else items.values()
            return _items(typing.cast(Check, value), exact_value, values)

        return mapping
    if issubclass(origin, abc.Iterable) and len(args) == 1 and origin is not str:
        each = _checker(args[0], depth + 1)
        if each is _SKIP:
            return outer
        check = typing.cast(Check, each)
        exact = frozenset(exact_types(args[0], depth + 1))

        def collection(v: object) -> bool:
            if not isinstance(v, origin) or isinstance(v, str | bytes):
                return False
            # Only containers are checked item by item: an iterator would be consumed.
            if isinstance(v, abc.Collection):
                return _items(check, exact, v)
            return True

        return collection
    return outer


def _tuple_checker(args: tuple[Any, ...], depth: int, outer: Check) -> Check | object:
    """A predicate for ``tuple[X, ...]`` or ``tuple[X, Y]``."""
    if len(args) == 2 and args[1] is Ellipsis:
        each = _checker(args[0], depth + 1)
        if each is _SKIP:
            return outer
        check = typing.cast(Check, each)
        exact = frozenset(exact_types(args[0], depth + 1))
        return lambda v: isinstance(v, tuple) and _items(check, exact, v)
    if args == ((),) or not args:
        return outer
    items = [_checker(a, depth + 1) for a in args]
    return lambda v: (
        isinstance(v, tuple)
        and len(v) == len(items)
        and all(c is _SKIP or typing.cast(Check, c)(x) for c, x in zip(items, v, strict=True))
    )


def _hints(cls: type) -> list[tuple[str, Check, str, Any]]:
    """(parameter name, check, description, hint) for each checkable parameter of ``cls``."""
    found: list[tuple[str, Check, str, Any]] = []
    if attrs.has(cls):
        try:
            hints = typing.get_type_hints(cls)
        except Exception:
            hints = {}
        for field in attrs.fields(cls):
            if not field.init or field.name not in hints:
                continue
            check = _checker(hints[field.name])
            if check is not _SKIP:
                # A converted field is checked after the constructor, on the stored value.
                name = f".{field.name}" if field.converter is not None else field.alias
                hint = hints[field.name]
                found.append((name or field.name, typing.cast(Check, check), _describe(hint), hint))
        return found
    init = cls.__dict__.get("__init__")
    if init is None or not inspect.isfunction(init):
        return found
    try:
        hints = typing.get_type_hints(init)
    except Exception:
        return found
    for name, parameter in inspect.signature(init).parameters.items():
        if (
            name == "self"
            or name not in hints
            or parameter.kind
            in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            )
        ):
            continue
        check = _checker(hints[name])
        if check is not _SKIP:
            found.append((name, typing.cast(Check, check), _describe(hints[name]), hints[name]))
    return found


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _positional_names(cls: type, original: Callable[..., None]) -> tuple[str, ...] | None:
    """The parameter names positional arguments bind to, in order, when they can be known
    without ``inspect.Signature.bind`` (a plain ``__init__`` with no ``*args``)."""
    parameters = list(inspect.signature(original).parameters.values())[1:]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return None
    return tuple(
        p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


# (name, exact types, check, "must be ..."): one checked parameter.
_Entry = tuple[str, tuple[type, ...], Check, str]


def _entry(name: str, check: Check, hint_text: str, hint: Any) -> _Entry:
    return (name, exact_types(hint), check, f"must be {hint_text}")


def _ok(check: Check, value: object) -> bool:
    try:
        return bool(check(value))
    except Exception:
        return False


class _Checks:
    """The checks of one class, built on first use (type hints may name classes defined
    later in the module): by position, by name, and the converted fields' (checked after the
    constructor, on the stored values)."""

    def __init__(self, cls: type, original: Callable[..., None]) -> None:
        hints = _hints(cls)
        self.by_name: dict[str, _Entry] = {
            n: _entry(n, c, d, h) for n, c, d, h in hints if not n.startswith(".")
        }
        self.converted: tuple[_Entry, ...] = tuple(
            _entry(n[1:], c, d, h) for n, c, d, h in hints if n.startswith(".")
        )
        names = _positional_names(cls, original)
        self.positional = None if names is None else tuple(self.by_name.get(n) for n in names)
        self.original = original

    def first_wrong(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str, object, str] | None:
        """The first argument (by position, then by name) that fails its check, as (name,
        value, reason), or None."""
        positional = self.positional
        if positional is None or len(args) > len(positional):
            return self.bound_wrong(args, kwargs)
        by_name = self.by_name
        try:
            for entry, value in zip(positional, args, strict=False):
                if entry is not None and type(value) not in entry[1] and not _ok(entry[2], value):
                    return (entry[0], value, entry[3])
            for name, value in kwargs.items():
                found = by_name.get(name)
                if found is not None and type(value) not in found[1] and not _ok(found[2], value):
                    return (name, value, found[3])
        except Exception:  # a metaclass whose == fails: checked one by one below
            return self.bound_wrong(args, kwargs, bind=False)
        return None

    def bound_wrong(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], bind: bool = True
    ) -> tuple[str, object, str] | None:
        """first_wrong without the fast path, binding by ``inspect.Signature.bind`` when the
        positional names are not known (or ``bind``)."""
        named: Iterable[tuple[str, object]]
        positional = self.positional
        if bind and (positional is None or len(args) > len(positional)):
            try:
                bound = inspect.signature(self.original).bind(None, *args, **kwargs).arguments
            except TypeError:
                return None  # a wrong number of arguments: Python's own TypeError follows
            named = bound.items()
        else:
            names = [e[0] if e else "" for e in positional or ()]
            named = [*zip(names, args, strict=False), *kwargs.items()]
        for name, value in named:
            found = self.by_name.get(name)
            if found is not None and not _ok(found[2], value):
                return (name, value, found[3])
        return None


def _wrap(cls: type) -> None:
    original = cls.__dict__.get("__init__")
    if original is None or getattr(original, "__leadkit_checked__", False):
        return
    config = cls.__module__.startswith(_CONFIG_MODULES)
    built: list[_Checks] = []

    def construct(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], wrong: Any) -> None:
        try:
            original(self, *args, **kwargs)
        except LeadkitError:
            raise  # the class's own, more precise refusal
        except Warning:
            # A warning made an error (`-W error`: NotImplemented truth-tested, say) by an
            # argument of the wrong type is that argument's refusal.
            if wrong is not None:
                _refuse(cls, config, *wrong)
            raise
        except _BUILD_ERRORS as e:
            if wrong is not None:
                _refuse(cls, config, *wrong)
            if isinstance(e, TypeError) and _arity_error(e):
                raise
            _refuse(cls, config, "arguments", _arguments(args, kwargs),
                    f"cannot build a {cls.__name__}: {type(e).__name__}: {e}")  # fmt: skip

    @functools.wraps(original)
    def checked_init(self: Any, *args: Any, **kwargs: Any) -> None:
        checks = built[0] if built else _build(built, cls, original)
        wrong = checks.first_wrong(args, kwargs)
        construct(self, args, kwargs, wrong)
        if wrong is not None:
            _refuse(cls, config, *wrong)
        for name, exact, check, reason in checks.converted:
            value = getattr(self, name, None)
            if type(value) not in exact and not check(value):
                _refuse(cls, config, name, kwargs.get(name, value), reason)

    def trusted_init(self: Any, *args: Any, **kwargs: Any) -> None:
        construct(self, args, kwargs, None)

    checked_init.__leadkit_checked__ = True  # type: ignore[attr-defined]
    checked_init.__leadkit_trusted__ = trusted_init  # type: ignore[attr-defined]
    cls.__init__ = checked_init  # type: ignore[misc]


T = typing.TypeVar("T")


def trusted(cls: type[T]) -> Callable[..., T]:
    """A function building ``cls`` as its checked constructor does for arguments that pass
    the type checks, without running them: for leadkit's own parsers only, where every
    argument is by construction of its parameter's exact type (never for a caller's values).
    The class's own validation runs and its errors are the same InvalidValue (or
    ConfigurationError) the constructor raises; ``cls`` itself when it is not wrapped."""
    init = getattr(vars(cls).get("__init__"), "__leadkit_trusted__", None)
    if init is None:
        return cls
    new = object.__new__

    def build(*args: Any, **kwargs: Any) -> T:
        made: T = new(cls)
        init(made, *args, **kwargs)
        return made

    build.__qualname__ = build.__name__ = f"trusted_{cls.__name__}"
    return build


def _build(built: list[_Checks], cls: type, original: Callable[..., None]) -> _Checks:
    built.append(_Checks(cls, original))
    return built[0]


_BUILD_ERRORS: Final = (
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    ValueError,
    ArithmeticError,
    RecursionError,
    UnicodeError,
)


def _arity_error(error: TypeError) -> bool:
    text = str(error)
    return "positional argument" in text or "keyword argument" in text or "__init__()" in text


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
    return kwargs if not args else (args if not kwargs else (args, kwargs))


def _refuse(cls: type, config: bool, name: str, value: object, reason: str) -> typing.NoReturn:
    if config:
        raise ConfigurationError(cls.__name__, f"{name} {reason} (got {_short(value)})")
    raise InvalidValue(name, value, reason)


def check_constructors(classes: Iterable[object]) -> None:
    """Wrap the constructor of each class given (other objects, exceptions, enums and
    protocols are left alone) with the type checks of the module doc."""
    for cls in classes:
        if not isinstance(cls, type) or issubclass(cls, BaseException | enum.Enum):
            continue
        if getattr(cls, "_is_protocol", False) or not cls.__module__.startswith("leadkit"):
            continue
        if f"{cls.__module__}.{cls.__qualname__}" in UNCHECKED:
            continue
        _wrap(cls)
