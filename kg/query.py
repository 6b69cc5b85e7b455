"""Named SPARQL queries: load ``queries/*.rq`` by name, bind parameters as RDF terms, run.

Each query file starts with a ``#+`` YAML header::

    #+ summary: {zh: 某统筹区的医疗机构, en: Institutions in a region}
    #+ description: …
    #+ params:
    #+   - {name: region, type: region, required: true, description: …}
    #+ returns: [institution, name, level]

Parameters are bound with Oxigraph's ``substitutions`` (SEP-0007): a value is always a
term, never text pasted into the query, so ``" } DROP ALL #`` is a literal that matches
nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from kg import resources
from kg.errors import InputError, LookupFailed, QueryError
from kg.vocab import PREFIXES, XSD, expand_curie, load_vocabulary

HEADER = re.compile(r"^#\+ ?(.*)$")
PARAM_TYPES = (
    "string",
    "langstring",
    "iri",
    "date",
    "integer",
    "decimal",
    "boolean",
    "region",
    "institution",
    "rule",
    "document",
    "concept",
)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool = False
    default: Any = None
    description: str = ""
    scheme: str | None = None  # for type "concept"

    def describe(self) -> str:
        kind = f"concept:{self.scheme}" if self.type == "concept" else self.type
        need = "required" if self.required else f"optional, default {self.default!r}"
        return f"{self.name} ({kind}, {need}) {self.description}".strip()


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    summary: dict[str, str]
    description: str
    params: tuple[Param, ...] = ()
    returns: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def parse_header(path: Path, text: str) -> dict[str, Any]:
    lines = []
    for raw in text.splitlines():
        m = HEADER.match(raw)
        if m:
            lines.append(m.group(1))
        elif raw.strip() and not raw.startswith("#"):
            break
    if not lines:
        return {}
    try:
        data = yaml.safe_load("\n".join(lines)) or {}
    except yaml.YAMLError as exc:
        raise InputError(path, None, f"query header is not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(path, 1, "query header must be a YAML mapping")
    return data


def load_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    header = parse_header(path, text)
    summary = header.get("summary") or {}
    if isinstance(summary, str):
        summary = {"en": summary}
    params = []
    for entry in header.get("params") or []:
        if not isinstance(entry, dict) or "name" not in entry:
            raise InputError(path, None, "each param is {name:, type:, required:, description:}")
        ptype = str(entry.get("type", "string"))
        scheme = None
        if ptype.startswith("concept:"):
            ptype, scheme = "concept", ptype.split(":", 1)[1]
        if ptype not in PARAM_TYPES:
            raise InputError(path, None, f"param {entry['name']}: unknown type {ptype}")
        params.append(
            Param(
                name=str(entry["name"]),
                type=ptype,
                required=bool(entry.get("required", False)),
                default=entry.get("default"),
                description=str(entry.get("description", "")),
                scheme=scheme,
            )
        )
    known = {"summary", "description", "params", "returns"}
    returns = header.get("returns") or ()
    if isinstance(returns, str):  # `returns: boolean` (ASK) or `returns: triples` (CONSTRUCT)
        returns = (returns,)
    return NamedQuery(
        name=path.stem,
        path=path,
        text=text,
        summary=dict(summary),
        description=str(header.get("description", "")).strip(),
        params=tuple(params),
        returns=tuple(str(r) for r in returns),
        extra={k: v for k, v in header.items() if k not in known},
    )


@cache
def catalogue() -> dict[str, NamedQuery]:
    """Every named query shipped in ``queries/``, by name."""
    return {p.stem: load_query(p) for p in sorted(resources.queries_dir().glob("*.rq"))}


def get(name: str) -> NamedQuery:
    queries = catalogue()
    if name in queries:
        return queries[name]
    raise LookupFailed(
        "query", name, difflib.get_close_matches(name, list(queries), n=5, cutoff=0.4)
    )


def text_of(name: str) -> str:
    """The SPARQL text of a named query (for code that runs a query by name)."""
    return get(name).text


# ------------------------------------------------------------------ running

Resolver = Callable[[ox.Store, str], ox.NamedNode]


def run(
    store: ox.Store,
    text: str,
    substitutions: Mapping[str, Any] | None = None,
    source: str = "<query>",
) -> Any:
    """Run SPARQL text; ``substitutions`` maps variable names to terms."""
    subs = {ox.Variable(k): v for k, v in (substitutions or {}).items() if v is not None}
    try:
        return store.query(
            text, substitutions=subs or None, prefixes=PREFIXES, use_default_graph_as_union=True
        )
    except SyntaxError as exc:
        line, column = _location(exc)
        raise InputError(source, line, f"SPARQL syntax error: {_clean(exc)}", column) from None
    except OSError as exc:
        raise QueryError(f"query failed: {exc}") from None


def _location(exc: SyntaxError) -> tuple[int | None, int | None]:
    if exc.lineno:
        return exc.lineno, exc.offset
    m = re.search(r"(\d+):(\d+)", str(exc))
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def _clean(exc: SyntaxError) -> str:
    text = str(exc.msg or exc)
    return re.sub(r"^error at \d+:\d+: ", "", text)


def run_named(store: ox.Store, name: str, values: Mapping[str, Any] | None = None) -> Any:
    """Run a named query with parameters (strings are converted to terms by type)."""
    query = get(name)
    subs = bind(store, query, values or {})
    return run(store, query.text, subs, source=str(query.path))


def bind(store: ox.Store, query: NamedQuery, values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - {p.name for p in query.params})
    if unknown:
        names = ", ".join(p.name for p in query.params) or "none"
        raise QueryError(
            f"query {query.name} has no parameter {', '.join(unknown)} (parameters: {names})"
        )
    out: dict[str, Any] = {}
    for param in query.params:
        value = values.get(param.name, param.default)
        if value is None:
            if param.required:
                raise QueryError(
                    f"query {query.name} needs --param {param.name}=… ({param.describe()})"
                )
            continue
        out[param.name] = to_term(store, param, value)
    return out


def to_term(store: ox.Store | None, param: Param, value: Any) -> Any:
    """Convert a user value to the RDF term of the parameter's type."""
    if isinstance(value, (ox.NamedNode, ox.Literal)):
        return value
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    t = param.type
    try:
        if t == "string":
            return ox.Literal(text)
        if t == "langstring":
            return ox.Literal(text, language="zh")
        if t == "iri":
            return ox.NamedNode(expand_curie(text))
        if t == "date":
            return ox.Literal(dt.date.fromisoformat(text).isoformat(), datatype=XSD.date)
        if t == "integer":
            return ox.Literal(str(int(text)), datatype=XSD.integer)
        if t == "decimal":
            return ox.Literal(str(Decimal(text)), datatype=XSD.decimal)
        if t == "boolean":
            flag = text.strip().lower()
            if flag not in {"true", "false", "yes", "no", "1", "0"}:
                raise ValueError(text)
            return ox.Literal(
                "true" if flag in {"true", "yes", "1"} else "false", datatype=XSD.boolean
            )
        if t == "concept":
            vocab = load_vocabulary()
            iri = vocab.concept(param.scheme or "", text)
            if iri is None:
                raise LookupFailed(
                    f"{param.scheme} value",
                    text,
                    difflib.get_close_matches(
                        text, vocab.notations(param.scheme or ""), n=8, cutoff=0.0
                    ),
                )
            return ox.NamedNode(iri)
    except (ValueError, InvalidOperation):
        raise QueryError(f"parameter {param.name}: '{text}' is not a valid {t}") from None
    if store is None:
        raise QueryError(f"parameter {param.name} of type {t} needs a store")
    from kg import lookup

    if t == "region":
        return lookup.region(store, text).node
    if t == "institution":
        return lookup.institution(store, text).node
    if t == "rule":
        return lookup.statement(store, text)
    if t == "document":
        return lookup.document(store, text)
    raise QueryError(f"parameter {param.name}: unsupported type {t}")  # pragma: no cover


def solutions(results: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Variables and rows (variable → term) of SELECT results."""
    variables = [v.value for v in results.variables]
    rows = [{v: sol[v] for v in variables} for sol in results]
    return variables, rows


def value_of(term: Any) -> Any:
    """A Python value for a term: str for IRIs and strings, int/Decimal/bool/date by datatype."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.Literal):
        dtype = term.datatype.value if term.datatype else ""
        v = term.value
        if dtype.endswith("#integer"):
            return int(v)
        if dtype.endswith("#decimal") or dtype.endswith("#double"):
            return Decimal(v)
        if dtype.endswith("#boolean"):
            return v == "true"
        if dtype.endswith("#date"):
            return dt.date.fromisoformat(v)
        return v
    return str(term)
