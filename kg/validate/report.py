"""Validation results and the report formats: text, table, JSON, W3C Turtle.

Pipeline stage: validation output. A :class:`Result` is one SHACL validation result (focus
node, path, value, source shape, constraint component, severity, bilingual message).
:func:`describe` looks up what a reader needs to recognise a node (its label, code or id,
class and source graph) through the store's pattern API; the renderers group results by
rule (source shape) and speak of rules and institutions, not constraint components.
The JSON format is documented in docs/validation.md; the Turtle format is the W3C SHACL
validation report, serialized by rdflib.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kg.errors import KgError
from kg.validate.shapes import SHAPES_NS, Shape, ShapesGraph, Term
from kg.vocab import DCTERMS, GRAPH, ID, NS, RDF, RDFS, SH_NS, SKOS, XSD_NS, YB

SEVERITIES = {
    SH_NS + "Violation": "violation",
    SH_NS + "Warning": "warning",
    SH_NS + "Info": "info",
}
SEVERITY_LABELS = {
    "violation": {"zh": "违规", "en": "violation"},
    "warning": {"zh": "警告", "en": "warning"},
    "info": {"zh": "提示", "en": "info"},
}
FORMATS = ("text", "table", "json", "turtle")
JSON_FORMAT_VERSION = 1

# What failed, in words (the shape's message says what the rule is). Keys are constraint
# components; {param} is the constraint's parameter.
COMPONENT_TEXT: dict[str, dict[str, str]] = {
    "MinCountConstraintComponent": {
        "zh": "缺少（至少 {param} 个）",
        "en": "missing (at least {param})",
    },
    "MaxCountConstraintComponent": {
        "zh": "过多（至多 {param} 个）",
        "en": "too many (at most {param})",
    },
    "ClassConstraintComponent": {"zh": "不是 {param}", "en": "not a {param}"},
    "DatatypeConstraintComponent": {
        "zh": "数据类型应为 {param}",
        "en": "datatype should be {param}",
    },
    "NodeKindConstraintComponent": {
        "zh": "节点类型应为 {param}",
        "en": "node kind should be {param}",
    },
    "PatternConstraintComponent": {"zh": "格式不符 {param}", "en": "does not match {param}"},
    "MinInclusiveConstraintComponent": {"zh": "小于 {param}", "en": "below {param}"},
    "MaxInclusiveConstraintComponent": {"zh": "大于 {param}", "en": "above {param}"},
    "MinExclusiveConstraintComponent": {"zh": "不大于 {param}", "en": "not above {param}"},
    "MaxExclusiveConstraintComponent": {"zh": "不小于 {param}", "en": "not below {param}"},
    "MinLengthConstraintComponent": {"zh": "短于 {param} 个字符", "en": "shorter than {param}"},
    "MaxLengthConstraintComponent": {"zh": "长于 {param} 个字符", "en": "longer than {param}"},
    "LanguageInConstraintComponent": {"zh": "语言应为 {param}", "en": "language should be {param}"},
    "UniqueLangConstraintComponent": {
        "zh": "同一语言有多个值",
        "en": "several values in one language",
    },
    "InConstraintComponent": {"zh": "不在允许的取值中", "en": "not one of the allowed values"},
    "HasValueConstraintComponent": {"zh": "缺少取值 {param}", "en": "lacks the value {param}"},
    "NodeConstraintComponent": {"zh": "不符合 {param}", "en": "does not conform to {param}"},
    "QualifiedValueShapeConstraintComponent": {
        "zh": "符合 {param} 的值数量不对",
        "en": "wrong number of values conforming to {param}",
    },
    "LessThanConstraintComponent": {"zh": "不小于 {param}", "en": "not less than {param}"},
    "LessThanOrEqualsConstraintComponent": {"zh": "大于 {param}", "en": "greater than {param}"},
    "SPARQLConstraintComponent": {"zh": "", "en": ""},
}


@dataclass(frozen=True)
class Result:
    """One validation result."""

    focus: Term
    shape: Term
    component: str  # local name in sh:, e.g. "MinCountConstraintComponent"
    severity: str  # "violation", "warning" or "info"
    path: Term | None = None
    value: Term | None = None
    message: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    constraint: Term | None = None  # the sh:sparql node of a SHACL-SPARQL result
    detail: str = ""  # the constraint's parameter, for COMPONENT_TEXT

    def key(self) -> tuple[str, str, str, str, str]:
        """(focus, path, value, sourceShape, component) in N-Triples, blank nodes anonymous."""
        return (
            _nt(self.focus),
            _nt(self.path),
            _nt(self.value),
            _nt(self.shape),
            SH_NS + self.component,
        )


def _nt(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:"
    return str(term)


@dataclass
class Report:
    """The results of one validation run."""

    results: list[Result]
    engine: str
    seconds: float = 0.0
    scope: str = "all"  # "all", "focus", "region CODE", "data FILE…"
    shapes: ShapesGraph | None = None
    timings: list[Any] = field(default_factory=list)  # per check (Oxigraph engine)

    @property
    def counts(self) -> dict[str, int]:
        out = {"violation": 0, "warning": 0, "info": 0}
        for r in self.results:
            out[r.severity] = out.get(r.severity, 0) + 1
        return out

    @property
    def conforms(self) -> bool:
        """No violation (warnings and infos are reported but do not fail)."""
        return self.counts["violation"] == 0

    @property
    def exit_code(self) -> int:
        return 0 if self.conforms else 1

    def summary(
        self,
        limit: int = 5,
        files: Mapping[Term, str] | None = None,
        command: str = "yibao validate",
    ) -> str:
        """A few lines for error messages (the build gate): counts per rule, the source files
        of each rule's violations (``files``: focus node → file) and the command to run for
        the full report."""
        files = files or {}
        by_shape: dict[Term, list[Result]] = {}
        for r in self.results:
            if r.severity == "violation":
                by_shape.setdefault(r.shape, []).append(r)
        lines = [
            f"{self.counts['violation']} SHACL violation(s) / 处违规 in {len(by_shape)} rule(s)"
        ]
        for shape, results in sorted(by_shape.items(), key=lambda kv: -len(kv[1]))[:limit]:
            line = f"  {len(results)} × {self._shape_title(shape)}"
            where = sorted({files[r.focus] for r in results if r.focus in files})
            if where:
                more = f" (+{len(where) - 3})" if len(where) > 3 else ""
                line += " — " + ", ".join(where[:3]) + more
            lines.append(line)
        if len(by_shape) > limit:
            lines.append(f"  … {len(by_shape) - limit} more rule(s)")
        lines.append(f"full report / 完整报告: {command}")
        return "\n".join(lines)

    def _shape_title(self, shape: Term) -> str:
        s = self.shapes.shapes.get(shape) if self.shapes else None
        return shape_title(shape, s)


def shape_title(node: Term, shape: Shape | None) -> str:
    ident = _short_shape(node)
    if shape is not None and shape.label:
        label = " / ".join(v for k, v in sorted(shape.label.items(), key=_lang_order) if v)
        return f"{ident} {label}"
    return ident


def _lang_order(item: tuple[str, str]) -> int:
    return {"zh": 0, "en": 1}.get(item[0], 2)


def _short_shape(node: Term) -> str:
    if isinstance(node, ox.NamedNode) and node.value.startswith(SHAPES_NS):
        return "ybsh:" + node.value[len(SHAPES_NS) :]
    return str(node)


# ------------------------------------------------------------------ messages


_VAR = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, bindings: Mapping[str, Any]) -> str:
    """Put the bound values into a ``{?var}`` message template (unbound: ``…``)."""

    def one(m: re.Match[str]) -> str:
        term = bindings.get(m.group(1))
        return display_term(term) if term is not None else "…"

    return _VAR.sub(one, template)


def display_term(term: Any) -> str:
    """A term as a reader sees it: a literal's text, an IRI's last segment."""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return re.split(r"[/#]", term.value.rstrip("/"))[-1]
    return str(term)


def component_text(result: Result, lang: str) -> str:
    template = COMPONENT_TEXT.get(result.component, {}).get(lang, "")
    return template.format(param=result.detail) if template else ""


# ------------------------------------------------------------------ describing nodes


@dataclass
class NodeInfo:
    label: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    kind: str | None = None
    graph: str | None = None
    owner: NodeInfo | None = None  # the node an unnamed node was minted below
    part: str | None = None  # its IRI below the owner's (``service/inpatient``)

    def text(self, node: Term, lang: str = "zh") -> str:
        name = self.label.get(lang) or self.label.get("zh") or self.label.get("en")
        parts = [p for p in (name, f"[{self.code}]" if self.code else None) if p]
        if parts:
            return " ".join(parts)
        if self.owner is not None and self.part:
            return f"{self.owner.text(node, lang)} › {self.part}"
        if isinstance(node, ox.NamedNode) and node.value.startswith(ID):
            return node.value[len(ID) :]
        return display_term(node)


# Classes too general to tell a reader what a node is when a narrower one is known.
GENERIC_CLASSES = {"Region", "PoolingRegion", "PolicyStatement"}
CODE_PROPERTIES = (YB.institutionCode, YB.regionCode, DCTERMS.identifier, SKOS.notation)
LABEL_PROPERTIES = (RDFS.label, SKOS.prefLabel)


def describe(db: ox.Store, nodes: Iterable[Term]) -> dict[Term, NodeInfo]:
    """Label, code (institution or region code, id, notation), class and graph of nodes."""
    out: dict[Term, NodeInfo] = {}
    for node in nodes:
        if node in out or not isinstance(node, (ox.NamedNode, ox.BlankNode)):
            continue
        info = NodeInfo()
        for prop in LABEL_PROPERTIES:
            for q in db.quads_for_pattern(node, prop, None, None):
                lang = getattr(q.object, "language", None)
                if lang and lang not in info.label:
                    info.label[lang] = str(getattr(q.object, "value", ""))
        for prop in CODE_PROPERTIES:
            found = next(iter(db.quads_for_pattern(node, prop, None, None)), None)
            if found is not None:
                info.code = str(getattr(found.object, "value", ""))
                break
        kinds: set[str] = set()
        for q in db.quads_for_pattern(node, RDF.type, None, None):
            if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(NS):
                kinds.add(q.object.value[len(NS) :])
            if isinstance(q.graph_name, ox.NamedNode) and info.graph is None:
                info.graph = _graph_name(q.graph_name)
        specific = sorted(kinds - GENERIC_CLASSES) or sorted(kinds)
        info.kind = "/".join(specific) or None
        if info.graph is None:
            first = next(iter(db.quads_for_pattern(node, None, None, None)), None)
            if first is not None and isinstance(first.graph_name, ox.NamedNode):
                info.graph = _graph_name(first.graph_name)
        out[node] = info
    for node, info in list(out.items()):
        if info.label or info.code or not isinstance(node, ox.NamedNode):
            continue
        owner, part = _owner(db, node)
        if owner is not None:
            info.owner = describe(db, [owner])[owner]
            info.part = part
    return out


def _owner(db: ox.Store, node: ox.NamedNode) -> tuple[ox.NamedNode | None, str | None]:
    """The named node an IRI was minted below (``…/rule/x`` for ``…/rule/x/source/1``)."""
    value = node.value
    while "/" in value[len(ID) :]:
        value = value.rsplit("/", 1)[0]
        candidate = ox.NamedNode(value)
        for prop in (*LABEL_PROPERTIES, *CODE_PROPERTIES):
            if next(iter(db.quads_for_pattern(candidate, prop, None, None)), None) is not None:
                return candidate, node.value[len(value) + 1 :]
    return None, None


def _graph_name(graph: ox.NamedNode) -> str:
    return graph.value[len(GRAPH) :] if graph.value.startswith(GRAPH) else graph.value


def result_nodes(results: Iterable[Result]) -> set[Term]:
    nodes: set[Term] = set()
    for r in results:
        nodes.add(r.focus)
        if r.value is not None:
            nodes.add(r.value)
    return nodes


# ------------------------------------------------------------------ grouping


def grouped(results: Iterable[Result]) -> list[tuple[Term, Term | None, list[Result]]]:
    """Results by rule (shape, and SPARQL constraint), most results first."""
    groups: dict[tuple[Term, Term | None], list[Result]] = {}
    for r in results:
        groups.setdefault((r.shape, r.constraint), []).append(r)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), str(kv[0][0])))
    return [(shape, constraint, rows) for (shape, constraint), rows in ordered]


def _sort_key(r: Result) -> tuple[str, str, str]:
    return (_nt(r.focus), _nt(r.path), _nt(r.value))


# ------------------------------------------------------------------ text and table


def render_text(
    report: Report, info: Mapping[Term, NodeInfo], lang: str = "zh", limit: int = 50
) -> str:
    """Results grouped by rule: what the rule says, then one line per offending node."""
    other = "en" if lang == "zh" else "zh"
    lines: list[str] = []
    counts = report.counts
    status = (
        "conforms / 数据符合全部规则"
        if report.conforms
        else f"does not conform / 数据不符合规则: {counts['violation']} violation(s) / 处违规"
    )
    lines.append(
        f"{status}; {counts['warning']} warning(s) / 警告 "
        f"[{report.engine}, {report.scope}, {report.seconds:.2f} s]"
    )
    for shape_node, _constraint, rows in grouped(report.results):
        shape = report.shapes.shapes.get(shape_node) if report.shapes else None
        first = rows[0]
        sev = SEVERITY_LABELS[first.severity]
        lines.append("")
        lines.append(f"[{sev[lang].upper()}] {shape_title(shape_node, shape)} — {len(rows)}")
        messages = _distinct_messages(rows, lang, other)
        if len(messages) == 1:
            lines.extend(f"  {m}" for m in messages[0])
        for r in sorted(rows, key=_sort_key)[:limit]:
            lines.append("  - " + _line(r, info, lang))
            if len(messages) > 1:
                lines.extend(f"      {m}" for m in _messages(r, lang, other))
        if len(rows) > limit:
            lines.append(f"  … {len(rows) - limit} more / 另有 {len(rows) - limit} 条")
    return "\n".join(lines) + "\n"


def _messages(r: Result, lang: str, other: str) -> list[str]:
    return [m for m in (r.message.get(lang), r.message.get(other)) if m]


def _distinct_messages(rows: list[Result], lang: str, other: str) -> list[list[str]]:
    seen: list[list[str]] = []
    for r in rows:
        m = _messages(r, lang, other)
        if m not in seen:
            seen.append(m)
    return seen


def _line(r: Result, info: Mapping[Term, NodeInfo], lang: str) -> str:
    node = info.get(r.focus, NodeInfo())
    text = node.text(r.focus, lang)
    where = []
    if node.kind:
        where.append(node.kind)
    if node.graph:
        where.append(node.graph)
    if where:
        text += f" ({', '.join(where)})"
    if r.path is not None:
        text += f" {_path_text(r.path)}"
    if r.value is not None and r.value != r.focus:
        value = info.get(r.value)
        text += " = " + (value.text(r.value, lang) if value else _value_text(r.value))
    what = component_text(r, lang)
    if what:
        text += f": {what}"
    return text


def _value_text(term: Term) -> str:
    if isinstance(term, ox.Literal):
        suffix = f"@{term.language}" if term.language else ""
        return f'"{term.value}"{suffix}'
    return display_term(term)


def _path_text(path: Term) -> str:
    from kg.vocab import PREFIXES

    if isinstance(path, ox.NamedNode):
        for prefix, ns in PREFIXES.items():
            if path.value.startswith(ns):
                return f"{prefix}:{path.value[len(ns) :]}"
        return f"<{path.value}>"
    return "(path)"


def table_rows(report: Report, info: Mapping[Term, NodeInfo], lang: str = "zh") -> list[list[str]]:
    """One row per result: severity, rule, node, code, path, value, message (both languages,
    ``lang`` first)."""
    other = "en" if lang == "zh" else "zh"
    rows = []
    for shape_node, _constraint, results in grouped(report.results):
        for r in sorted(results, key=_sort_key):
            node = info.get(r.focus, NodeInfo())
            name = node.label.get(lang) or node.label.get("zh") or node.label.get("en")
            if not name and not node.code:
                name = node.text(r.focus, lang)
            value = ""
            if r.value is not None and r.value != r.focus:
                v = info.get(r.value)
                value = v.text(r.value, lang) if v else _value_text(r.value)
            message = "\n".join(m for m in (r.message.get(lang), r.message.get(other)) if m)
            what = component_text(r, lang)
            rows.append(
                [
                    SEVERITY_LABELS[r.severity][lang],
                    _short_shape(shape_node),
                    name or "",
                    node.code or "",
                    _path_text(r.path) if r.path is not None else "",
                    value,
                    f"{what}: {message}" if what else message,
                ]
            )
    return rows


# ------------------------------------------------------------------ JSON


def to_json(report: Report, info: Mapping[Term, NodeInfo]) -> dict[str, Any]:
    """The documented JSON report (docs/validation.md, ``format_version`` 1)."""
    results = []
    for shape_node, constraint, rows in grouped(report.results):
        shape = report.shapes.shapes.get(shape_node) if report.shapes else None
        for r in sorted(rows, key=_sort_key):
            node = info.get(r.focus, NodeInfo())
            value_info = info.get(r.value) if r.value is not None else None
            results.append(
                {
                    "severity": r.severity,
                    "rule": _short_shape(shape_node),
                    "rule_iri": _iri(shape_node),
                    "rule_label": dict(shape.label) if shape else {},
                    "constraint": _iri(constraint)
                    if isinstance(constraint, ox.NamedNode)
                    else None,
                    "component": r.component,
                    "focus": _iri(r.focus),
                    "focus_label": dict(node.label),
                    "focus_code": node.code,
                    "focus_class": node.kind,
                    "graph": node.graph,
                    "path": _path_text(r.path) if r.path is not None else None,
                    "value": _json_term(r.value),
                    "value_label": dict(value_info.label) if value_info else {},
                    "value_code": value_info.code if value_info else None,
                    "message": dict(r.message),
                    "problem": {lang: component_text(r, lang) for lang in ("zh", "en")}
                    if r.component != "SPARQLConstraintComponent"
                    else {},
                }
            )
    return {
        "format_version": JSON_FORMAT_VERSION,
        "conforms": report.conforms,
        "engine": report.engine,
        "scope": report.scope,
        "seconds": round(report.seconds, 3),
        "counts": report.counts,
        "results": results,
    }


def _iri(term: Term | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)


def _json_term(term: Term | None) -> Any:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["language"] = term.language
        elif term.datatype is not None:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    return {"type": "bnode", "value": str(term)}


def render_json(report: Report, info: Mapping[Term, NodeInfo]) -> str:
    return json.dumps(to_json(report, info), ensure_ascii=False, indent=2) + "\n"


def render_json_error(error: KgError) -> str:
    """What ``--format json`` prints on stdout when the run fails (exit 2): the error, with
    its file, line and column when it has them; ``conforms`` is ``null`` (nothing was
    validated). The same error is printed on stderr as text.

    >>> from kg.errors import InputError
    >>> print(render_json_error(InputError("a.ttl", 5, "Turtle syntax error", 38)))
    {
      "format_version": 1,
      "conforms": null,
      "error": {
        "message": "a.ttl:5:38: Turtle syntax error",
        "path": "a.ttl",
        "line": 5,
        "column": 38
      }
    }
    <BLANKLINE>
    """
    path = getattr(error, "path", None)
    detail = {
        "message": error.render(),
        "path": str(path) if path is not None else None,
        "line": getattr(error, "line", None),
        "column": getattr(error, "column", None),
    }
    out = {"format_version": JSON_FORMAT_VERSION, "conforms": None, "error": detail}
    return json.dumps(out, ensure_ascii=False, indent=2) + "\n"


# ------------------------------------------------------------------ W3C validation report


def report_graph(report: Report) -> Any:
    """The W3C SHACL validation report as an rdflib graph (paths copied from the shapes)."""
    import rdflib
    from rdflib.namespace import RDF as R
    from rdflib.namespace import SH

    g = rdflib.Graph()
    g.bind("sh", SH)
    g.bind("ybsh", SHAPES_NS)
    g.bind("yb", YB.base)
    root = rdflib.BNode()
    g.add((root, R.type, SH.ValidationReport))
    g.add((root, SH.conforms, rdflib.Literal(report.conforms)))
    shape_triples = report.shapes.triples if report.shapes else []
    copied: set[Term] = set()
    for r in sorted(report.results, key=lambda r: r.key()):
        node = rdflib.BNode()
        g.add((root, SH.result, node))
        g.add((node, R.type, SH.ValidationResult))
        g.add((node, SH.focusNode, to_rdflib(r.focus)))
        g.add((node, SH.resultSeverity, SH[r.severity.capitalize()]))
        g.add((node, SH.sourceShape, to_rdflib(r.shape)))
        g.add((node, SH.sourceConstraintComponent, SH[r.component]))
        if r.constraint is not None:
            g.add((node, SH.sourceConstraint, to_rdflib(r.constraint)))
            _copy(g, shape_triples, r.constraint, copied)
        if r.path is not None:
            g.add((node, SH.resultPath, to_rdflib(r.path)))
            _copy(g, shape_triples, r.path, copied)
        if r.value is not None:
            g.add((node, SH.value, to_rdflib(r.value)))
        for lang, text in sorted(r.message.items()):
            g.add((node, SH.resultMessage, rdflib.Literal(text, lang=lang or None)))
    return g


def _copy(g: Any, triples: list[ox.Triple], node: Term, done: set[Term]) -> None:
    """Copy a blank-node structure (a complex path, a SPARQL constraint) into the report."""
    if not isinstance(node, ox.BlankNode) or node in done:
        return
    done.add(node)
    for t in triples:
        if t.subject == node:
            g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
            _copy(g, triples, t.object, done)


def to_rdflib(term: Any) -> Any:
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = term.datatype.value if term.datatype is not None else None
        if datatype is None or datatype == XSD_NS + "string":
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(datatype))
    raise TypeError(term)


def render_turtle(report: Report) -> str:
    return str(report_graph(report).serialize(format="turtle"))
