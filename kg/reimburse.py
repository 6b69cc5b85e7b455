"""Reimbursement: what the fund pays for a claim, step by step, each step citing its rule.

Pipeline stage: ``queries/*.rq`` → resolve → **reimburse** (``yibao reimburse``).

A claim is a which-rule scenario plus billed items (docs/reimburse.md,
``kg/schemas/claim.schema.json``). The calculator asks :mod:`kg.resolve` everything:
which region's catalog and policy apply (``which_rule``), each item's 甲/乙/丙 category
in the catalog in force (``resolve_scenario`` with the item), and every money parameter
as a rule kind (``resolve_kind``): ``category-b-prepay``, ``cross-region-prepay``,
``deductible``, ``ratio``, ``ratio-reduction``, ``annual-cap``. No region, rate or amount
is written here; a parameter the graph lacks leaves the result undetermined, with the
missing rule kind named, never guessed.

Order (one step per line of the result, amounts in yuan rounded to the fen, see
:func:`fen`):

1. per item, the in-scope amount: 甲 all of it; 乙 less the 乙类先行自付 share
   (``category-b-prepay``); 丙 or not listed nothing;
2. the cross-region 先行自付 share of the in-scope total (``cross-region-prepay``), where
   the insured region encodes its reduction for care away from home that way;
3. the deductible (``deductible``; first/later admission variants by ``admission``);
4. the ratio (``ratio``), less ``ratio-reduction`` points for care away from home unless
   the ratio rule is itself scoped to it (or the reduction is encoded as step 2);
5. the annual cap (``annual-cap``) less the fund payments already made this year;
6. fund pays, patient pays the rest.
"""

from __future__ import annotations

import dataclasses
import decimal
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_UP,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import query
from kg.errors import InputError, KgError, did_you_mean
from kg.resolve import (
    Answer,
    Context,
    ItemResult,
    Resolution,
    RuleRecord,
    Scenario,
    json_value,
    kind_label,
    resolve_kind,
    resolve_scenario,
    which_rule,
)
from kg.sources.yamlio import (
    LineDict,
    LineList,
    NumberText,
    jsonable,
    line_at,
    load_yaml,
    schema_errors,
)
from kg.vocab import load_vocabulary

__all__ = [
    "Claim",
    "ClaimItem",
    "Reimbursement",
    "claim_from_mapping",
    "example_claim",
    "fen",
    "load_claim",
    "parse_amount",
    "reimburse",
    "render_text",
]

SCHEMA = Path(__file__).resolve().parent / "schemas" / "claim.schema.json"
EXAMPLES = Path(__file__).resolve().parent / "examples" / "claims"
FEN = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount a claim, --spent or the API may give: 10^12 yuan (一万亿元), far above any
# bill or year of fund payments (annual caps are some 10^5–10^6 yuan). With at most two
# decimals such an amount has at most 15 significant digits, so a float given through the
# Python API still holds it to the fen, and sums and products stay far inside MONEY.
MAX_AMOUNT = Decimal(10) ** 12
# The arithmetic of a claim: enough digits that no sum of amounts and no product with a rate
# of the graph is ever rounded before fen() rounds it (a claim of a million items of
# MAX_AMOUNT times a rate of 30 digits needs 50); an overflow would raise, never round.
MONEY = decimal.Context(
    prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow, DivisionByZero]
)
# How an amount is written (strings, --spent, unquoted YAML numbers): ASCII decimal digits
# without a leading zero, a point and one or two decimals. kg/schemas/claim.schema.json says
# the same (a test compares them).
AMOUNT_SYNTAX = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]{1,2})?")
# A JSON number (RFC 8259): an unquoted number of a claim file may also have more decimals
# or an exponent when its value is exact to the fen (1e2 is 100, 32.520 is 32.52).
JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# Claim keys that are not scenario keys.
CLAIM_KEYS = ("name", "description", "items", "spent")
# Scenario keys that belong to each item, not to the claim.
ITEM_KEYS = ("item", "dosage_form", "item_category")
# The catalog categories (notations of ontology/vocab/item-categories): fully in scope,
# in scope after the 乙类 share, out of scope. What each means is the law (DOMAIN.md §1).
FULL, PARTIAL, OUT = "甲", "乙", "丙"
# Rule kinds the calculator resolves (notations of ontology/vocab/rules.ttl).
K_B_PREPAY = "category-b-prepay"
K_CROSS_PREPAY = "cross-region-prepay"
K_DEDUCTIBLE = "deductible"
K_RATIO = "ratio"
K_REDUCTION = "ratio-reduction"
K_CAP = "annual-cap"
K_LARGE_SUM_CAP = "large-sum-cap"
SCOPE_KEY = "scope"
LOCAL = "local"
LONG_TERM = "long-term"
HUNDRED = Decimal(100)


def fen(amount: Decimal) -> Decimal:
    """Round yuan to the fen (0.01), halves away from zero (ROUND_HALF_UP).

    Every step of the computation is rounded this way before the next one uses it.

    >>> fen(Decimal("3.177"))
    Decimal('3.18')
    >>> fen(Decimal("48.888"))
    Decimal('48.89')
    >>> fen(Decimal("0.125")), fen(Decimal("0.124")), fen(Decimal("7"))
    (Decimal('0.13'), Decimal('0.12'), Decimal('7.00'))
    """
    return amount.quantize(FEN, rounding=ROUND_HALF_UP, context=MONEY)


def money(amount: Decimal | None) -> str | None:
    """Amounts in JSON are exact decimal strings with two places: ``"48.89"``."""
    return None if amount is None else str(fen(amount))


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# ------------------------------------------------------------------ claims


@dataclass(frozen=True)
class ClaimItem:
    """One billed line: a catalog item (name or number, dosage form) or a declared total."""

    index: int  # 1-based, as people count the lines of a bill
    amount: Decimal
    name: str | None = None
    code: str | None = None
    dosage_form: str | None = None
    category: str | None = None  # declared (service totals); otherwise looked up
    note: str | None = None
    line: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.code or f"#{self.index}"


@dataclass(frozen=True)
class Claim:
    """A scenario and its billed items, with where it was read from."""

    scenario: Scenario
    items: tuple[ClaimItem, ...]
    name: str | None = None
    spent: Decimal = ZERO
    path: Path | None = None
    line: int | None = None
    key_lines: Mapping[str, int] = field(default_factory=dict)


def example_claim(name: str = "r19-langfang-beijing") -> Path:
    """A claim file shipped with the package (``kg/examples/claims/<name>.yaml``).

    >>> example_claim().name
    'r19-langfang-beijing.yaml'
    """
    path = EXAMPLES / f"{name}.yaml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
        raise KgError(f"no example claim '{name}' / 没有该示例; shipped: {shipped}")
    return path


def _where(data: Any, path: list[Any]) -> str:
    """``item 2 (瑞格列奈片) / 第2项: `` for an error inside the items list (the name when
    the items are known)."""
    if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
        items = data.get("items") if isinstance(data, dict) else None
        entry = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        label = ""
        if isinstance(entry, dict):
            label = str(entry.get("name") or entry.get("code") or "")
        return f"item {path[1] + 1}" + (f" ({label})" if label else "") + f" / 第{path[1] + 1}项: "
    return ""


def load_claim(path: Path) -> Claim:
    """Read a claim file (YAML or JSON); every problem is an :class:`InputError` with its line.

    Unquoted numbers are read as written (:class:`~kg.sources.yamlio.NumberText`) and then
    by :func:`parse_amount`, so that YAML 1.1 cannot turn ``012`` into 10 on the way in.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "no such claim file / 报销单文件不存在")
    if path.suffix.lower() == ".json":
        _check_json(path)
    data = load_yaml(path, number_text=True, where=lambda at: _where(None, at))
    return claim_from_mapping(data, path)


def _check_json(path: Path) -> None:
    """JSON syntax errors said as such (the file is then read with lines like YAML)."""
    try:
        # numbers as text: their size and form are for parse_amount to judge
        json.loads(path.read_bytes(), parse_int=str, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise InputError(
            path, exc.lineno, f"JSON syntax error / JSON 语法错误: {exc.msg}", exc.colno
        ) from None
    except ValueError:
        pass  # not UTF-8 text: said by load_yaml


def claim_from_mapping(data: Any, path: Path | None = None) -> Claim:
    """A claim from a mapping (a loaded file, JSON, a dict built in Python).

    Raises:
        InputError: the claim is malformed (schema, unknown keys, amounts), with the line
            when the mapping was read from a file.
    """
    if not isinstance(data, dict):
        raise InputError(
            path, getattr(data, "line", 1), "a claim is a mapping with items / 报销单应为映射"
        )
    vocab = load_vocabulary()
    accepted = [k for k in Scenario.accepted_keys(vocab) if k not in ITEM_KEYS]
    _check_keys(data, path, accepted)
    amounts, spent = _read_amounts(data, path)
    checked = jsonable(data)  # the schema sees the amounts as read, in their one syntax
    for index, amount in amounts.items():
        checked["items"][index]["amount"] = str(amount)
    if spent is not None:
        checked["spent"] = str(spent)
    errors = schema_errors(SCHEMA, checked)
    if errors:
        err = errors[0]
        where = list(err.path)
        raise InputError(path, line_at(data, where), f"{_where(data, where)}{_schema_message(err)}")
    try:
        scenario = Scenario.from_mapping({k: data[k] for k in data if k in accepted}, vocab)
    except KgError as exc:
        raise InputError(path, getattr(data, "line", None), str(exc)) from None
    raw_items = data["items"]
    items = []
    for i, entry in enumerate(raw_items):
        items.append(
            ClaimItem(
                index=i + 1,
                amount=amounts[i],
                name=_text(entry.get("name")),
                code=_text(entry.get("code")),
                dosage_form=_text(entry.get("dosage_form")),
                category=_text(entry.get("category")),
                note=_text(entry.get("note")),
                line=raw_items.line_of(i) if isinstance(raw_items, LineList) else None,
            )
        )
    return Claim(
        scenario=scenario,
        items=tuple(items),
        name=_text(data.get("name")),
        spent=ZERO if spent is None else spent,
        path=path,
        line=getattr(data, "line", None),
        key_lines=dict(getattr(data, "key_lines", {})),
    )


def _check_keys(data: dict[str, Any], path: Path | None, accepted: list[str]) -> None:
    """The first key (in the file's order) that is no claim key, at its own line: an item's
    key written for the whole claim, a misspelt key (``item:`` for ``items:``)."""
    known = [*CLAIM_KEYS, *accepted]
    unknown = [k for k in data if k not in known]
    if not unknown:
        return
    key = min(unknown, key=lambda k: _key_line(data, k) or 0)
    hint = did_you_mean(key, known)
    if key in ITEM_KEYS:
        message = f"'{key}' belongs to each entry of items, not to the claim / 应写在各项目中"
    else:
        message = f"unknown claim key '{key}' / 未知的键"
    raise InputError(path, _key_line(data, key), f"{message}{hint}; accepted: {', '.join(known)}")


def _read_amounts(data: dict[str, Any], path: Path | None) -> tuple[dict[int, Decimal], Any]:
    """The items' amounts (by index) and ``spent``, each read by :func:`parse_amount`."""
    amounts: dict[int, Decimal] = {}
    items = data.get("items")
    if isinstance(items, list):
        for i, entry in enumerate(items):
            if isinstance(entry, dict) and "amount" in entry:
                line = _key_line(entry, "amount")
                if line is None and isinstance(items, LineList):
                    line = items.line_of(i)
                what = _where(data, ["items", i]) + "amount"
                amounts[i] = _amount(entry["amount"], path, line, what)
    spent = None
    if "spent" in data:
        spent = _amount(data["spent"], path, _key_line(data, "spent"), "spent")
    return amounts, spent


def _schema_message(err: Any) -> str:
    if err.validator == "anyOf" and list(err.path)[:1] == ["items"]:
        return "an item needs a name, a code or a declared category / 项目须有名称、编号或类别"
    return str(err.message)


def _key_line(data: Any, key: str) -> int | None:
    if isinstance(data, LineDict) and key in data:
        return data.line_of(key)
    return getattr(data, "line", None)


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None


def _amount(value: Any, path: Path | None, line: int | None, what: str) -> Decimal:
    try:
        return parse_amount(value, what)
    except KgError as exc:
        raise InputError(path, line, str(exc)) from None


def parse_amount(value: Any, what: str = "amount") -> Decimal:
    """Yuan as a claim, ``--spent`` or the Python API gives them; the one reader of amounts.

    A string (``"32.52"``, ``--spent 32.52``) is ASCII decimal digits without a leading zero,
    with at most two decimals (:data:`AMOUNT_SYNTAX`). An unquoted number of a claim file
    (:class:`~kg.sources.yamlio.NumberText`) is a JSON number exact to the fen (``32.52``,
    ``1e2``); YAML 1.1's other number forms (``012`` octal, ``1:30`` sexagesimal, ``0x10``,
    ``1_000``, ``.5``) are errors, not silently other amounts. Python numbers (``int``,
    ``float``, ``Decimal``) are taken by value. No amount is negative (nor ``-0``), none is
    above :data:`MAX_AMOUNT`.

    Raises:
        KgError: the message starts with ``what`` and says what is wrong.

    >>> parse_amount("32.52"), parse_amount(7), parse_amount(Decimal("0.5"))
    (Decimal('32.52'), Decimal('7.00'), Decimal('0.50'))
    """
    if isinstance(value, NumberText):
        return _checked(_number_text(value, what), str(value), what)
    if isinstance(value, str):
        return _checked(_string(value, what), value, what)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise KgError(f"{what} {value!r} is not an amount / 金额应为数字")
    if isinstance(value, float):
        # repr is the shortest decimal that reads back as the same float: what was typed
        return _checked(Decimal(repr(value)), None, what)
    return _checked(Decimal(value), None, what)


_NOT_DECIMAL = (
    'write decimal digits with at most two decimals, such as 32.52 or "32.52" / '
    "金额应写成十进制数字，最多两位小数"
)


def _string(text: str, what: str) -> Decimal:
    if AMOUNT_SYNTAX.fullmatch(text):
        return Decimal(text)
    shown = _shown_text(text)
    if re.fullmatch(r"-(0|[1-9][0-9]*)(\.[0-9]+)?", text):
        raise KgError(f"{what} {shown} is negative / 金额为负数")
    if re.fullmatch(r"(0|[1-9][0-9]*)\.[0-9]{3,}", text):
        raise KgError(f"{what} {shown} has more than two decimals (fen) / 金额精确到分")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if number.is_nan() or number.is_infinite():
        raise KgError(f"{what} '{shown}' is not a number / 金额不是数字")
    raise KgError(f"{what} '{shown}' is not written as an amount: {_NOT_DECIMAL}")


def _number_text(text: NumberText, what: str) -> Decimal:
    """An unquoted number of a claim file: a JSON number, else a YAML 1.1 form refused."""
    if JSON_NUMBER.fullmatch(text):
        return Decimal(str(text))
    read_as = text.read_as
    if isinstance(read_as, float) and math.isnan(read_as):
        raise KgError(f"{what} {text} is not a number / 金额不是数字")
    if isinstance(read_as, float) and math.isinf(read_as):
        raise KgError(f"{what} {text} is not a finite amount / 金额不是有限数")
    digits = text.lstrip("+").lstrip("0")
    hint = (
        f'write {digits} or "{digits}" / 请写成 {digits}'
        if AMOUNT_SYNTAX.fullmatch(digits)
        else _NOT_DECIMAL
    )
    read = f" (YAML 1.1 reads it as {read_as})" if read_as is not None else ""
    raise KgError(f"{what} {_shown_text(text)} is not a decimal number{read}; {hint}")


def _checked(amount: Decimal, text: str | None, what: str) -> Decimal:
    """The value checks every amount passes, however it was written."""
    shown = _shown_text(text) if text is not None else _shown_number(amount)
    if amount.is_nan():
        raise KgError(f"{what} '{shown}' is not a number / 金额不是数字")
    if amount.is_infinite():
        raise KgError(f"{what} {shown} is not a finite amount / 金额不是有限数")
    if amount.is_signed():  # also -0: an amount has no sign
        raise KgError(f"{what} {shown} is negative / 金额为负数")
    if amount > MAX_AMOUNT:
        raise KgError(
            f"{what} {shown} is too large: at most {MAX_AMOUNT:,} yuan / 金额过大，不超过一万亿元"
        )
    if amount != amount.quantize(FEN, context=MONEY):
        raise KgError(f"{what} {shown} has more than two decimals (fen) / 金额精确到分")
    return fen(amount)


def _shown_text(text: str) -> str:
    """An amount as given, shortened when it is too long to show."""
    return text if len(text) <= 40 else f"{text[:20]}… ({len(text)} characters)"


def _shown_number(amount: Decimal) -> str:
    if amount.is_finite() and amount.adjusted() > 30:
        return f"{amount:.6E}"
    return str(amount)


# ------------------------------------------------------------------ the result


@dataclass
class Step:
    """One step of the computation, with the rule that gave its parameter."""

    step: str  # the rule kind of its parameter: category-b-prepay, …, annual-cap
    base: Decimal | None  # the amount the step works on
    amount: Decimal | None  # what the step takes away (prepay, deductible) or pays (ratio)
    result: Decimal | None  # the amount carried to the next step
    value: Any = None  # the parameter: a share, yuan, points
    rule: RuleRecord | None = None
    why: dict[str, str] = field(default_factory=dict)
    note: dict[str, str] = field(default_factory=dict)

    def as_dict(self, lang: str) -> dict[str, Any]:
        rule = self.rule
        return {
            "step": self.step,
            "label": kind_label(self.step, lang),
            "base": money(self.base),
            "value": _param(self.value),
            "amount": money(self.amount),
            "result": money(self.result),
            "rule": rule.id if rule else None,
            "rule_label": (rule.labels.get(lang) or rule.labels.get("zh")) if rule else None,
            "source": rule.sources[0].as_dict(lang) if rule and rule.sources else None,
            "sources": [s.as_dict(lang) for s in rule.sources] if rule else [],
            "why": self.why.get(lang) or self.why.get("zh") or None,
            "note": self.note.get(lang) or self.note.get("zh") or None,
        }


def _param(value: Any) -> str | None:
    """A step's parameter as an exact decimal string (``"0.1"``, ``"800"``)."""
    if value is None or isinstance(value, bool):
        return None
    return _rate(Decimal(str(json_value(value))))


@dataclass
class ItemLine:
    """An item of the claim: its category, where it came from, its in-scope amount."""

    item: ClaimItem
    category: str | None
    in_scope: Decimal | None = None
    prepay: Decimal | None = None  # the 乙类先行自付 part
    listed_as: str | None = None
    dosage_form: str | None = None
    catalog: str | None = None
    number: str | None = None
    declared: bool = False
    source: Any = None  # SourceRef of the catalog
    reason: dict[str, str] = field(default_factory=dict)  # why the category is unknown

    def as_dict(self, lang: str) -> dict[str, Any]:
        item = self.item
        return {
            "index": item.index,
            "name": item.name,
            "code": item.code,
            "listed_as": self.listed_as,
            "dosage_form": self.dosage_form or item.dosage_form,
            "amount": money(item.amount),
            "category": self.category,
            "category_from": self.category_from,
            "catalog": self.catalog,
            "number": self.number,
            "category_b_prepay": money(self.prepay),
            "in_scope": money(self.in_scope),
            "source": self.source.as_dict(lang) if self.source is not None else None,
            "line": item.line,
            "reason": (self.reason.get(lang) or self.reason.get("zh")) if self.reason else None,
        }

    @property
    def category_from(self) -> str:
        if self.declared:
            return "claim"
        if self.category is None:
            return "unknown"
        return "catalog" if self.catalog else "unlisted"


@dataclass
class Flag:
    code: str
    message: dict[str, str]
    rule: str | None = None

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message.get(lang) or self.message["zh"],
            "rule": self.rule,
        }


@dataclass
class Reimbursement:
    """What a claim pays: totals, per-item lines, steps with their rules, flags."""

    claim: Claim
    answer: Answer
    spent: Decimal
    lines: list[ItemLine] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)  # {kind, reason}
    total: Decimal = ZERO
    in_scope: Decimal | None = None
    fund_pays: Decimal | None = None

    @property
    def computed(self) -> bool:
        return self.fund_pays is not None

    @property
    def patient_pays(self) -> Decimal | None:
        return None if self.fund_pays is None else MONEY.subtract(self.total, self.fund_pays)

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        """The JSON result of docs/reimburse.md (kg/schemas/reimbursement.schema.json)."""
        which = self.answer.to_json(lang)
        values = which["values"]
        return {
            "claim": {
                "name": self.claim.name,
                "path": str(self.claim.path) if self.claim.path else None,
                "scenario": which["scenario"],
            },
            "context": which["context"],
            "answers": {
                key: values.get(key)
                for key in (
                    "scope",
                    "filing_category",
                    "catalog_region",
                    "policy_region",
                    "direct_settlement",
                    "reimbursable",
                    "ratio_reduction_pp",
                    "ratio_reduction_cap_pp",
                )
            }
            | {"filing_type": self.answer.context.values.get("filing_type")},
            "currency": "CNY",
            "computed": self.computed,
            "total": money(self.total),
            "in_scope": money(self.in_scope),
            "spent": money(self.spent),
            "fund_pays": money(self.fund_pays),
            "patient_pays": money(self.patient_pays),
            "items": [line.as_dict(lang) for line in self.lines],
            "steps": [step.as_dict(lang) for step in self.steps],
            "flags": [flag.as_dict(lang) for flag in self.flags],
            "missing": [
                {"kind": m["kind"], "reason": m["reason"].get(lang) or m["reason"]["zh"]}
                for m in self.missing
            ],
        }


# ------------------------------------------------------------------ computation


class _Missing(Exception):
    """A parameter the graph does not give: the computation stops there."""


def reimburse(
    store: ox.Store, claim: Claim, spent: Decimal | int | str | None = None
) -> Reimbursement:
    """Compute what the fund pays for a claim, as of the claim's date.

    Args:
        store: a read-only store (``kg.store.open_store``).
        claim: from :func:`load_claim` or :func:`claim_from_mapping`.
        spent: fund payments already made this year (overrides the claim's ``spent``):
            yuan as a ``Decimal``, an ``int`` or a string, read by :func:`parse_amount`.

    Raises:
        InputError: ``spent`` or an item's amount is not an amount (negative, not to the
            fen, too large, not a number …); an item or a region of the claim cannot be
            found (file, item, line).
    """
    paid = claim.spent if spent is None else _amount(spent, None, None, "spent")
    _amount(claim.spent, claim.path, claim.key_lines.get("spent", claim.line), "spent")
    for item in claim.items:  # a Claim built in Python is checked like a file
        what = f"item {item.index} ({item.label}) / 第{item.index}项: amount"
        _amount(item.amount, claim.path, item.line, what)
    with localcontext(MONEY):
        return _reimburse(store, claim, paid)


def _reimburse(store: ox.Store, claim: Claim, spent: Decimal) -> Reimbursement:
    try:
        answer = which_rule(store, claim.scenario)
    except KgError as exc:
        raise InputError(claim.path, _line_of_value(claim, exc), exc.render()) from None
    result = Reimbursement(
        claim=claim,
        answer=answer,
        spent=spent,
        total=sum((i.amount for i in claim.items), ZERO),
    )
    ctx = answer.context
    _settlement_flags(result)
    try:
        _categorize(store, result)
        if answer.values.get("reimbursable") is False:
            _not_reimbursed(result)
            return result
        _check_policy_region(result)
        _in_scope(store, ctx, result)
        base = _cross_region_prepay(store, ctx, result)
        base = _deductible(store, ctx, result, base)
        fund = _ratio(store, ctx, result, base)
        result.fund_pays = _cap(store, ctx, result, fund)
    except _Missing:
        result.fund_pays = None
    return result


def _check_policy_region(result: Reimbursement) -> None:
    """The money parameters are resolved for the insured region (R3 参保地政策).

    Should a rule ever make another region's policy apply, the rules read here would be
    the wrong ones: the claim is then not computed rather than computed wrongly.
    """
    ctx = result.answer.context
    policy = result.answer.values.get("policy_region")
    if policy is not None and policy != ctx.insured_pool.code:
        _miss(
            result,
            "policy-region",
            {
                "zh": f"适用 {policy} 的政策，而计算只读取参保地 {ctx.insured_pool.code} 的规则",
                "en": f"the policy of {policy} applies; the calculator reads the rules of the "
                f"insured region {ctx.insured_pool.code} only",
            },
        )


def _line_of_value(claim: Claim, exc: KgError) -> int | None:
    """The line of the claim key whose value a lookup failed on (else the claim's line)."""
    text = getattr(exc, "query", None)
    if text is not None:
        for key, value in claim.scenario.as_dict().items():
            if str(value) == str(text) and key in claim.key_lines:
                return claim.key_lines[key]
    return claim.line


def _miss(result: Reimbursement, kind: str, reason: dict[str, str]) -> None:
    result.missing.append({"kind": kind, "reason": reason})
    raise _Missing(kind)


def _resolved(store: ox.Store, ctx: Context, result: Reimbursement, kind: str) -> Resolution:
    """The rule of a kind, or the computation stops naming the kind and why."""
    res = _kind(store, ctx, result, kind)
    if res.winner is None:
        reason = res.reason or {
            "zh": f"图谱中没有“{kind_label(kind, 'zh')}”规则",
            "en": f"no {kind} rule",
        }
        _miss(result, kind, reason)
    return res


def _kind(store: ox.Store, ctx: Context, result: Reimbursement, kind: str) -> Resolution:
    """The rule of a kind; the computation stops when the claim gives a class (filing type
    ``temporary``) where the insured region's rules of the kind differ by its members."""
    res = resolve_kind(store, ctx, kind)
    vocab = load_vocabulary()
    for key, value in ctx.values.items():
        scheme = vocab.scheme_for_key.get(key)
        iri = vocab.concept(scheme, value) if scheme else None
        if iri is None:
            continue
        narrower = vocab.narrower(iri)
        if not narrower:
            continue
        by_member = {n: resolve_kind(store, _with(store, ctx, key, n), kind) for n in narrower}
        shown = {n: json_value(r.value) if r.winner else None for n, r in by_member.items()}
        if all(v == (json_value(res.value) if res.winner else None) for v in shown.values()):
            continue
        values = ", ".join(f"{n} {_shown(v)}" for n, v in shown.items())
        values_zh = "、".join(f"{vocab.value_label(key, n)} {_shown(v)}" for n, v in shown.items())
        what = f"{vocab.key_label(key)}（{key}）"
        _miss(
            result,
            kind,
            {
                "zh": f"{what}“{vocab.value_label(key, value)}”是类别，参保地的"
                f"“{kind_label(kind, 'zh')}”因具体类型而异（{values_zh}）：请给出具体的{what}",
                "en": f"{key} {value} is a class and the insured region's {kind} differs by "
                f"its members ({values}): give the specific {key}",
            },
        )
    return res


def _with(store: ox.Store, ctx: Context, key: str, value: str) -> Context:
    """The claim's context with one condition value replaced (a member of a class)."""
    return resolve_scenario(store, Scenario.from_mapping({**ctx.scenario.as_dict(), key: value}))


def _settlement_flags(result: Reimbursement) -> None:
    values = result.answer.values
    ctx = result.answer.context
    if values.get("reimbursable") is False:
        return  # the not-reimbursable flag says it all
    # Unfiled care is only a defect where a filing is required and the care is not treated
    # as filed (R11 emergency); intra-province care may need none (江西 from 2023-04-01).
    unfiled = ctx.values.get("filing_type") == "none" and ctx.scope != LOCAL
    required = values.get("filing_required") is True and values.get("treated_as_filed") is not True
    if unfiled and required:
        rule = next((e.rule for e in result.answer.deciding("filing_required")), None)
        result.flags.append(
            Flag(
                "not-filed",
                {"zh": "未备案就医（须备案）", "en": "care without a required filing"},
                rule,
            )
        )
    if values.get("direct_settlement") is False:
        rule = next((e.rule for e in result.answer.deciding("direct_settlement")), None)
        result.flags.append(
            Flag(
                "manual-reimbursement",
                {
                    "zh": "不能直接结算：先全额垫付，回参保地手工报销，按下列同样的计算",
                    "en": "no direct settlement: the patient pays in full and claims back at "
                    "the insured region (manual reimbursement), computed the same way",
                },
                rule,
            )
        )
    elif values.get("direct_settlement") is None:
        result.flags.append(
            Flag(
                "settlement-undetermined",
                {
                    "zh": "无法确定能否直接结算",
                    "en": "whether the claim settles directly is undetermined",
                },
            )
        )


def _not_reimbursed(result: Reimbursement) -> None:
    rule = next((e for e in result.answer.deciding("reimbursable")), None)
    result.flags.append(
        Flag(
            "not-reimbursable",
            {
                "zh": "该情景不予报销，费用由个人自付",
                "en": "this care is not reimbursed: the patient pays",
            },
            rule.rule if rule else None,
        )
    )
    result.in_scope = ZERO
    result.fund_pays = ZERO


# ------------------------------------------------------------------ step 1: items


def _catalog_scenario(result: Reimbursement) -> Scenario | None:
    """The scenario whose treatment region is the catalog region (R3: 就医地目录)."""
    answer = result.answer
    ctx = answer.context
    region = answer.values.get("catalog_region")
    if region is None:
        if ctx.scope != LOCAL:
            return None
        region = ctx.treatment_pool.code  # local care: one region, no rule needed
    if region == ctx.treatment_pool.code:
        return ctx.scenario
    return dataclasses.replace(
        ctx.scenario,
        treatment_region=region,
        hospital=None,
        hospital_level=ctx.values.get("hospital_level"),
    )


def _categorize(store: ox.Store, result: Reimbursement) -> None:
    """Each item's category; every item is listed, also when some cannot be categorized
    (no catalog region, no catalog in force): those have no category but the reason, and
    the claim is not computed, missing ``catalog-region`` or ``catalog``."""
    claim = result.claim
    base = _catalog_scenario(result) if claim.items else None
    missing: tuple[str, dict[str, str]] | None = None
    for item in claim.items:
        if item.category:
            line = ItemLine(item, item.category, declared=True)
            result.lines.append(line)
            if base is not None:
                _compare_declared(store, result, base, line)
            continue
        if base is None:
            reason = result.answer.reasons.get("catalog_region") or _NO_CATALOG_REGION
            result.lines.append(ItemLine(item, None, reason=reason))
            missing = missing or ("catalog-region", reason)
            continue
        found = _look_up(store, claim, base, item)
        if found is None or found.category is None:
            reason = (found.reason if found is not None else None) or _NO_CATALOG
            result.lines.append(ItemLine(item, None, reason=dict(reason)))
            missing = missing or ("catalog", dict(reason))
            continue
        row = found.row
        result.lines.append(
            ItemLine(
                item,
                found.category,
                listed_as=found.listed_as,
                dosage_form=row.dosage_form if row else None,
                catalog=row.catalog_id if row else None,
                number=row.number if row else None,
                source=found.catalog_sources[0] if found.catalog_sources else None,
            )
        )
    if missing is not None:
        _miss(result, *missing)


_NO_CATALOG_REGION = {
    "zh": "无法确定执行哪地目录，项目类别未知",
    "en": "whose catalog applies is undetermined: the category is unknown",
}
_NO_CATALOG = {
    "zh": "目录地没有生效的目录，项目类别未知",
    "en": "no catalog in force in the catalog region: the category is unknown",
}


def _look_up(
    store: ox.Store, claim: Claim, base: Scenario, item: ClaimItem, declared: bool = False
) -> ItemResult | None:
    """The item in the catalogs of the catalog region, by name or number.

    An unknown name or number, or a name and a number of different catalog rows, is an
    :class:`InputError` naming the item; for an item with a declared category (a service
    total is in no catalog) an unknown name or number is None instead.
    """
    what = f"item {item.index} ({item.label}) / 第{item.index}项"
    names = _code_names(store, item.code) if item.code else []
    name = item.name or (names[0] if len(names) == 1 else None)
    if name is None:
        if declared:
            return None
        if not names:
            raise InputError(
                claim.path,
                item.line,
                f"{what}: catalog number '{item.code}' is in no catalog / 目录中没有该编号",
            )
        raise InputError(
            claim.path,
            item.line,
            f"{what}: catalog number '{item.code}' names several items ({', '.join(names)}); "
            "give the name / 该编号对应多个项目，请给出名称",
        )
    scenario = dataclasses.replace(base, item=name, dosage_form=item.dosage_form)
    try:
        found = resolve_scenario(store, scenario).item
    except KgError as exc:
        if declared:
            return None
        raise InputError(claim.path, item.line, f"{what}: {exc.render()}") from None
    if item.name and item.code and found is not None and found.category is not None:
        row = found.row
        if (row.number == item.code) if row else (found.listed_as in names):
            return found
        listed = (
            f"{row.catalog_id} {row.number}" if row else "in no catalog in force / 不在生效目录中"
        )
        raise InputError(
            claim.path,
            item.line,
            f"{what}: name and code disagree / 名称与编号不符: name {item.name} is {listed}, "
            f"code {item.code} is {', '.join(names) or 'in no catalog / 不在任何目录中'}",
        )
    return found


def _code_names(store: ox.Store, code: str) -> list[str]:
    """The item names a catalog number has in the catalogs of the graph."""
    _, rows = query.solutions(query.run_named(store, "catalog_item_names", {"number": code}))
    return sorted({query.value_of(r["name"]) for r in rows})


def _compare_declared(
    store: ox.Store, result: Reimbursement, base: Scenario, line: ItemLine
) -> None:
    """Flag a declared category that the catalog in force contradicts (kept as declared)."""
    item = line.item
    found = _look_up(store, result.claim, base, item, declared=True)
    row = found.row if found is not None else None
    if row is None or row.category == line.category:
        return
    result.flags.append(
        Flag(
            "declared-category-differs",
            {
                "zh": f"第{item.index}项 {item.label} 申报为{line.category}类，"
                f"生效目录 {row.catalog_id} {row.number} 为{row.category}类；按申报类别计算",
                "en": f"item {item.index} ({item.label}) is declared {line.category}; the "
                f"catalog in force lists it as {row.category} ({row.catalog_id} "
                f"{row.number}); computed as declared",
            },
            f"{row.catalog_id}/{row.number}",
        )
    )


def _in_scope(store: ox.Store, ctx: Context, result: Reimbursement) -> None:
    partial = [line for line in result.lines if line.category == PARTIAL]
    share: Decimal | None = None
    res: Resolution | None = None
    if partial:
        res = _resolved(store, ctx, result, K_B_PREPAY)
        share = Decimal(res.value)
    for line in result.lines:
        amount = line.item.amount
        if line.category == FULL:
            line.prepay, line.in_scope = ZERO, amount
        elif line.category == PARTIAL:
            assert share is not None
            line.prepay = fen(amount * share)
            line.in_scope = amount - line.prepay
        else:
            line.prepay, line.in_scope = ZERO, ZERO
    result.in_scope = sum((line.in_scope or ZERO for line in result.lines), ZERO)
    base_b = sum((line.item.amount for line in partial), ZERO)
    taken = sum((line.prepay or ZERO for line in partial), ZERO)
    full = sum((line.item.amount for line in result.lines if line.category == FULL), ZERO)
    result.steps.append(
        Step(
            K_B_PREPAY,
            base=base_b,
            amount=taken,
            result=result.in_scope,
            value=share,
            rule=res.winner.rule if res and res.winner else None,
            why={
                "zh": f"甲类 {money(full)} 全额、乙类 {money(base_b)} 扣先行自付 {money(taken)}、"
                "丙类及目录外不计：支付范围内费用 " + str(money(result.in_scope)),
                "en": f"甲 {money(full)} in full, 乙 {money(base_b)} less its share "
                f"{money(taken)}, "
                f"丙 and unlisted nothing: in scope {money(result.in_scope)}",
            },
            note={}
            if partial
            else {"zh": "无乙类项目，不需此参数", "en": "no 乙 item: the share is not needed"},
        )
    )
    unlisted = [line for line in result.lines if line.category == OUT]
    if unlisted:
        names = ", ".join(line.item.label for line in unlisted)
        result.flags.append(
            Flag(
                "out-of-scope-items",
                {
                    "zh": f"丙类或目录外项目不予支付：{names}",
                    "en": f"丙 or unlisted, not paid: {names}",
                },
            )
        )
    declared = [line for line in result.lines if line.declared]
    if declared:
        names = ", ".join(line.item.label for line in declared)
        result.flags.append(
            Flag(
                "declared-category",
                {
                    "zh": f"按报销单申报的类别计算：{names}",
                    "en": f"category as declared on the claim: {names}",
                },
            )
        )


# ------------------------------------------------------------------ steps 2–5


def _cross_region_prepay(store: ox.Store, ctx: Context, result: Reimbursement) -> Decimal:
    base = result.in_scope or ZERO
    res = _kind(store, ctx, result, K_CROSS_PREPAY)
    if res.winner is None:
        if res.conflict:
            _miss(result, K_CROSS_PREPAY, res.reason or {})
        result.steps.append(
            Step(
                K_CROSS_PREPAY,
                base=base,
                amount=ZERO,
                result=base,
                note={
                    "zh": "参保地未以先行自付方式规定异地就医降幅（无此规则）",
                    "en": "the insured region encodes no cross-region 先行自付 share (no rule)",
                },
            )
        )
        return base
    share = Decimal(res.value)
    taken = fen(base * share)
    result.steps.append(
        Step(K_CROSS_PREPAY, base, taken, base - taken, share, res.winner.rule, _why(res))
    )
    return base - taken


def _deductible(store: ox.Store, ctx: Context, result: Reimbursement, base: Decimal) -> Decimal:
    res = _resolved(store, ctx, result, K_DEDUCTIBLE)
    deductible = fen(Decimal(res.value))
    taken = min(deductible, base)
    assert res.winner is not None
    result.steps.append(
        Step(K_DEDUCTIBLE, base, taken, base - taken, deductible, res.winner.rule, _why(res))
    )
    return base - taken


def _ratio(store: ox.Store, ctx: Context, result: Reimbursement, base: Decimal) -> Decimal:
    res = _resolved(store, ctx, result, K_RATIO)
    assert res.winner is not None
    ratio = Decimal(res.value)
    points = _reduction(store, ctx, result, res)
    effective = ratio - points / HUNDRED
    if effective < 0:
        effective = Decimal(0)
    pays = fen(base * effective)
    note = {}
    if points:
        note = {
            "zh": f"{_rate(ratio)} − {_rate(points)} 个百分点 = {_rate(effective)}",
            "en": f"{_rate(ratio)} less {_rate(points)} points = {_rate(effective)}",
        }
    result.steps.append(
        Step(K_RATIO, base, pays, pays, effective, res.winner.rule, _why(res), note)
    )
    return pays


def _reduction(store: ox.Store, ctx: Context, result: Reimbursement, ratio: Resolution) -> Decimal:
    """Points off the same-level local ratio for care away from home (R13), or 0 and why."""
    assert ratio.winner is not None
    if ctx.scope == LOCAL:
        return Decimal(0)
    if SCOPE_KEY in ratio.winner.rule.conditions:
        result.steps.append(
            Step(
                K_REDUCTION,
                None,
                None,
                None,
                0,
                None,
                note={
                    "zh": f"比例规则 {ratio.winner.rule.id} 已针对异地就医，不再降低",
                    "en": f"the ratio rule {ratio.winner.rule.id} is already for care away "
                    "from home: no further reduction",
                },
            )
        )
        return Decimal(0)
    res = _kind(store, ctx, result, K_REDUCTION)
    if res.winner is not None:
        points = Decimal(res.value)
        result.steps.append(Step(K_REDUCTION, None, None, None, points, res.winner.rule, _why(res)))
        return points
    prepay = next((s for s in result.steps if s.step == K_CROSS_PREPAY and s.rule), None)
    if prepay is not None and not res.conflict:
        result.steps.append(
            Step(
                K_REDUCTION,
                None,
                None,
                None,
                0,
                None,
                note={
                    "zh": f"参保地以先行自付（{prepay.rule.id if prepay.rule else ''}）"
                    "实现降幅，比例不再降低",
                    "en": f"the insured region applies its reduction as a 先行自付 share "
                    f"({prepay.rule.id if prepay.rule else ''}): the ratio is not cut",
                },
            )
        )
        return Decimal(0)
    _miss(result, K_REDUCTION, res.reason or {})
    raise AssertionError  # unreachable: _miss raises


def _cap(store: ox.Store, ctx: Context, result: Reimbursement, fund: Decimal) -> Decimal:
    res = _kind(store, ctx, result, K_CAP)
    if res.winner is None:
        if res.conflict:
            _miss(result, K_CAP, res.reason or {})
        result.steps.append(
            Step(
                K_CAP,
                fund,
                ZERO,
                fund,
                None,
                note={
                    "zh": "图谱中没有适用的年度最高支付限额，未核对封顶线",
                    "en": "the graph has no annual cap for this scenario: not checked",
                },
            )
        )
        result.flags.append(
            Flag(
                "annual-cap-unknown",
                {
                    "zh": "未核对年度最高支付限额（图谱中没有该规则）"
                    + (f"；已支付 {money(result.spent)} 未计入" if result.spent else ""),
                    "en": "annual cap not checked (no rule in the graph)"
                    + (
                        f"; spent {money(result.spent)} not taken into account"
                        if result.spent
                        else ""
                    ),
                },
            )
        )
        return fund
    cap = fen(Decimal(res.value))
    left = max(cap - result.spent, ZERO)
    paid = min(fund, left)
    note = {
        "zh": f"年度限额 {money(cap)} − 本年已支付 {money(result.spent)} = 剩余 {money(left)}",
        "en": f"annual cap {money(cap)} less {money(result.spent)} paid this year "
        f"= {money(left)} left",
    }
    result.steps.append(Step(K_CAP, fund, fund - paid, paid, cap, res.winner.rule, _why(res), note))
    if paid < fund:
        result.flags.append(
            Flag(
                "cap-reached",
                {
                    "zh": f"达到年度最高支付限额：基金少付 {money(fund - paid)}",
                    "en": f"annual cap reached: the fund pays {money(fund - paid)} less",
                },
                res.winner.rule.id,
            )
        )
        large = resolve_kind(store, ctx, K_LARGE_SUM_CAP)
        if large.winner is not None:
            result.flags.append(
                Flag(
                    "large-sum-not-computed",
                    {
                        "zh": "超过基本医保年度限额的部分可能由大额医疗保险支付"
                        f"（限额 {money(Decimal(large.value))}），未计算：图谱中没有其支付比例",
                        "en": "the large-sum fund may pay above the basic cap (its cap "
                        f"{money(Decimal(large.value))}); not computed: the graph has no "
                        "ratio for it",
                    },
                    large.winner.rule.id,
                )
            )
    return paid


def _why(res: Resolution) -> dict[str, str]:
    verdict = next((v for v in res.verdicts if v.applied), None)
    return verdict.why if verdict else {}


# ------------------------------------------------------------------ text


# Missing parameters that are no rule kind (the others are called by kind_label).
_MISSING_LABELS = {"catalog": {"zh": "生效的医保目录", "en": "catalog in force"}}


def _label_of(key: str, value: str | None, lang: str) -> str:
    """A vocabulary value for people: its label in Chinese text (跨省异地就医), its code in
    English text (cross-province), as JSON keeps it."""
    if value is None:
        return "—"
    return load_vocabulary().value_label(key, value) if lang == "zh" else value


def _shown(value: Any) -> str:
    """A value of the text report; what is unknown or not given is "—", never "None"."""
    return "—" if value is None else str(value)


def _yes_no(value: bool | None, zh: bool) -> str:
    if value is None:
        return "—"
    return ("是" if value else "否") if zh else ("yes" if value else "no")


_STEP_FORMAT = {
    K_B_PREPAY: ("乙类先行自付", "category-B share"),
    K_CROSS_PREPAY: ("异地先行自付", "cross-region share"),
    K_DEDUCTIBLE: ("起付标准", "deductible"),
    K_REDUCTION: ("比例降幅（百分点）", "ratio reduction (points)"),
    K_RATIO: ("基金支付比例", "fund ratio"),
    K_CAP: ("年度最高支付限额", "annual cap"),
}


def render_text(result: Reimbursement, lang: str = "zh") -> str:
    """A plain-text report: the totals, the items, each step with its rule and source."""
    data = result.to_json(lang)
    zh = lang == "zh"
    ctx = data["context"]
    answers = data["answers"]
    out = []
    title = data["claim"]["name"] or data["claim"]["path"] or ""
    out.append(("报销计算 " if zh else "Reimbursement ") + title)
    out.append(
        ("情景: 参保地 " if zh else "scenario: insured ")
        + f"{ctx['insured_pooling_region']['name']} {ctx['insured_pooling_region']['code']} → "
        + f"{ctx['treatment_region']['name']} {ctx['treatment_region']['code']}"
        + f" · {_label_of('scope', answers['scope'], lang)}"
        + f" · {_label_of('filing_type', answers.get('filing_type'), lang)}"
        + f" · {_shown(data['claim']['scenario'].get('date'))}"
    )
    out.append(
        ("目录地 " if zh else "catalog region ")
        + f"{_shown(answers['catalog_region'])} · "
        + ("政策地 " if zh else "policy region ")
        + f"{_shown(answers['policy_region'])} · "
        + ("直接结算 " if zh else "direct settlement ")
        + _yes_no(answers["direct_settlement"], zh)
    )
    out.append("")
    for item in data["items"]:
        listed = f" [{item['catalog']} {item['number']}]" if item["catalog"] else ""
        form = f" {item['dosage_form']}" if item["dosage_form"] else ""
        out.append(
            f"  {item['index']}. {item['name'] or item['code'] or ''}{form}  {item['amount']}"
            f"  {item['category'] or '?'}{listed}"
            + (("  支付范围内 " if zh else "  in scope ") + _shown(item["in_scope"]))
        )
        if item["reason"]:
            out.append(f"      {item['reason']}")
    out.append("")
    for step in data["steps"]:
        label = _STEP_FORMAT.get(step["step"], (step["step"], step["step"]))[0 if zh else 1]
        parts = [f"{label}: {_shown(step['value'])}"]
        if step["amount"] is not None:
            words = ("基数", "金额", "结果") if zh else ("base", "amount", "carried")
            parts.append(
                f"{words[0]} {step['base']} · {words[1]} {step['amount']} · "
                f"{words[2]} {step['result']}"
            )
        out.append("  " + "  ".join(parts))
        if step["rule"]:
            src = step["source"] or {}
            cite = " · ".join(
                str(x) for x in (src.get("number") or src.get("document"), src.get("article")) if x
            )
            conf = f" [{src.get('confidence')}]" if src.get("confidence") else ""
            out.append(f"      {step['rule']}{conf} · {cite}")
            if src.get("quote"):
                out.append(f"      “{src['quote']}”")
        if step["note"]:
            out.append(f"      {step['note']}")
    if data["steps"]:
        out.append("")
    out.append(
        ("费用总额 " if zh else "total ")
        + f"{data['total']}  "
        + ("支付范围内 " if zh else "in scope ")
        + f"{_shown(data['in_scope'])}  "
        + ("基金支付 " if zh else "fund pays ")
        + f"{_shown(data['fund_pays'])}  "
        + ("个人负担 " if zh else "patient pays ")
        + f"{_shown(data['patient_pays'])}"
    )
    for flag in data["flags"]:
        out.append(f"! {flag['code']}: {flag['message']}")
    for miss in data["missing"]:
        kind = _MISSING_LABELS.get(miss["kind"], {}).get(lang) or kind_label(miss["kind"], lang)
        out.append(
            (f"无法计算：缺少“{kind}”" if zh else f"cannot compute: missing {miss['kind']}")
            + f" — {miss['reason']}"
        )
    return "\n".join(out) + "\n"
