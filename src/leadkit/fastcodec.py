"""Generated fast paths for the converter's hot types: read a ``Lead`` straight from parsed
JSON, write it straight to JSON text.

:func:`compile_codec` reads an attrs class's fields and type hints (and those of the attrs
classes it holds) and generates one specialised function per class, compiled with ``exec`` as
attrs and cattrs do. The loader takes only data of exactly the expected shape (a ``dict`` with
every key and nothing else, exact ``str``/``int`` types, JSON lists for tuples) and builds
every value through its class's own constructor, so every invariant still holds; the writer
takes only values of exactly the declared types. On anything else either raises (``Fallback``,
or whatever a constructor raised) and the caller runs the strict converter instead, which
produces the same value, the same text, or the precise error. So the fast paths change speed,
never outcomes; the caller supplies the leaf functions (ids, dates, e-mail, ...) and the strict
hooks for what the generator does not know.

Two shortcuts keep results identical: a class whose ``__init__`` only stores its arguments
(:func:`trivial_init`; ``Lead``) is built by setting its slots, and small values (users,
names, reasons) are memoised by their raw fields. :func:`compile_evolver` is a generated
``attrs.evolve``. :func:`restore_email` rebuilds an :class:`EmailAddress` without running
``email_validator`` (about 50 us an address) when the text is in a plain ASCII subset that
the validator provably accepts unchanged (see its docstring).

Pure: no I/O, clock or randomness; the generated code is kept in :mod:`linecache` only.
"""

from __future__ import annotations

import keyword
import linecache
import re
import types
from collections.abc import Callable, Collection, Mapping
from json.encoder import encode_basestring
from typing import Any, Final, TypeVar, Union, cast, get_args, get_origin

import attrs

from leadkit.values import EmailAddress, plain_email

__all__ = [
    "MEMO_SIZE",
    "Codec",
    "Fallback",
    "Leaf",
    "compile_codec",
    "compile_evolver",
    "compile_partial_loader",
    "email_leaf",
    "fail",
    "restore_email",
    "trivial_init",
    "unchecked",
]


T = TypeVar("T")


class Fallback(Exception):
    """Raised by a fast path for data it does not take; the strict path decides instead."""


def fail(*_: object) -> Any:
    """Raise :class:`Fallback` (usable inside expressions)."""
    raise Fallback


@attrs.frozen
class Leaf:
    """How the fast paths handle one type instead of generating code for it.

    ``load`` builds the value from JSON data (raising anything to refuse it); ``dump`` writes a
    value of exactly that type as JSON text, exactly as the strict converter's JSON would be.
    Either may be None: the strict hook is used then. ``raw`` is the one JSON type (``str``
    or ``int``) ``load`` takes, if it takes only one: values holding it may then be memoised.
    """

    load: Callable[[Any], Any] | None = None
    dump: Callable[[Any], str] | None = None
    raw: type | None = None


LeafLookup = Callable[[Any], Leaf | None]
MEMO_SIZE: Final = 4096
"""Loaded values kept per memoised class (see :func:`compile_codec`)."""
Loader = Callable[[Any], Any]
Writer = Callable[[Any], str]


@attrs.frozen
class Codec:
    """The generated loader and JSON writer of one class (see :func:`compile_codec`)."""

    load: Loader
    dump: Writer
    source: str


def compile_codec(
    cls: type,
    *,
    leaf: LeafLookup,
    plain_load: Callable[[type], bool],
    plain_dump: Callable[[type], bool],
    strict_load: Callable[[Any, Any], Any],
    strict_dump: Callable[[Any, Any], Any],
    encode: Callable[[Any], str],
    omit: Collection[str] = (),
    remember: Collection[type] = (),
) -> Codec:
    """Generate the loader and JSON writer of the attrs class ``cls``.

    ``leaf(t)`` gives the handling of a type the strict converter has its own hook for;
    ``plain_load(c)``/``plain_dump(c)`` say whether the strict converter handles the attrs
    class ``c`` field by field (its generated dict hooks), which the generated code mirrors;
    any other type goes through ``strict_load(data, t)`` / ``encode(strict_dump(value, t))``.
    ``omit`` names fields of ``cls`` that are never stored. The writers of the (frozen) classes
    in ``remember`` keep the text of the last :data:`MEMO_SIZE` values they wrote, by identity
    (for values shared by many, as rescoring shares one explanation per set of met criteria).
    Raises TypeError if ``cls`` is not a plain attrs class.

    Nested classes whose fields all take a JSON ``str`` or ``int`` (users, names, addresses,
    status reasons) are memoised: the loader keeps up to :data:`MEMO_SIZE` values per class,
    keyed by the exact-typed raw field values. Constructors are deterministic and values
    frozen, so a kept value is equal to the one the constructor would build again.
    """
    gen = _Generator(cls, leaf, plain_load, plain_dump, strict_load, strict_dump, encode)
    gen.remember = frozenset(remember)
    if not (_is_generatable(cls) and plain_load(cls) and plain_dump(cls)):
        raise TypeError(f"{cls!r} is not an attrs class the fast codec can generate")
    load_name = gen.loader(cls, frozenset(omit))
    dump_name = gen.writer(cls, frozenset(omit))
    source = "\n".join(gen.lines) + "\n"
    filename = f"<leadkit fastcodec {cls.__module__}.{cls.__qualname__}>"
    code = compile(source, filename, "exec")
    # Registered like attrs and cattrs do, so tracebacks through generated code show it.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(code, gen.namespace)
    return Codec(gen.namespace[load_name], gen.namespace[dump_name], source)


def compile_partial_loader(
    cls: type[T], names: Collection[str], **generator: Any
) -> Callable[[Any], T]:
    """A loader of ``cls`` (built by setting its slots: :func:`trivial_init`) from the data of
    all its fields that sets only the fields ``names``: reading another attribute of what it
    returns raises AttributeError. For a caller that reads only those fields (rescoring reads
    what the model's criteria read); it raises like the full loader for data it does not
    take. ``generator`` takes the arguments of :func:`compile_codec` but ``omit``. Raises
    TypeError for another class or an unknown name.
    """
    if not (_is_generatable(cls) and trivial_init(cls)):
        raise TypeError(f"{cls!r} is not a class the fast codec builds by setting its slots")
    fields = [a for a in _init_fields(cls, frozenset()) if a.name in names]
    if len(fields) != len(set(names)):
        raise TypeError(
            f"{cls.__name__} has no field(s) {sorted(set(names) - {a.name for a in fields})}"
        )
    gen = _Generator(cls, **generator)
    body = [f"def partial_{cls.__name__}(o):", "    if type(o) is not dict:", "        _fail()"]
    body += [f"    x{i} = o[{a.name!r}]" for i, a in enumerate(fields)]
    values = {a.name: gen.load_expr(a.type, f"x{i}") for i, a in enumerate(fields)}
    body += _build(cls, values, gen.namespace, "    ").lines
    source = "\n".join([*gen.lines, *body]) + "\n"
    filename = f"<leadkit fastcodec partial {cls.__module__}.{cls.__qualname__}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), gen.namespace)
    loader: Callable[[Any], T] = gen.namespace[f"partial_{cls.__name__}"]
    return loader


def compile_evolver(cls: type[T], *names: str) -> Callable[..., T]:
    """A function ``evolve(value, *new)`` equal to ``attrs.evolve(value, **dict(zip(names,
    new)))``, generated for ``cls`` (no loop over the fields; see :func:`trivial_init`).

    A value of another class (a subclass) goes through ``attrs.evolve`` itself. Raises
    TypeError if ``cls`` is not a plain attrs class or ``names`` are not fields it takes.
    """
    if not _is_generatable(cls):
        raise TypeError(f"{cls!r} is not an attrs class the fast codec can generate")
    fields = [a.name for a in attrs.fields(cast(Any, cls)) if a.init]
    unknown = set(names) - set(fields)
    if unknown:
        raise TypeError(f"{cls.__name__} takes no field(s) {sorted(unknown)}")
    namespace: dict[str, Any] = {"_evolve": attrs.evolve}
    values = {n: f"new_{n}" if n in names else f"v.{n}" for n in fields}
    build = _build(cls, values, namespace, "    ")
    changes = ", ".join(f"{n}=new_{n}" for n in names)
    source = "\n".join(
        [
            f"def evolve_{cls.__name__}(v, {', '.join(f'new_{n}' for n in names)}):",
            f"    if type(v) is not {build.cls}:",
            f"        return _evolve(v, {changes})",
            *build.lines,
            "",
        ]
    )
    exec(compile(source, f"<leadkit fastcodec evolve {cls.__qualname__}>", "exec"), namespace)
    function: Callable[..., T] = namespace[f"evolve_{cls.__name__}"]
    return function


def unchecked(cls: type[T]) -> Callable[..., T]:
    """``cls`` itself, or for a class whose constructor leadkit wraps with argument type
    checks (:mod:`leadkit._typecheck`) a function building it with the wrapped constructor:
    the same instance, the same validators and converters, without the type checks.

    For the generated loaders only: they pass arguments of exactly the declared types (exact
    JSON types, values their own leaves and loaders built), so the checks could never refuse
    one; any argument they could not vouch for fails there first, and the strict path (which
    does check) decides. Raises nothing itself; the function raises what the constructor
    raises.
    """
    init = cls.__dict__.get("__init__")
    original = getattr(init, "__wrapped__", None)
    if original is None or not getattr(init, "__leadkit_checked__", False):
        return cls
    new = object.__new__

    def build(*args: Any, **kwargs: Any) -> T:
        obj = new(cls)
        original(obj, *args, **kwargs)
        return obj

    build.__qualname__ = build.__name__ = f"unchecked_{cls.__name__}"
    return build


def trivial_init(cls: type) -> bool:
    """True when ``cls.__init__`` (attrs-generated) only stores its arguments: no validators,
    converters, pre- or post-init hooks, no attributes besides the fields (slots).

    Setting the slots directly then builds exactly the instance ``cls(**fields)`` would, in
    half the time; the generated code does that for such classes (``Lead``) and calls the
    constructor of every other class, so value invariants are always checked.
    """
    init = cls.__dict__.get("__init__")
    # leadkit's argument type checks wrap the generated __init__ (leadkit._typecheck).
    init = getattr(init, "__wrapped__", init)
    code = getattr(init, "__code__", None)
    if code is None or not code.co_filename.startswith("<attrs generated"):
        return False
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        return False
    fields = attrs.fields(cls)
    if any(not a.init or a.validator is not None or a.converter is not None for a in fields):
        return False
    slots = {s for k in cls.__mro__[:-1] for s in k.__dict__.get("__slots__", ("__dict__",))}
    names = {a.name for a in fields}
    if not slots <= names | {"__weakref__"}:
        return False
    return all(isinstance(getattr(cls, n, None), types.MemberDescriptorType) for n in names)


@attrs.frozen
class _Build:
    cls: str
    lines: list[str]


def _build(cls: type, values: Mapping[str, str], namespace: dict[str, Any], indent: str) -> _Build:
    """Statements returning a ``cls`` built from the expressions ``values`` (by field)."""
    name = f"_cls_{len(namespace)}_{cls.__name__}"
    namespace[name] = cls
    if not trivial_init(cls):
        args = ", ".join(f"{n}={e}" for n, e in values.items())
        return _Build(name, [f"{indent}return {name}({args})"])
    namespace.setdefault("_new", object.__new__)
    lines = [f"{indent}obj = _new({name})"]
    for field, expr in values.items():
        setter = f"_set_{len(namespace)}_{field}"
        namespace[setter] = getattr(cls, field).__set__
        lines.append(f"{indent}{setter}(obj, {expr})")
    return _Build(name, [*lines, f"{indent}return obj"])


def _is_generatable(cls: object) -> bool:
    if not (isinstance(cls, type) and attrs.has(cls)):
        return False
    return all(
        not a.name.startswith("_") and a.alias == a.name and not keyword.iskeyword(a.name)
        for a in attrs.fields(cls)
    )


def _optional_arg(kind: Any) -> Any | None:
    """``X`` for ``X | None`` (or ``Optional[X]``), else None."""
    if get_origin(kind) in (Union, types.UnionType):
        args = get_args(kind)
        if len(args) == 2 and type(None) in args:
            return args[0] if args[1] is type(None) else args[1]
    return None


def _homogeneous(kind: Any) -> tuple[type, Any] | None:
    """``(tuple, X)`` for ``tuple[X, ...]``, ``(frozenset, X)`` for ``frozenset[X]``."""
    origin, args = get_origin(kind), get_args(kind)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple, args[0]
    if origin is frozenset and len(args) == 1:
        return frozenset, args[0]
    return None


_INLINE: Final = (str, int, bool)


class _Generator:
    def __init__(
        self,
        top: type,
        leaf: LeafLookup,
        plain_load: Callable[[type], bool],
        plain_dump: Callable[[type], bool],
        strict_load: Callable[[Any, Any], Any],
        strict_dump: Callable[[Any, Any], Any],
        encode: Callable[[Any], str],
    ) -> None:
        self._top = top
        self._leaf = leaf
        self._plain_load = plain_load
        self._plain_dump = plain_dump
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "_fail": fail,
            "_enc": encode_basestring,
            "_int_json": int.__repr__,
            "_strict_load": strict_load,
            "_strict_dump": strict_dump,
            "_encode": encode,
        }
        self._names: dict[tuple[str, object], str] = {}
        self._leaves: dict[Any, Leaf | None] = {}
        self._depth = 0
        self.remember: frozenset[type] = frozenset()

    def leaf(self, kind: Any) -> Leaf | None:
        try:
            if kind not in self._leaves:
                self._leaves[kind] = self._leaf(kind)
            return self._leaves[kind]
        except TypeError:  # an unhashable annotation
            return self._leaf(kind)

    def _raw_type(self, kind: Any) -> type | None:
        """The one exact JSON type (str or int) a field of type ``kind`` is loaded from."""
        found = self.leaf(kind)
        if found is not None and found.load is not None:
            return found.raw if found.raw in (str, int) else None
        return kind if kind in (str, int) else None

    def _const(self, value: object, hint: str) -> str:
        key = ("const", id(value))
        if key not in self._names:
            name = f"_{re.sub(r'[^0-9A-Za-z_]', '_', hint)}_{len(self._names)}"
            self.namespace[name] = value
            self._names[key] = name
        return self._names[key]

    def _function_name(self, purpose: str, cls: type) -> tuple[str, bool]:
        """The name of the generated ``purpose`` function for ``cls``, and whether it is new
        (to be generated now) rather than generated already."""
        key = (purpose, cls)
        if key in self._names:
            return self._names[key], False
        name = f"_{purpose}_{cls.__name__}_{len(self._names)}"
        self._names[key] = name
        return name, True

    # Reading ---------------------------------------------------------------------------------

    def loader(self, cls: type, omit: frozenset[str] = frozenset()) -> str:
        name, fresh = self._function_name("load", cls)
        if not fresh:
            return name
        fields = _init_fields(cls, omit)
        body = [
            f"def {name}(o):",
            f"    if type(o) is not dict or len(o) != {len(fields)}:",
            "        _fail()",
        ]
        body += [f"    x{i} = o[{a.name!r}]" for i, a in enumerate(fields)]
        values = {a.name: self.load_expr(a.type, f"x{i}") for i, a in enumerate(fields)}
        args = ", ".join(f"{n}={e}" for n, e in values.items())
        build = f"{self._const(unchecked(cls), cls.__name__)}({args})"
        raw = [self._raw_type(a.type) for a in fields]
        if cls is self._top:
            # Omitted fields get their defaults, as the constructor would give them.
            full = dict(values)
            for a in attrs.fields(cls):
                if a.name not in full and a.default is not attrs.NOTHING:
                    if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
                        break
                    full[a.name] = self._const(a.default, f"default_{a.name}")
            else:
                if len(full) == len(attrs.fields(cls)):
                    body += _build(cls, full, self.namespace, "    ").lines
                    self.lines += [*body, ""]
                    return name
            body.append(f"    return {build}")
        elif fields and None not in raw:
            # Check every raw type first: equal keys then mean identical inputs (1 == True).
            checks = " or ".join(
                f"type(x{i}) is not {t.__name__}" for i, t in enumerate(raw) if t is not None
            )
            memo = self._const({}, f"memo_{cls.__name__}")
            memo_key = "(" + "".join(f"x{i}, " for i in range(len(fields))) + ")"
            body += [
                f"    if {checks}:",
                "        _fail()",
                f"    found = {memo}.get({memo_key})",
                "    if found is None:",
                f"        found = {build}",
                f"        if len({memo}) >= {MEMO_SIZE}:",
                f"            {memo}.clear()",
                f"        {memo}[{memo_key}] = found",
                "    return found",
            ]
        else:
            body.append(f"    return {build}")
        self.lines += [*body, ""]
        return name

    def load_expr(self, kind: Any, src: str) -> str:
        """An expression building a ``kind`` from the data named ``src`` (a local name)."""
        found = self.leaf(kind)
        if found is not None and found.load is not None:
            return f"{self._const(found.load, 'leaf')}({src})"
        if kind in _INLINE:
            return f"({src} if type({src}) is {kind.__name__} else _fail())"
        inner = _optional_arg(kind)
        if inner is not None:
            return f"(None if {src} is None else {self.load_expr(inner, src)})"
        collection = _homogeneous(kind)
        if collection is not None:
            outer, item = collection
            self._depth += 1
            var = f"i{self._depth}"
            items = self.load_expr(item, var)
            self._depth -= 1
            return (
                f"({outer.__name__}([{items} for {var} in {src}]) "
                f"if type({src}) is list else _fail())"
            )
        if _is_generatable(kind) and self._plain_load(kind):
            return f"{self.loader(kind)}({src})"
        return f"_strict_load({src}, {self._const(kind, 'type')})"

    # Writing ---------------------------------------------------------------------------------

    def writer(self, cls: type, omit: frozenset[str] = frozenset()) -> str:
        name, fresh = self._function_name("dump", cls)
        if not fresh:
            return name
        # cattrs writes every attribute given to __init__, in declaration order.
        fields = _init_fields(cls, omit)
        body = [
            f"def {name}(v):",
            f"    if type(v) is not {self._const(cls, cls.__name__)}:",
            "        _fail()",
        ]
        body += [f"    x{i} = v.{a.name}" for i, a in enumerate(fields)]
        body += [f"    y{i} = {self.dump_expr(a.type, f'x{i}')}" for i, a in enumerate(fields)]
        # One f-string (BUILD_STRING) joins the texts; field names are identifiers, so their
        # JSON form holds no quote, backslash or brace that would need escaping here.
        text = "".join(
            ("{{" if i == 0 else ",") + encode_basestring(a.name) + ":{y" + str(i) + "}"
            for i, a in enumerate(fields)
        )
        result = f"f'{text}}}}}'" if fields else "'{}'"
        if cls in self.remember:
            # Kept with the value itself, so its id is not reused while the text is kept.
            memo = self._const({}, f"written_{cls.__name__}")
            body[1:1] = [
                f"    found = {memo}.get(id(v))",
                "    if found is not None and found[0] is v:",
                "        return found[1]",
            ]
            body += [
                f"    text = {result}",
                f"    if len({memo}) >= {MEMO_SIZE}:",
                f"        {memo}.clear()",
                f"    {memo}[id(v)] = (v, text)",
                "    return text",
            ]
        else:
            body.append(f"    return {result}")
        self.lines += [*body, ""]
        return name

    def dump_expr(self, kind: Any, src: str) -> str:
        """An expression giving the JSON text of the value named ``src`` (a local name)."""
        found = self.leaf(kind)
        if found is not None and found.dump is not None:
            exact = get_origin(kind) or kind
            return (
                f"({self._const(found.dump, 'leaf')}({src}) "
                f"if type({src}) is {self._const(exact, 'type')} else _fail())"
            )
        if kind is str:
            return f"(_enc({src}) if type({src}) is str else _fail())"
        if kind is int:
            return f"(_int_json({src}) if type({src}) is int else _fail())"
        if kind is bool:
            return f"(('true' if {src} else 'false') if type({src}) is bool else _fail())"
        inner = _optional_arg(kind)
        if inner is not None:
            return f"('null' if {src} is None else {self.dump_expr(inner, src)})"
        collection = _homogeneous(kind)
        if collection is not None and collection[0] is tuple:
            self._depth += 1
            var = f"i{self._depth}"
            items = self.dump_expr(collection[1], var)
            self._depth -= 1
            return (
                f"(('[' + ','.join([{items} for {var} in {src}]) + ']' if {src} else '[]') "
                f"if type({src}) is tuple else _fail())"
            )
        if _is_generatable(kind) and self._plain_dump(kind):
            return f"{self.writer(kind)}({src})"
        return f"_encode(_strict_dump({src}, {self._const(kind, 'type')}))"


# ---------------------------------------------------------------------------------------------
# E-mail


def restore_email(text: str) -> EmailAddress:
    """The :class:`EmailAddress` for ``text``, built without ``email_validator`` when ``text``
    is a plain ASCII address; raises Fallback otherwise (build ``EmailAddress(text)`` then).

    Equal, field for field, to ``EmailAddress(text)``: for text of this shape (no spaces,
    quotes, display name or non-ASCII; at most 254 characters, a local part of at most 64;
    an LDH domain with a dot, without ``--`` and so without Punycode, ending in letters, not a
    special-use name) email_validator 2.x accepts the address unchanged, and the
    constructor's trimming does nothing, so ``text`` stays and ``normalized`` is the local
    part case-folded and the domain lower-cased, which for ASCII is ``text.lower()``.
    """
    normalized = plain_email(text)
    if normalized is None:
        raise Fallback
    email = object.__new__(EmailAddress)
    object.__setattr__(email, "text", text)
    object.__setattr__(email, "normalized", normalized)
    return email


def email_leaf(value: object) -> EmailAddress:
    """Load leaf for :class:`EmailAddress`: the fast restore, else the constructor.

    Raises Fallback for a value that is not exactly a ``str``, InvalidValue for a bad address.
    """
    if type(value) is not str:
        raise Fallback
    try:
        return restore_email(value)
    except Fallback:
        return EmailAddress(value)


def _init_fields(cls: type, omit: frozenset[str]) -> list[attrs.Attribute[Any]]:
    """The attributes ``__init__`` takes, in declaration order, less ``omit``."""
    return [a for a in attrs.fields(attrs.resolve_types(cls)) if a.init and a.name not in omit]
