"""Route templates of HTTP-triggered functions (the ASP.NET Core subset Functions uses).

Supported: literal segments (matched case-insensitively), `{name}`, constraints `{name:int}`,
`long`, `guid`, `alpha`, `bool`, `double`, `float`, `decimal`, `min(n)`, `max(n)`,
`range(a,b)`, `length(n)`, `length(a,b)`, `minlength(n)`, `maxlength(n)` (several may be chained,
`{id:int:min(1)}`), optional `{name?}`, defaults `{name=value}`, catch-all `{*rest}` /
`{**rest}`, and complex segments like `{name}.{ext}`. Not supported: `regex(...)`, `datetime`.

When several routes match a path, the one allowed for the request method with the best
precedence wins; per segment, best first: literal, complex, constrained parameter,
parameter, optional parameter, catch-all (so `items/special` beats `items/{id}`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

from tools.devhost.errors import ConfigurationError

T = TypeVar("T")

_PARAM = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_CONSTRAINT = re.compile(r"^(?P<name>[a-z]+)(?:\((?P<args>[^()]*)\))?$", re.IGNORECASE)
_TYPE_PATTERNS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "guid": r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}",
    "alpha": r"[a-z]+",
    "bool": r"true|false",
    "double": r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?",
    "float": r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?",
    "decimal": r"-?(?:\d+\.?\d*|\.\d+)",
}
# Precedence per segment; lower wins.
LITERAL, COMPLEX, CONSTRAINED, PARAMETER, OPTIONAL, CATCH_ALL = range(1, 7)

Validator = Callable[[str], bool]


def _int_args(args: str | None, count: tuple[int, ...], text: str) -> list[int]:
    parts = [] if args is None else [a.strip() for a in args.split(",")]
    if len(parts) not in count or not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise ConfigurationError(f"route constraint {text!r}: bad arguments")
    return [int(p) for p in parts]


def _constraint(text: str) -> tuple[str | None, Validator | None]:
    """A constraint -> (regex for the value or None, extra validator or None)."""
    match = _CONSTRAINT.match(text)
    if not match:
        raise ConfigurationError(f"route constraint {text!r} is not supported by the local host")
    name, args = match["name"].lower(), match["args"]
    if name in _TYPE_PATTERNS and args is None:
        return _TYPE_PATTERNS[name], None
    if name in ("min", "max"):
        (bound,) = _int_args(args, (1,), text)
        if name == "min":
            return _TYPE_PATTERNS["long"], lambda v: int(v) >= bound
        return _TYPE_PATTERNS["long"], lambda v: int(v) <= bound
    if name == "range":
        low, high = _int_args(args, (2,), text)
        return _TYPE_PATTERNS["long"], lambda v: low <= int(v) <= high
    if name == "length":
        bounds = _int_args(args, (1, 2), text)
        low, high = bounds[0], bounds[-1]
        return None, lambda v: low <= len(v) <= high
    if name in ("minlength", "maxlength"):
        (bound,) = _int_args(args, (1,), text)
        if name == "minlength":
            return None, lambda v: len(v) >= bound
        return None, lambda v: len(v) <= bound
    raise ConfigurationError(f"route constraint {text!r} is not supported by the local host")


@dataclass(frozen=True)
class _Param:
    name: str
    group: str
    validators: tuple[Validator, ...]
    optional: bool
    default: str | None
    catch_all: bool
    constrained: bool


@dataclass(frozen=True)
class _Segment:
    kind: int
    regex: re.Pattern[str] | None
    params: tuple[_Param, ...]
    signature: str


def _pattern_validator(compiled: re.Pattern[str]) -> Validator:
    return lambda value: compiled.fullmatch(value) is not None


def _parse_param(text: str, group: str, template: str) -> _Param:
    body = text
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    default: str | None = None
    if "=" in body:
        body, default = body.split("=", 1)
    optional = body.endswith("?")
    body = body.rstrip("?")
    name, *constraints = body.split(":")
    if not _NAME.match(name):
        raise ConfigurationError(f"route {template!r}: bad parameter {{{text}}}")
    patterns: list[str] = []
    validators: list[Validator] = []
    for item in constraints:
        pattern, validator = _constraint(item)
        if pattern:
            patterns.append(pattern)
        if validator:
            validators.append(validator)
    for pattern in patterns:  # every type constraint must hold
        validators.insert(0, _pattern_validator(re.compile(pattern, re.IGNORECASE)))
    return _Param(
        name,
        group,
        tuple(validators),
        optional or default is not None or catch_all,
        default,
        catch_all,
        bool(constraints),
    )


def _parse_segment(text: str, index: int, template: str) -> _Segment:
    pieces = _PARAM.split(text)  # literal, param, literal, param, ..., literal
    if "{" in "".join(pieces[0::2]) or "}" in "".join(pieces[0::2]):
        raise ConfigurationError(f"route {template!r}: unbalanced braces in segment {text!r}")
    params: list[_Param] = []
    regex = ""
    signature = ""
    for position, piece in enumerate(pieces):
        if position % 2 == 0:
            regex += re.escape(piece)
            signature += piece.lower()
        else:
            param = _parse_param(piece, f"g{index}_{len(params)}", template)
            params.append(param)
            regex += f"(?P<{param.group}>.+)"
            signature += "{" + ":".join(piece.split("=")[0].split(":")[1:]).lower() + "}"
    if not params:
        return _Segment(LITERAL, re.compile(regex, re.IGNORECASE), (), signature)
    if len(params) > 1 or pieces[0] or pieces[-1]:
        if any(p.catch_all or p.optional for p in params):
            raise ConfigurationError(f"route {template!r}: complex segment {text!r} is not supported")
        return _Segment(COMPLEX, re.compile(regex, re.IGNORECASE), tuple(params), signature)
    param = params[0]
    if param.catch_all:
        return _Segment(CATCH_ALL, None, (param,), "{*}")
    kind = OPTIONAL if param.optional else CONSTRAINED if param.constrained else PARAMETER
    return _Segment(kind, re.compile(regex, re.IGNORECASE), (param,), signature)


class RouteTemplate:
    """One compiled route template, e.g. `fraud-reports/{case_id:guid}/resolution`."""

    def __init__(self, template: str) -> None:
        self.template = template
        text = template.strip().strip("/")
        self.segments: tuple[_Segment, ...] = tuple(
            _parse_segment(part, index, template)
            for index, part in enumerate(text.split("/") if text else [])
        )
        names = [p.name.lower() for s in self.segments for p in s.params]
        if len(names) != len(set(names)):
            raise ConfigurationError(f"route {template!r}: a parameter name is used twice")
        for position, segment in enumerate(self.segments):
            last = position == len(self.segments) - 1
            if segment.kind == CATCH_ALL and not last:
                raise ConfigurationError(f"route {template!r}: a catch-all must be the last segment")
            if segment.kind == OPTIONAL and not all(
                s.kind in (OPTIONAL, CATCH_ALL) for s in self.segments[position:]
            ):
                raise ConfigurationError(f"route {template!r}: only trailing segments can be optional")

    @property
    def precedence(self) -> tuple[int, ...]:
        """Sort key; a smaller key is a more specific route."""
        return tuple(segment.kind for segment in self.segments)

    @property
    def signature(self) -> str:
        """The template with parameter names erased; equal signatures match the same paths."""
        return "/".join(segment.signature for segment in self.segments)

    def match(self, path_segments: list[str]) -> dict[str, str] | None:
        """Route values if the (percent-decoded) path segments match, else None."""
        values: dict[str, str] = {}
        for position, segment in enumerate(self.segments):
            if segment.kind == CATCH_ALL:
                rest = "/".join(path_segments[position:])
                param = segment.params[0]
                if rest or param.default is not None:
                    values[param.name] = rest or param.default or ""
                return values
            if position >= len(path_segments):
                if segment.kind != OPTIONAL:
                    return None
                param = segment.params[0]
                if param.default is not None:
                    values[param.name] = param.default
                continue
            assert segment.regex is not None
            found = segment.regex.fullmatch(path_segments[position])
            if not found:
                return None
            for param in segment.params:
                value = found.group(param.group)
                if not all(check(value) for check in param.validators):
                    return None
                values[param.name] = value
        if len(path_segments) > len(self.segments):
            return None
        return values


@dataclass(frozen=True)
class Route(Generic[T]):
    """A template, the methods it accepts (None = any) and what it leads to."""

    template: RouteTemplate
    methods: frozenset[str] | None
    target: T


@dataclass(frozen=True)
class RouteResult(Generic[T]):
    """The chosen route (None when nothing fits); `allowed`: the methods of the routes whose
    path matched (Azure, and so the gateway, still answers 404 then, not 405)."""

    route: Route[T] | None
    params: dict[str, str] = field(default_factory=dict)
    allowed: frozenset[str] = frozenset()

    @property
    def method_not_allowed(self) -> bool:
        """True when the path matched some route but none accepts the method."""
        return self.route is None and bool(self.allowed)


def split_path(path: str) -> list[str]:
    """Split a raw URL path into percent-decoded segments (an encoded `/` stays in its segment)."""
    text = path.strip("/")
    return [unquote(part) for part in text.split("/")] if text else []


class Router(Generic[T]):
    """The HTTP routes of one app under a route prefix (host.json routePrefix)."""

    def __init__(self, prefix: str = "api") -> None:
        self.prefix = split_path(prefix)
        self._routes: list[Route[T]] = []

    @property
    def routes(self) -> list[Route[T]]:
        """Routes in match order (best precedence first)."""
        return list(self._routes)

    def add(self, template: str, methods: Iterable[str] | None, target: T) -> Route[T]:
        """Register a route; ConfigurationError for a bad template or an exact duplicate."""
        compiled = RouteTemplate(template)
        method_set = frozenset(m.upper() for m in methods) if methods else None
        for existing in self._routes:
            overlap = existing.methods is None or method_set is None or existing.methods & method_set
            if existing.template.signature == compiled.signature and overlap:
                raise ConfigurationError(
                    f"route {template!r} duplicates route {existing.template.template!r}"
                )
        route = Route(compiled, method_set, target)
        self._routes.append(route)
        self._routes.sort(key=lambda r: r.template.precedence)  # stable: ties keep add order
        return route

    def match(self, method: str, path: str) -> RouteResult[T]:
        """Find the route for a request path (raw, with the prefix) and method."""
        segments = split_path(path)
        count = len(self.prefix)
        if [s.lower() for s in segments[:count]] != [p.lower() for p in self.prefix]:
            return RouteResult(None)
        segments = segments[count:]
        allowed: set[str] = set()
        method = method.upper()
        for route in self._routes:
            values = route.template.match(segments)
            if values is None:
                continue
            if route.methods is None or method in route.methods:
                return RouteResult(route, values)
            allowed.update(route.methods)
        return RouteResult(None, allowed=frozenset(allowed))
