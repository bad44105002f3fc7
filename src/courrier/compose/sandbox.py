"""The template engine: Jinja2's immutable sandbox with only what a letter needs.

A template folder comes from a designer or a ministry, not from us, and its texts run where the key file
and the database URL are (on the Dask workers). So a text is an untrusted program:

- the engine is :class:`jinja2.sandbox.ImmutableSandboxedEnvironment`: no attribute starting with ``_``,
  no ``str.format`` escape, no method that changes a list or a dict;
- there are no globals at all (Jinja's ``range``, ``lipsum``, ``cycler``, ``joiner``, ``namespace`` and
  ``dict`` are removed: ``cycler.__init__.__globals__`` was the way to ``os``), and only the filters a
  letter needs (:data:`FILTERS`): no ``attr``, ``map``, ``format``, ``tojson``, ``pprint``, ``xmlattr``;
- ``*`` and ``**`` are capped, so ``{{ "x" * 10**9 }}`` cannot take the worker's memory;
- what a placeholder prints is escaped for the body's light markup (:func:`escape_markup`): a family name
  ``x **Gras**`` prints as written, not in bold. The template's own strings (``t.key``) are the
  designer's, and keep their markup.

A construct the sandbox refuses while a letter is rendered fails that letter with ``template_unsafe``;
:func:`unsafe_constructs` finds the visible ones (``_`` attributes, removed filters) before any letter,
for ``template check`` and for loading.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Private-use characters standing for markup characters that came from data. The layout turns them back
# into the characters themselves (``courrier.compose.layout``), after the markup has been parsed.
ESCAPED_STAR = "\ue000"
ESCAPED_DASH = "\ue001"
ESCAPED_HASH = "\ue002"
_ESCAPES = str.maketrans({"*": ESCAPED_STAR, "\n": " ", "\r": " ", "\ue000": "", "\ue001": "", "\ue002": ""})
UNESCAPE = str.maketrans({ESCAPED_STAR: "*", ESCAPED_DASH: "-", ESCAPED_HASH: "#"})
# What ``_ESCAPES`` and ``UNESCAPE`` change: most values hold none of it, and one search in C is several
# times cheaper than ``str.translate``, which looks every character up in the table (a KeyError each).
# Where there is something to change, ``str.replace`` does it (the same result, ``tests/compose``):
# ``str.translate`` into a private-use character is slow on ASCII text (an ``HC1:`` string of 585
# characters, with its base45 ``*``: 330 µs to escape and 280 µs to unescape, against 1 µs).
_TO_ESCAPE = re.compile("[*\n\r\ue000-\ue002]")
ESCAPED = re.compile("[\ue000-\ue002]")

# Filters kept from Jinja's defaults: text and number shaping only. ``date``, ``number`` and ``money``
# are added by the template loader.
FILTERS = (
    "abs",
    "capitalize",
    "center",
    "count",
    "d",
    "default",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "lower",
    "replace",
    "round",
    "string",
    "title",
    "trim",
    "truncate",
    "upper",
    "wordcount",
)
# The longest string or list a ``*`` may make; the largest exponent ``**`` may take, and the largest
# integer it may make.
MAX_REPEAT = 10_000
MAX_EXPONENT = 64
MAX_BITS = 4096


class TemplateText(str):
    """A string from the template itself (``strings.<lang>.toml``): its markup is meant."""

    __slots__ = ()


def escape_markup(value: Any) -> Any:
    """What a placeholder prints, with the body's markup characters made inert: ``*`` anywhere, a ``-``
    or ``#`` it starts with (a list item or a heading), line breaks (a new paragraph)."""
    if not isinstance(value, str) or isinstance(value, TemplateText):
        return value
    escaped = value
    if _TO_ESCAPE.search(value):
        if ESCAPED.search(value):  # escapes typed in the data stand for nothing: dropped
            escaped = escaped.replace(ESCAPED_STAR, "").replace(ESCAPED_DASH, "").replace(ESCAPED_HASH, "")
        escaped = escaped.replace("*", ESCAPED_STAR).replace("\n", " ").replace("\r", " ")
    if escaped[:1] == "-":
        escaped = ESCAPED_DASH + escaped[1:]
    elif escaped[:1] == "#":
        escaped = ESCAPED_HASH + escaped[1:]
    return escaped


def unescape_markup(text: str) -> str:
    """The characters the escapes stand for (the text of a barcode, which is not markup)."""
    if ESCAPED.search(text) is None:
        return text
    return text.replace(ESCAPED_STAR, "*").replace(ESCAPED_DASH, "-").replace(ESCAPED_HASH, "#")


# A dict's attributes: ``person.items`` is the method, as Jinja resolves it (and the sandbox judges it).
_DICT_ATTRIBUTES = frozenset(dir(dict))


class LetterEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``person.family_name`` straight from the dict: what Jinja's lookup ends with, without the
        ``AttributeError`` it raises and catches first (a record's fields are read on every letter)."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: jinja2.runtime.Context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right!r} is larger than {MAX_EXPONENT}")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() * right > MAX_BITS:
                raise SecurityError(f"a power of more than {MAX_BITS} bits")
            return operator.pow(left, right)
        for sequence, times in ((left, right), (right, left)):
            repeated = isinstance(sequence, str | list | tuple) and isinstance(times, int)
            if repeated and len(sequence) * times > MAX_REPEAT:
                raise SecurityError(f"a repetition longer than {MAX_REPEAT:,}")
        return operator.mul(left, right)


def letter_environment(filters: dict[str, Callable[..., Any]]) -> LetterEnvironment:
    environment = LetterEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=escape_markup,
    )
    environment.globals.clear()
    kept = {name: environment.filters[name] for name in FILTERS}
    environment.filters.clear()
    environment.filters.update(kept | filters)
    return environment


def unsafe_constructs(environment: jinja2.Environment, source: str) -> Iterator[str]:
    """What in ``source`` the sandbox would refuse, as phrases for an error message: attributes and
    keys starting with ``_``, filters and tests the engine does not have, template inclusion."""
    parsed = environment.parse(source)
    for node in parsed.find_all(nodes.Getattr):
        if node.attr.startswith("_"):
            yield f"the attribute .{node.attr}"
    for item in parsed.find_all(nodes.Getitem):
        key = item.arg.value if isinstance(item.arg, nodes.Const) else None
        if isinstance(key, str) and key.startswith("_"):
            yield f"the key [{key!r}]"
    for used in parsed.find_all(nodes.Filter):
        if used.name not in environment.filters:
            yield f"the filter |{used.name}"
    for test in parsed.find_all(nodes.Test):
        if test.name not in environment.tests:
            yield f"the test 'is {test.name}'"
    for _ in parsed.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        yield "including another template"
    assigned = {name.name for name in parsed.find_all(nodes.Name) if name.ctx == "store"}
    for name in parsed.find_all(nodes.Name):
        if name.ctx == "load" and name.name in DEFAULT_NAMESPACE and name.name not in assigned:
            yield f"Jinja's global {name.name}"
