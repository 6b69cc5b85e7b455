"""Scenario files: which-rule test cases in YAML, loaded with line numbers and run.

Pipeline stage: **tests of** :mod:`kg.resolve` — one engine for ``yibao test`` and pytest
(``tests/test_scenarios.py`` parametrizes over :func:`load_cases` and calls :func:`run_case`).

A file is a list of cases, in the spirit of OpenFisca's YAML tests::

    - name: foshan-long-term-general-outpatient
      scenario: {insured_region: 佛山, treatment_region: 北京, filing_type: long-term-resident,
                 service: general-outpatient, date: 2025-06-01}
      expect: {institution_limit: 3, primary_level_min: 1}
      decided_by: {institution_limit: foshan-go-long-term-institution-limit}   # optional
      xfail: "reason"                                                          # optional

Scalars in ``expect`` must equal the answer; a list must be contained in the answer's list
(a plain id matches that id or an alternative offering it; an ``{any_of: [...]}`` entry
matches an alternative with the same materials). A malformed
file is an :class:`~kg.errors.InputError` naming the file and line: also an unknown key of a
case and a scenario or expected value outside its vocabulary, with close matches.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pyoxigraph as ox

from kg import query
from kg.errors import InputError, KgError, did_you_mean
from kg.resolve import (
    FILING_CATEGORY_ANSWER,
    REGION_ROLE_KEYS,
    SETTLEMENT_KEY,
    Answer,
    Scenario,
    answer_keys,
    json_value,
    resolve_kind,
    which_rule,
)
from kg.sources.yamlio import LineDict, jsonable, line_at, load_yaml, schema_errors
from kg.vocab import Vocabulary, load_vocabulary, local_id, scheme_name, statement_iri

SCHEMA = Path(__file__).resolve().parent / "schemas" / "scenario.schema.json"
ANSWER_SCHEMA = SCHEMA.with_name("answer.schema.json")
# ``kind:<rule-kind notation>`` in expect/decided_by: the resolved value of any rule kind,
# also kinds that decide no answer key (filing-channel, deductible, cross-region-prepay, …).
KIND_PREFIX = "kind:"
# Explanations of the institution-selection rules that gate the institution limits.
SELECTION_KEY = "institution_selection"

__all__ = ["Case", "CaseResult", "Difference", "contains", "load_cases", "run_case", "run_files"]


@dataclass(frozen=True)
class Case:
    """One test case of a scenario file."""

    name: str
    scenario: Scenario
    expect: dict[str, Any]
    path: Path
    line: int
    decided_by: dict[str, list[str]] = field(default_factory=dict)
    xfail: str | None = None
    expect_lines: dict[str, int] = field(default_factory=dict)
    decided_lines: dict[str, int] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Difference:
    key: str
    expected: Any
    actual: Any
    note: str = ""


@dataclass
class CaseResult:
    """The outcome of a case: pass, fail, xfail, xpass or error, with what differed."""

    case: Case
    status: str
    differences: list[Difference] = field(default_factory=list)
    message: str = ""
    answer: Answer | None = None

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "error", "xpass")


# ------------------------------------------------------------------ loading


def load_cases(path: Path) -> list[Case]:
    """Read a scenario file; every problem is an :class:`InputError` with file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "no such scenario file / 情景文件不存在")
    try:
        data = load_yaml(path)
    except ValueError as exc:  # a scalar YAML cannot construct, e.g. the date 2025-13-01
        raise InputError(path, None, f"invalid YAML value: {exc}") from None
    if data is None:
        raise InputError(path, 1, "empty scenario file: expected a list of cases")
    errors = schema_errors(SCHEMA, data)
    if errors:
        _schema_error(path, data, errors)
    vocab = load_vocabulary()
    keys = set(answer_keys(vocab))
    accepted = Scenario.accepted_keys(vocab)
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data):
        line = data.line_of(index)
        name = str(item["name"])
        if name in seen:
            raise InputError(path, line, f"case name '{name}' is already used at line {seen[name]}")
        seen[name] = line
        scen = item["scenario"]
        unknown = sorted(set(scen) - set(accepted))
        if unknown:
            raise InputError(
                path,
                scen.line_of(unknown[0]),
                f"unknown scenario key '{unknown[0]}' (accepted: {', '.join(accepted)})",
            )
        _check_notations(path, scen, vocab)
        expect = item["expect"]
        decided = item.get("decided_by") or LineDict()
        kinds = [KIND_PREFIX + n for n in vocab.notations("rule-kind")]
        for mapping in (expect, decided):
            for key in mapping:
                if not _known_key(key, keys, vocab):
                    raise InputError(
                        path,
                        mapping.line_of(key),
                        f"unknown answer key '{key}'{did_you_mean(key, [*sorted(keys), *kinds])} "
                        f"(answer keys: {', '.join(sorted(keys))}; "
                        f"or {KIND_PREFIX}<rule kind>: {', '.join(vocab.notations('rule-kind'))})",
                    )
        for key, value in expect.items():
            _check_expected(path, expect.line_of(key), key, value, vocab)
            _check_type(path, expect.line_of(key), key, value)
        try:
            scenario = Scenario.from_mapping(scen, vocab)
        except KgError as exc:
            raise InputError(path, scen.line, exc.render()) from None
        cases.append(
            Case(
                name=name,
                scenario=scenario,
                expect=dict(expect),
                path=path,
                line=line,
                decided_by={k: [v] if isinstance(v, str) else list(v) for k, v in decided.items()},
                xfail=item.get("xfail"),
                expect_lines=dict(expect.key_lines),
                decided_lines={k: decided.line_of(k) for k in decided},
            )
        )
    return cases


def _schema_error(path: Path, data: Any, errors: list[Any]) -> None:
    """The first schema error; at the same place, an unknown key (``expectt``) comes before
    the required key it misspells (``expect``), at the unknown key's line."""
    first = errors[0]
    err = next(
        (
            e
            for e in errors
            if e.validator == "additionalProperties" and e.absolute_path == first.absolute_path
        ),
        first,
    )
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    where = where.lstrip(".") or "top level"
    if err.validator != "additionalProperties" or not isinstance(err.instance, dict):
        raise InputError(path, line_at(data, err.absolute_path), f"{where}: {err.message}")
    accepted = sorted(err.schema.get("properties", {}))
    key = sorted(set(err.instance) - set(accepted))[0]
    raise InputError(
        path,
        line_at(data, [*err.absolute_path, key]),
        f"{where}: unknown key '{key}' / 未知的键{did_you_mean(key, accepted)} "
        f"(accepted: {', '.join(accepted)})",
    )


@cache
def _value_schema(key: str) -> tuple[Any, dict[str, Any]] | None:
    """A validator of an answer key's values (answer.schema.json) and the schema it checks;
    None for kind:… keys (values of any rule kind). Built once per key."""
    schema = json.loads(ANSWER_SCHEMA.read_text("utf-8"))
    prop = schema["properties"]["values"]["properties"].get(key)
    if prop is None:
        return None
    prop = {**prop, "$defs": schema["$defs"]}
    return jsonschema.Draft202012Validator(prop), prop


def _check_type(path: Path, line: int, key: str, value: Any) -> None:
    """An expected value has the type the answer key's values have (answer.schema.json):
    ``institution_limit: three`` is a mistake in the file, not a failing case."""
    checked = _value_schema(key)
    if checked is None:
        return
    validator, prop = checked
    # a list is contained in the answer: its entries are checked against the vocabulary
    # (_check_expected), only its being a list here
    if not validator.is_valid([] if isinstance(value, list) else jsonable(value)):
        raise InputError(
            path,
            line,
            f"expect.{key}: {json.dumps(jsonable(value), ensure_ascii=False)} is not a value "
            f"{key} can take / 取值类型不符 ({_describe_type(prop, prop['$defs'])})",
        )


def _describe_type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short description of a value schema, for the message."""
    if "$ref" in prop:
        return _describe_type(defs[prop["$ref"].rsplit("/", 1)[-1]], defs)
    if "enum" in prop:
        return "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in prop["enum"])
    if "oneOf" in prop:
        return " or ".join(_describe_type(p, defs) for p in prop["oneOf"])
    if "const" in prop:
        return json.dumps(prop["const"])
    kind = prop.get("type", "a value")
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def _known_key(key: str, keys: set[str], vocab: Any) -> bool:
    if key.startswith(KIND_PREFIX):
        return vocab.concept("rule-kind", key[len(KIND_PREFIX) :]) is not None
    return key in keys or key == SELECTION_KEY


def _check_notations(path: Path, scen: LineDict, vocab: Vocabulary) -> None:
    """Vocabulary values (scheme, filing type, service, level, …) are checked at load time:
    a notation or a label of a concept (``门诊慢特病``, :meth:`Vocabulary.find`)."""
    for key, value in scen.items():
        scheme = vocab.scheme_for_key.get(key)
        if scheme is None or value is None:
            continue
        if vocab.find(scheme, str(value).strip()) is None:
            words = vocab.words(scheme)
            raise InputError(
                path,
                scen.line_of(key),
                _not_in_vocabulary(key, value, vocab.notations(scheme), words),
            )


def _expected_schemes(key: str, vocab: Vocabulary) -> list[str]:
    """The concept schemes whose notations the values of an answer key (or ``kind:…``) are;
    none for numbers, booleans and region codes."""
    if key.startswith(KIND_PREFIX):
        kind = vocab.concept("rule-kind", key[len(KIND_PREFIX) :])
    elif key in (*REGION_ROLE_KEYS, SETTLEMENT_KEY):  # derived: region codes, booleans
        return []
    elif key == FILING_CATEGORY_ANSWER:  # the class of the filing type: same vocabulary
        return [vocab.scheme_for_key["filing_type"]]
    elif key in vocab.scheme_for_key:  # scope, item_category: computed from the scenario
        return [vocab.scheme_for_key[key]]
    else:
        kind = next((k for k, answer in vocab.kind_answer_key.items() if answer == key), None)
    kinds = vocab.kind_value_kinds.get(kind, ()) if kind else ()
    return [s for s in map(scheme_name, kinds) if vocab.notations(s)]


def _check_expected(path: Path, line: int, key: str, value: Any, vocab: Vocabulary) -> None:
    """Expected values of vocabulary keys (scope, required_materials, …) are notations."""
    schemes = _expected_schemes(key, vocab)
    if not schemes:
        return
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        for text in entry.get("any_of", []) if isinstance(entry, dict) else [entry]:
            if isinstance(text, str) and not any(vocab.concept(s, text) for s in schemes):
                accepted = sorted({n for s in schemes for n in vocab.notations(s)})
                raise InputError(path, line, _not_in_vocabulary(key, text, accepted))


def _not_in_vocabulary(
    key: str, value: Any, accepted: list[str], words: dict[str, str] | None = None
) -> str:
    """The codes a value may be, and the close ones; ``words`` (label → notation) also
    finds codes by their labels (``门诊慢特`` → chronic-special-outpatient)."""
    hint = did_you_mean(str(value), accepted)
    if words and not hint:
        hint = did_you_mean(str(value), words)
    return f"{key}: '{value}' is not one of {', '.join(accepted)} / 不在词表中{hint}"


# ------------------------------------------------------------------ comparing


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def same_scalar(expected: Any, actual: Any) -> bool:
    """Equality of answer values: numbers by value (6 == 6.0), booleans only to booleans."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    a, b = _number(expected), _number(actual)
    if a is not None and b is not None:
        return a == b
    return str(expected) == str(actual)


def _same_entry(expected: Any, actual: Any) -> bool:
    """An expected list entry against an answer entry: a plain id matches itself or an
    alternative that offers it; an ``{any_of: [...]}`` matches an alternative with the same
    set of ids."""
    if not isinstance(expected, dict) and isinstance(actual, dict):
        return any(same_scalar(expected, option) for option in actual.get("any_of", []))
    if isinstance(expected, dict) or isinstance(actual, dict):
        if not (isinstance(expected, dict) and isinstance(actual, dict)):
            return False
        if set(expected) != set(actual):
            return False
        return all({str(v) for v in expected[k]} == {str(v) for v in actual[k]} for k in expected)
    return same_scalar(expected, actual)


def contains(expected: Any, actual: Any) -> bool:
    """Whether an answer value satisfies an expectation (lists: containment)."""
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        return all(any(_same_entry(e, a) for a in actual) for e in expected)
    return same_scalar(expected, actual)


# ------------------------------------------------------------------ running


def run_case(store: ox.Store, case: Case) -> CaseResult:
    """Answer the case's scenario and compare; errors (unknown names …) are results too."""
    try:
        answer = which_rule(store, case.scenario)
    except KgError as exc:
        return CaseResult(case, "error", message=exc.render())
    diffs: list[Difference] = []
    for key, expected in case.expect.items():
        if key.startswith(KIND_PREFIX):
            res = resolve_kind(store, answer.context, key[len(KIND_PREFIX) :])
            actual = json_value(res.value)
            deciders = [v.candidate.rule.id for v in res.verdicts if v.applied]
            reason = (res.reason or {}).get("en", "")
        else:
            actual = json_value(answer.values.get(key))
            deciders = [e.rule or e.kind for e in answer.deciding(key)]
            reason = answer.reasons.get(key, {}).get("en", "")
        if not contains(expected, actual):
            note = f"decided by {', '.join(deciders)}" if deciders else reason
            diffs.append(Difference(key, expected, actual, note))
    for key, rules in case.decided_by.items():
        if key.startswith(KIND_PREFIX):
            res = resolve_kind(store, answer.context, key[len(KIND_PREFIX) :])
            applied = [v.candidate.rule.id for v in res.verdicts if v.applied]
        else:
            applied = [e.rule for e in answer.deciding(key) if e.rule]
        missing = [r for r in rules if r not in applied]
        if missing:
            diffs.append(
                Difference(
                    f"decided_by.{key}",
                    rules,
                    applied,
                    f"{', '.join(missing)} did not decide {key}",
                )
            )
    passed = not diffs
    outcomes = {(False, True): "pass", (False, False): "fail", (True, True): "xpass"}
    status = outcomes.get((bool(case.xfail), passed), "xfail")
    return CaseResult(case, status, diffs, answer=answer)


def describe(result: CaseResult) -> str:
    """The report lines of a result, as ``yibao test`` prints them."""
    case = result.case
    head = f"{result.status.upper():5} {case.where}  {case.name}"
    lines = [head]
    if result.status == "error":
        lines.append(f"      {result.message}")
    elif result.status == "xfail":
        lines[0] += f"  — {case.xfail}"
    elif result.status == "xpass":
        lines.append(f"      passes although marked xfail ({case.xfail}): remove the xfail mark")
    for d in result.differences:
        where = case.expect_lines.get(d.key)
        at = f" (line {where})" if where else ""
        lines.append(
            f"      {d.key}{at}: expected {_show(d.expected)}, got {_show(d.actual)}"
            + (f" — {d.note}" if d.note else "")
        )
    return "\n".join(lines)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def run_files(store: ox.Store, paths: Sequence[Path]) -> list[CaseResult]:
    """Load every file first (a malformed file stops the run), then run every case."""
    cases = [case for path in paths for case in load_cases(Path(path))]
    check_rule_ids(store, cases)
    return [run_case(store, case) for case in cases]


def check_rule_ids(store: ox.Store, cases: Sequence[Case]) -> None:
    """The rules ``decided_by`` names exist in the store: a misspelt id is a mistake in the
    file (exit 2, with close ids), not a case that fails."""
    known: list[str] | None = None
    for case in cases:
        for key, ids in case.decided_by.items():
            for ident in ids:
                if query.run_named(store, "entity_exists", {"entity": statement_iri(ident)}):
                    continue
                if known is None:
                    _, rows = query.solutions(query.run_named(store, "all_rules", {}))
                    known = sorted({local_id(r["rule"].value, "rule") for r in rows})
                raise InputError(
                    case.path,
                    case.decided_lines.get(key, case.line),
                    f"decided_by.{key}: no rule '{ident}' in the store / 图谱中没有该规则"
                    + did_you_mean(ident, known),
                )


def summary(results: Sequence[CaseResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    order = ("pass", "fail", "error", "xfail", "xpass")
    parts = [f"{counts.get(s, 0)} {s}" for s in order if counts.get(s)]
    return f"{len(results)} cases: " + ", ".join(parts)
