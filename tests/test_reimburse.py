"""yibao reimburse: claims computed from the graph's rules, step by step, with sources.

Every expected figure is computed by hand in the comments (yuan, ROUND_HALF_UP to the fen
after each step, kg.reimburse.fen).
"""

from __future__ import annotations

import dataclasses
import doctest
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg import reimburse as rb
from kg.cli import cli
from kg.errors import InputError, KgError

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = Path(__file__).resolve().parent / "claims"
INVALID = CLAIMS / "invalid"
EXAMPLE = rb.example_claim("r19-langfang-beijing")
SCHEMA = json.loads((ROOT / "kg/schemas/reimbursement.schema.json").read_text(encoding="utf-8"))


def compute(store: ox.Store, path: Path, spent: str | None = None) -> dict[str, Any]:
    claim = rb.load_claim(path)
    result = rb.reimburse(store, claim, Decimal(spent) if spent is not None else None)
    data = result.to_json("en")
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    return data


def step(data: dict[str, Any], name: str) -> dict[str, Any]:
    found = [s for s in data["steps"] if s["step"] == name]
    assert len(found) == 1, f"{name}: {data['steps']}"
    return found[0]


def flags(data: dict[str, Any]) -> set[str]:
    return {f["code"] for f in data["flags"]}


def run(store_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["reimburse", *args, "--store", str(store_dir)])


# ------------------------------------------------------------------ R19


def test_r19_langfang_retiree_in_beijing_fund_pays_48_89(default_store: ox.Store) -> None:
    # 阿卡波糖片 (口服常释剂型) is 甲 in nrdl-2024 (W-144): 32.52 in scope.
    # 瑞格列奈片 (口服常释剂型) is 乙 (W-164): 31.77 × 10% = 3.177 → 3.18 prepaid, 28.59 in scope.
    # In scope 32.52 + 28.59 = 61.11; deductible 0; 61.11 × 0.80 = 48.888 → 48.89.
    # Patient pays 64.29 − 48.89 = 15.40.
    data = compute(default_store, EXAMPLE)
    assert (data["total"], data["in_scope"], data["fund_pays"], data["patient_pays"]) == (
        "64.29",
        "61.11",
        "48.89",
        "15.40",
    )
    assert data["computed"] is True and data["missing"] == []
    first, second = data["items"]
    assert (first["category"], first["number"], first["in_scope"]) == ("甲", "W-144", "32.52")
    assert (second["category"], second["category_b_prepay"], second["in_scope"]) == (
        "乙",
        "3.18",
        "28.59",
    )
    assert second["listed_as"] == "瑞格列奈" and second["source"]["number"] == "医保发〔2024〕33号"
    b = step(data, "category-b-prepay")
    assert (b["rule"], b["value"], b["amount"], b["result"]) == (
        "langfang-cso-category-b-prepay",
        "0.1",
        "3.18",
        "61.11",
    )
    assert "3.18" in b["source"]["quote"]
    assert step(data, "deductible")["rule"] == "langfang-cso-deductible"
    ratio = step(data, "ratio")
    assert (ratio["rule"], ratio["value"], ratio["amount"]) == (
        "langfang-cso-ratio",
        "0.8",
        "48.89",
    )
    assert ratio["source"]["document"] == "guide-r19-langfang-example"
    assert "80%" in ratio["source"]["quote"]
    # long-term filers: no reduction, by the national rule (R12/R13), cited
    assert step(data, "ratio-reduction")["rule"] == "nat-ratio-reduction-long-term"
    assert data["answers"]["catalog_region"] == "110000"
    assert data["answers"]["policy_region"] == "131000"
    assert data["answers"]["direct_settlement"] is True
    # no annual cap for Langfang in the graph: said, not guessed
    assert step(data, "annual-cap")["rule"] is None
    assert "annual-cap-unknown" in flags(data)
    assert [s["step"] for s in data["steps"]] == [
        "category-b-prepay",
        "cross-region-prepay",
        "deductible",
        "ratio-reduction",
        "ratio",
        "annual-cap",
    ]


def test_the_shipped_example_is_the_tests_r19_claim() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == (CLAIMS / "r19-langfang-beijing.yaml").read_text(
        encoding="utf-8"
    )


def test_items_by_catalog_number_give_the_same_result(default_store: ox.Store) -> None:
    # W-144 → 阿卡波糖, W-164 → 瑞格列奈: the same figures as R19.
    data = compute(default_store, CLAIMS / "langfang-by-code.yaml")
    assert (data["in_scope"], data["fund_pays"]) == ("61.11", "48.89")
    assert [i["listed_as"] for i in data["items"]] == ["阿卡波糖", "瑞格列奈"]


def test_an_item_outside_the_catalog_is_not_in_scope(default_store: ox.Store) -> None:
    # R19 + 50.00 declared 丙: in scope still 61.11, fund 48.89; total 114.29;
    # patient pays 114.29 − 48.89 = 65.40.
    data = compute(default_store, CLAIMS / "langfang-out-of-scope-item.yaml")
    assert (data["total"], data["in_scope"], data["fund_pays"], data["patient_pays"]) == (
        "114.29",
        "61.11",
        "48.89",
        "65.40",
    )
    third = data["items"][2]
    assert (third["category"], third["category_from"], third["in_scope"]) == ("丙", "claim", "0.00")
    assert {"out-of-scope-items", "declared-category"} <= flags(data)


def r19_claim(**changes: object) -> rb.Claim:
    """R19's scenario (a 廊坊 retiree relocated to 北京, 门诊慢特病) with other items or date."""
    scenario = {
        "insured_region": "廊坊",
        "treatment_region": "北京",
        "scheme": "employee",
        "filing_type": "retiree-relocated",
        "service": "chronic-special-outpatient",
        "date": "2025-06-01",
    }
    return rb.claim_from_mapping({**scenario, **changes})


def test_a_claim_may_name_vocabulary_values_by_their_labels(default_store: ox.Store) -> None:
    claim = r19_claim(
        scheme="职工",
        filing_type="异地安置退休人员",
        service="门诊慢特病",
        items=[
            {"name": "阿卡波糖片", "amount": "32.52"},
            {"name": "瑞格列奈片", "amount": "31.77"},
        ],
    )
    data = rb.reimburse(default_store, claim).to_json("zh")
    assert data["fund_pays"] == "48.89"
    # JSON keeps the stable codes
    scenario = data["claim"]["scenario"]
    assert (scenario["scheme"], scenario["filing_type"], scenario["service"]) == (
        "employee",
        "retiree-relocated",
        "chronic-special-outpatient",
    )


def test_a_name_and_a_code_of_the_same_row_are_accepted(default_store: ox.Store) -> None:
    claim = r19_claim(items=[{"name": "瑞格列奈片", "code": "W-164", "amount": "31.77"}])
    (line,) = rb.reimburse(default_store, claim).to_json("en")["items"]
    assert (line["number"], line["category"], line["in_scope"]) == ("W-164", "乙", "28.59")


def test_a_declared_category_the_catalog_contradicts_is_flagged(default_store: ox.Store) -> None:
    # 瑞格列奈片 declared 甲 (nrdl-2024 W-164: 乙) is used as declared: 32.52 + 31.77 + 100.00
    # = 164.29 in scope, × 0.80 = 131.432 → 131.43. The service total is in no catalog: no flag.
    data = compute(default_store, CLAIMS / "langfang-declared-category-differs.yaml")
    assert (data["in_scope"], data["fund_pays"]) == ("164.29", "131.43")
    assert data["items"][1]["category"] == "甲" and data["items"][1]["category_from"] == "claim"
    (differs,) = [f for f in data["flags"] if f["code"] == "declared-category-differs"]
    assert differs["rule"] == "nrdl-2024/W-164"
    for word in ("item 2", "瑞格列奈片", "declared 甲", "乙", "nrdl-2024 W-164"):
        assert word in differs["message"]
    assert "门诊诊查费合计" not in differs["message"]
    zh = rb.reimburse(
        default_store, rb.load_claim(CLAIMS / "langfang-declared-category-differs.yaml")
    )
    assert "申报为甲类" in zh.to_json("zh")["flags"][0]["message"]
    # as given on a bill, matching the catalog: no such flag
    assert "declared-category-differs" not in flags(
        compute(default_store, CLAIMS / "langfang-out-of-scope-item.yaml")
    )


# ------------------------------------------------------------------ 江西省本级 by filing type

# 江西省本级 employee, level-3 hospital in 北京 (cross-province), 2025-11-20: 9,000.00 declared 甲
# + 阿卡波糖片 1,000.00 (甲) = 10,000.00 in scope. Deductible 800, ratio 0.85 (level 3).
JIANGXI = [
    # long-term (retiree relocated): prepay 0 → 10,000 − 800 = 9,200 × 0.85 = 7,820.00
    ("retiree-relocated", "0", "0.00", "7820.00", "2180.00"),
    # referral: prepay 10% = 1,000 → 9,000 − 800 = 8,200 × 0.85 = 6,970.00
    ("referral", "0.1", "1000.00", "6970.00", "3030.00"),
    # emergency: as referral
    ("emergency", "0.1", "1000.00", "6970.00", "3030.00"),
    # other temporary: prepay 20% = 2,000 → 8,000 − 800 = 7,200 × 0.85 = 6,120.00
    ("other-temporary", "0.2", "2000.00", "6120.00", "3880.00"),
    # unfiled: as other temporary, and flagged for manual reimbursement
    ("none", "0.2", "2000.00", "6120.00", "3880.00"),
]


@pytest.mark.parametrize(("filing", "share", "prepay", "fund", "patient"), JIANGXI)
def test_jiangxi_pool_prepay_by_filing_type(
    default_store: ox.Store, filing: str, share: str, prepay: str, fund: str, patient: str
) -> None:
    data = compute(default_store, CLAIMS / f"jiangxi-pool-{filing}.yaml")
    assert (data["total"], data["in_scope"]) == ("10000.00", "10000.00")
    cross = step(data, "cross-region-prepay")
    assert (cross["value"], cross["amount"]) == (share, prepay)
    assert cross["rule"].startswith("jiangxi-pool-prepay-")
    assert cross["source"]["quote"]
    deductible = step(data, "deductible")
    assert (deductible["rule"], deductible["amount"]) == (
        "jiangxi-pool-deductible-level-3",
        "800.00",
    )
    ratio = step(data, "ratio")
    assert (ratio["rule"], ratio["value"]) == ("jiangxi-pool-ratio-level-3", "0.85")
    assert (data["fund_pays"], data["patient_pays"]) == (fund, patient)
    # the same-level ratio is not cut again: the reduction is the 先行自付 share
    assert step(data, "ratio-reduction")["value"] == "0"


def test_jiangxi_unfiled_is_manual_reimbursement_with_the_same_arithmetic(
    default_store: ox.Store,
) -> None:
    unfiled = compute(default_store, CLAIMS / "jiangxi-pool-none.yaml")
    temporary = compute(default_store, CLAIMS / "jiangxi-pool-other-temporary.yaml")
    assert {"not-filed", "manual-reimbursement"} <= flags(unfiled)
    assert "manual-reimbursement" not in flags(temporary)
    assert unfiled["answers"]["direct_settlement"] is False
    manual = next(f for f in unfiled["flags"] if f["code"] == "manual-reimbursement")
    assert manual["rule"]
    assert unfiled["fund_pays"] == temporary["fund_pays"] == "6120.00"


def test_unfiled_care_that_needs_no_filing_is_not_flagged_not_filed(
    default_store: ox.Store,
) -> None:
    # 江西省本级 → 赣州: intra-province care needs no filing (jiangxi-intra-province-no-filing)
    data = compute(default_store, CLAIMS / "jiangxi-intra-province-unfiled.yaml")
    assert data["answers"]["scope"] == "intra-province"
    assert "not-filed" not in flags(data) and "manual-reimbursement" not in flags(data)
    # cross-province, where the national rule requires a filing, it is
    unfiled = compute(default_store, CLAIMS / "jiangxi-pool-none.yaml")
    (flag,) = [f for f in unfiled["flags"] if f["code"] == "not-filed"]
    assert flag["rule"] == "nat-cp-filing-required"


def test_a_filing_class_whose_members_differ_asks_for_the_filing_type(
    default_store: ox.Store,
) -> None:
    # temporary = referral (10%), emergency (10%) or other-temporary (20%) for 江西省本级
    data = compute(default_store, CLAIMS / "jiangxi-pool-temporary-class.yaml")
    assert data["computed"] is False and data["fund_pays"] is None
    (missing,) = data["missing"]
    assert missing["kind"] == "cross-region-prepay"
    for word in ("temporary", "referral 0.1", "other-temporary 0.2", "filing_type"):
        assert word in missing["reason"]
    assert "cross-region-prepay" not in [s["step"] for s in data["steps"]]
    # a class whose members agree is computed: R19's long-term filers (retiree-relocated)
    claim = rb.load_claim(EXAMPLE)
    as_class = dataclasses.replace(
        claim, scenario=dataclasses.replace(claim.scenario, filing_type="long-term")
    )
    assert rb.reimburse(default_store, as_class).fund_pays == Decimal("48.89")


def test_chinese_text_says_vocabulary_values_by_their_labels(default_store: ox.Store) -> None:
    result = rb.reimburse(
        default_store, rb.load_claim(CLAIMS / "jiangxi-pool-temporary-class.yaml")
    )
    text = rb.render_text(result, "zh")
    assert "· 跨省异地就医 · 跨省临时外出就医人员 ·" in text
    assert "无法计算：缺少“异地就医先行自付比例”" in text
    for word in (
        "异地急诊抢救人员 0.1",
        "其他跨省临时外出就医人员 0.2",
        "请给出具体的异地就医备案类型",
    ):
        assert word in text
    body = text.split("\n", 1)[1]  # after the title: the claim's name
    for code in ("cross-province", "cross-region-prepay", "temporary", "emergency", "referral"):
        assert code not in body
    # JSON keeps the stable codes; English text too
    data = result.to_json("zh")
    assert data["answers"]["scope"] == "cross-province"
    assert [m["kind"] for m in data["missing"]] == ["cross-region-prepay"]
    assert "· cross-province · temporary ·" in rb.render_text(result, "en")
    # a missing parameter that is no rule kind, and a key the rules need
    missing = rb.reimburse(default_store, r19_claim(date="2026-03-01", items=[
        {"name": "阿卡波糖片", "amount": 10}]))  # fmt: skip
    assert "缺少“生效的医保目录”" in rb.render_text(missing, "zh")
    admission = rb.reimburse(
        default_store, rb.load_claim(CLAIMS / "neimenggu-admission-not-given.yaml")
    )
    assert "需要情景给出 admission（住院次序）" in rb.render_text(admission, "zh")


def test_a_category_b_item_without_a_prepay_rule_is_not_computed(default_store: ox.Store) -> None:
    # 江西省本级 has no 乙类先行自付 rule in the graph: a 乙 drug cannot be priced.
    claim = rb.claim_from_mapping(
        {
            "insured_region": "369900",
            "treatment_region": "北京",
            "scheme": "employee",
            "filing_type": "referral",
            "service": "inpatient",
            "hospital_level": "3",
            "date": "2025-11-20",
            "items": [{"name": "瑞格列奈片", "dosage_form": "口服常释剂型", "amount": "100"}],
        }
    )
    result = rb.reimburse(default_store, claim)
    assert not result.computed and result.fund_pays is None
    data = result.to_json("en")
    assert data["fund_pays"] is None and data["patient_pays"] is None
    assert [m["kind"] for m in data["missing"]] == ["category-b-prepay"]


# ------------------------------------------------------------------ 内蒙古: admissions and cap


def test_neimenggu_cap_reached_with_spent(default_store: ox.Store) -> None:
    # 10,000 甲, first admission: 10,000 − 1,200 = 8,800 × 0.80 = 7,040.00 before the cap.
    # Cap 300,000 − spent 299,000 (the claim's spent) = 1,000.00 left: the fund pays 1,000.00,
    # the patient 9,000.00.
    data = compute(default_store, CLAIMS / "neimenggu-cap-reached.yaml")
    assert step(data, "deductible")["rule"] == "neimenggu-cp-deductible-first-admission"
    assert step(data, "deductible")["amount"] == "1200.00"
    assert step(data, "ratio")["amount"] == "7040.00"
    cap = step(data, "annual-cap")
    assert (cap["rule"], cap["value"], cap["amount"], cap["result"]) == (
        "neimenggu-cp-annual-cap",
        "300000",
        "6040.00",
        "1000.00",
    )
    assert (data["spent"], data["fund_pays"], data["patient_pays"]) == (
        "299000.00",
        "1000.00",
        "9000.00",
    )
    assert "cap-reached" in flags(data)
    # above the basic cap the large-sum fund may pay: said, not computed (no ratio for it)
    large = next(f for f in data["flags"] if f["code"] == "large-sum-not-computed")
    assert large["rule"] == "neimenggu-cp-large-sum-cap"
    # the ratio rule is already for cross-province care: no reduction on top of it
    assert step(data, "ratio-reduction")["rule"] is None
    assert step(data, "ratio")["value"] == "0.8"


def test_spent_option_overrides_the_claim(default_store: ox.Store) -> None:
    # spent 0: 7,040.00 is under the cap; spent 300,000: nothing left, the fund pays 0.00.
    assert compute(default_store, CLAIMS / "neimenggu-cap-reached.yaml", "0")["fund_pays"] == (
        "7040.00"
    )
    full = compute(default_store, CLAIMS / "neimenggu-cap-reached.yaml", "300000")
    assert (full["fund_pays"], full["patient_pays"]) == ("0.00", "10000.00")
    under = compute(default_store, CLAIMS / "neimenggu-cap-reached.yaml", "0")
    assert "cap-reached" not in flags(under) and "large-sum-not-computed" not in flags(under)


def test_neimenggu_later_admission_deductible_600(default_store: ox.Store) -> None:
    # 10,000 − 600 = 9,400 × 0.80 = 7,520.00
    data = compute(default_store, CLAIMS / "neimenggu-later-admission.yaml")
    assert step(data, "deductible")["rule"] == "neimenggu-cp-deductible-later-admission"
    assert data["fund_pays"] == "7520.00"


def test_a_missing_admission_names_the_missing_parameter(default_store: ox.Store) -> None:
    data = compute(default_store, CLAIMS / "neimenggu-admission-not-given.yaml")
    assert data["computed"] is False and data["fund_pays"] is None
    (missing,) = data["missing"]
    assert missing["kind"] == "deductible" and "admission" in missing["reason"]


# ------------------------------------------------------------------ command line


def test_cli_prints_fund_pays_of_r19(default_store_dir: Path) -> None:
    result = run(default_store_dir, str(EXAMPLE), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["fund_pays"], data["patient_pays"]) == ("48.89", "15.40")
    text = run(default_store_dir, str(EXAMPLE), "--lang", "en")
    assert text.exit_code == 0
    assert "fund pays 48.89" in text.output and "langfang-cso-ratio" in text.output


def test_cli_spent_and_missing_parameter_exit_codes(default_store_dir: Path) -> None:
    capped = run(default_store_dir, str(CLAIMS / "neimenggu-cap-reached.yaml"), "--spent", "0")
    assert capped.exit_code == 0 and "7040.00" in capped.output
    missing = run(default_store_dir, str(CLAIMS / "neimenggu-admission-not-given.yaml"))
    assert missing.exit_code == 1
    assert "deductible" in missing.output


BAD = [
    ("Claim-missing-amount.yaml", 9, ["item 2", "瑞格列奈片", "amount"]),
    ("Claim-negative-amount.yaml", 9, ["item 1", "阿卡波糖片", "-32.52"]),
    ("Claim-unknown-drug.yaml", 10, ["item 2", "瑞格列丁片", "瑞格列奈"]),
    ("Claim-unknown-region.yaml", 2, ["廊坊坊坊", "131000"]),
    ("Claim-malformed-yaml.yaml", 5, ["YAML syntax error"]),
    ("Claim-malformed-json.json", 2, ["JSON syntax error"]),
    ("Claim-nan-amount.yaml", 8, ["item 1", "阿卡波糖片", "is not a number"]),
    ("Claim-amount-too-large.yaml", 8, ["item 1", "too large", "1,000,000,000,000"]),
    # YAML 1.1 number forms would silently be other amounts (10, 90, 16): refused
    ("Claim-octal-amount.yaml", 9, ["item 2", "瑞格列奈片", "012", "10", 'write 12 or "12"']),
    ("Claim-sexagesimal-amount.yaml", 8, ["item 1", "1:30", "90", "decimal digits"]),
    ("Claim-hex-amount.yaml", 8, ["item 1", "0x10", "16", "decimal digits"]),
    ("Claim-octal-spent.yaml", 3, ["spent", "012", 'write 12 or "12"']),
    ("Claim-negative-zero-amount.yaml", 8, ["item 1", "-0.0", "negative"]),
    ("Claim-exponent-string-amount.yaml", 8, ["item 1", "'1e3'", "decimal digits"]),
    ("Claim-fullwidth-amount.yaml", 8, ["item 1", "'１０００'", "decimal digits"]),
    # a key given twice is named with its item; a misspelt items at its own line, not line 1
    ("Claim-duplicate-key.yaml", 11, ["item 2", "duplicate key 'amount'"]),
    ("Claim-misspelt-items.yaml", 3, ["'item'", "each entry of items", "did you mean", "items"]),
    # W-164 is 瑞格列奈, not 阿卡波糖 (W-144): the code is not ignored
    ("Claim-name-and-code-disagree.yaml", 9, ["item 2", "W-144", "W-164", "瑞格列奈"]),
]


@pytest.mark.parametrize(("name", "line", "words"), BAD)
def test_bad_claims_exit_2_naming_file_item_and_line(
    default_store_dir: Path, name: str, line: int, words: list[str]
) -> None:
    path = INVALID / name
    result = run(default_store_dir, str(path))
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError), result.output
    assert result.exception.exit_code == 2
    assert result.exception.line == line
    assert Path(result.exception.path or "") == path
    for word in words:
        assert word in str(result.exception)


def test_bad_claims_through_main_print_no_traceback(
    default_store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kg.cli import main

    path = INVALID / "Claim-negative-amount.yaml"
    with pytest.raises(SystemExit) as stop:
        main(["reimburse", str(path), "--store", str(default_store_dir)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"{path}:9" in err and "Traceback" not in err


def test_amounts_with_more_than_two_decimals_or_unknown_keys_are_input_errors() -> None:
    base = {"insured_region": "廊坊", "treatment_region": "北京"}
    with pytest.raises(InputError, match="two decimals"):
        rb.claim_from_mapping({**base, "items": [{"name": "阿卡波糖", "amount": 1.005}]})
    with pytest.raises(InputError, match="unknown claim key 'colour'"):
        rb.claim_from_mapping({**base, "colour": "red", "items": [{"name": "x", "amount": 1}]})
    with pytest.raises(InputError, match="belongs to each entry"):
        rb.claim_from_mapping({**base, "item": "x", "items": [{"name": "x", "amount": 1}]})


def test_spent_is_read_like_the_amounts(default_store_dir: Path) -> None:
    # 1.234 is not rounded to 1.23: rejected like an item amount with three decimals
    for spent, words in (
        ("1.234", "two decimals"),
        ("abc", "not a number"),
        ("-1", "negative"),
        # one syntax with the claims' string amounts: no exponent, _, space, 5. or full width
        ("1e3", "decimal digits"),
        ("1_000", "decimal digits"),
        (" 5", "decimal digits"),
        ("5.", "decimal digits"),
        ("１０００", "decimal digits"),
    ):
        result = run(default_store_dir, str(EXAMPLE), "--spent", spent)
        assert result.exit_code != 0 and isinstance(result.exception, KgError), result.output
        assert result.exception.exit_code == 2
        assert "--spent" in str(result.exception) and words in str(result.exception)
    assert run(default_store_dir, str(EXAMPLE), "--spent", "1.23").exit_code == 0


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (float("nan"), "is not a number"),
        (float("inf"), "not a finite amount"),
        ("-0.01", "negative"),
        (1.005, "two decimals"),
        (1e20, "too large"),
        (2.0**46, "too large"),
        (10**30, "too large"),
    ],
)
def test_amounts_that_are_not_exact_fen_are_errors(value: object, words: str) -> None:
    with pytest.raises(KgError, match=words):
        rb.parse_amount(value)


def test_amounts_up_to_the_bound_are_read_exactly() -> None:
    # 10^12 yuan with two decimals has 15 significant digits: a float holds it to the fen
    assert rb.parse_amount(999999999999.99) == Decimal("999999999999.99")
    assert rb.parse_amount("1000000000000") == Decimal("1000000000000.00")
    assert rb.parse_amount(0.1) == Decimal("0.10")
    with pytest.raises(KgError, match="too large"):
        rb.parse_amount("1000000000000.01")


# One syntax for every amount written as text: claim strings, --spent, the API.
AMOUNT_TEXTS = [
    ("0", True),
    ("7", True),
    ("32.5", True),
    ("32.52", True),
    ("1000000000000", True),
    ("1000000000000.00", True),
    ("1000000000000.01", False),
    ("99999999999999999999999999.99", False),
    ("012", False),
    ("1e3", False),
    ("1_000", False),
    (" 5", False),
    ("5 ", False),
    ("5.", False),
    (".5", False),
    ("+5", False),
    ("-0", False),
    ("-1", False),
    ("1.234", False),
    ("１０００", False),
    ("٣", False),
    ("abc", False),
    ("", False),
]


@pytest.mark.parametrize(("text", "valid"), AMOUNT_TEXTS)
def test_the_claim_schema_and_parse_amount_accept_the_same_strings(text: str, valid: bool) -> None:
    schema = json.loads((ROOT / "kg/schemas/claim.schema.json").read_text(encoding="utf-8"))
    amount = {**schema["$defs"]["amount"], "$defs": schema["$defs"]}
    assert jsonschema.Draft202012Validator(amount).is_valid(text) is valid
    if valid:
        assert rb.parse_amount(text) == Decimal(text)
    else:
        with pytest.raises(KgError):
            rb.parse_amount(text)
    base = {"insured_region": "廊坊", "treatment_region": "北京"}
    claim = {**base, "items": [{"name": "阿卡波糖", "amount": text}], "spent": text}
    if valid:
        assert rb.claim_from_mapping(claim).spent == Decimal(text)
    else:
        with pytest.raises(InputError, match="item 1"):
            rb.claim_from_mapping(claim)


def test_json_numbers_exact_to_the_fen_are_amounts(default_store: ox.Store, tmp_path: Path) -> None:
    # 1e2 and 32.520 are JSON numbers of 100 and 32.52; read from their text, never a float
    path = tmp_path / "claim.json"
    items = '[{"name": "阿卡波糖片", "amount": 1e2}, {"name": "阿卡波糖片", "amount": 32.520}]'
    path.write_text(
        f'{{"insured_region": "廊坊", "treatment_region": "北京", "date": "2025-06-01",\n'
        f' "spent": 1.5E1, "items": {items}}}',
        encoding="utf-8",
    )
    claim = rb.load_claim(path)
    assert [i.amount for i in claim.items] == [Decimal("100.00"), Decimal("32.52")]
    assert claim.spent == Decimal("15.00")
    for number, words in (("1e400", "too large"), ("-0", "negative"), ("1.005", "two decimals")):
        path.write_text(
            '{"insured_region": "廊坊", "treatment_region": "北京",\n'
            f' "items": [{{"name": "阿卡波糖片",\n "amount": {number}}}]}}',
            encoding="utf-8",
        )
        with pytest.raises(InputError, match=words) as error:
            rb.load_claim(path)
        assert error.value.line == 3 and "item 1 (阿卡波糖片)" in str(error.value)


def test_an_integer_of_5000_digits_is_too_large_at_its_item_and_line(tmp_path: Path) -> None:
    # Python refuses to convert such an integer (sys.get_int_max_str_digits): not a traceback,
    # not "invalid YAML value" for a JSON file
    for suffix, body in ((".json", '"amount": {}}}]}}'), (".yaml", "amount: {}}}]}}")):
        path = tmp_path / f"claim{suffix}"
        path.write_text(
            '{"insured_region": "廊坊", "treatment_region": "北京",\n'
            '"items": [{"name": "阿卡波糖片",\n' + body.format("9" * 5000),
            encoding="utf-8",
        )
        with pytest.raises(InputError, match="too large") as error:
            rb.load_claim(path)
        assert error.value.line == 3, str(error.value)[:200]
        assert "item 1 (阿卡波糖片)" in str(error.value) and "YAML" not in str(error.value)
        assert len(str(error.value)) < 300


def test_sums_of_many_items_at_the_bound_are_exact(default_store: ox.Store) -> None:
    # 30 items of 10^12 yuan (甲 as declared): 3 × 10^13 in scope, × 0.80 = 2.4 × 10^13; the
    # sum has more digits than a 25-digit amount would leave to Decimal's default 28
    items = [{"name": "床位费", "category": "甲", "amount": "1000000000000"}] * 30
    result = rb.reimburse(default_store, r19_claim(items=items))
    assert result.total == Decimal("30000000000000.00")
    assert result.fund_pays == Decimal("24000000000000.00")
    assert result.patient_pays == Decimal("6000000000000.00")


def test_the_api_reads_spent_like_the_command_line(default_store: ox.Store) -> None:
    # 内蒙古, cap 300,000: fund 7,040.00 before the cap
    claim = rb.load_claim(CLAIMS / "neimenggu-cap-reached.yaml")
    for spent in (299000, "299000", Decimal("299000")):
        assert rb.reimburse(default_store, claim, spent=spent).fund_pays == Decimal("1000.00")
    # a negative spent would lift the fund above the cap; half a fen is no amount
    for bad, words in (
        (Decimal("-10000"), "negative"),
        (Decimal("-0"), "negative"),
        (Decimal("299999.995"), "two decimals"),
        ("abc", "not a number"),
        (Decimal("NaN"), "not a number"),
        (1.5e13, "too large"),
        (True, "not an amount"),
    ):
        with pytest.raises(InputError, match=words) as error:
            rb.reimburse(default_store, claim, spent=bad)  # type: ignore[arg-type]
        assert "spent" in str(error.value)
    # a Claim built in Python is checked like a file
    item = dataclasses.replace(claim.items[0], amount=Decimal("-1"))
    with pytest.raises(InputError, match="item 1"):
        rb.reimburse(default_store, dataclasses.replace(claim, items=(item,)))


def test_negative_zero_is_refused_everywhere(default_store_dir: Path) -> None:
    result = run(default_store_dir, str(EXAMPLE), "--spent=-0")
    assert isinstance(result.exception, KgError) and "negative" in str(result.exception)
    for value in ("-0", -0.0, Decimal("-0.00")):
        with pytest.raises(KgError, match="negative"):
            rb.parse_amount(value)


def test_rounding_rule_doctest() -> None:
    assert doctest.testmod(rb).failed == 0
    # half up at the fen, also for amounts carried through several steps
    assert rb.fen(Decimal("0.005")) == Decimal("0.01")
    assert rb.fen(Decimal("2.675")) == Decimal("2.68")


def test_public_api_is_pinned() -> None:
    assert sorted(rb.__all__) == [
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


# ------------------------------------------------------------------ other paths


def test_a_json_claim_for_care_that_is_not_reimbursed(
    default_store: ox.Store, tmp_path: Path
) -> None:
    # 佛山 people who go out of the city on their own get no general outpatient benefit
    # (seed 004): the fund pays 0.00 of 100.00, the deciding rule is cited.
    path = tmp_path / "foshan.json"
    claim = {
        "insured_region": "佛山",
        "treatment_region": "北京",
        "filing_type": "other-temporary",
        "service": "general-outpatient",
        "date": "2025-06-01",
        "items": [{"name": "阿卡波糖片", "dosage_form": "口服常释剂型", "amount": 100}],
    }
    path.write_text(json.dumps(claim, ensure_ascii=False), encoding="utf-8")
    data = compute(default_store, path)
    assert (data["fund_pays"], data["patient_pays"]) == ("0.00", "100.00")
    (flag,) = data["flags"]
    assert flag["code"] == "not-reimbursable" and flag["rule"]


def test_local_care_takes_no_reduction(default_store: ox.Store) -> None:
    # 廊坊 insured treated in 廊坊: 31.77 乙 → 3.18 prepaid, 28.59 × 0.80 = 22.872 → 22.87.
    claim = rb.claim_from_mapping(
        {
            "insured_region": "廊坊",
            "treatment_region": "廊坊",
            "scheme": "employee",
            "service": "chronic-special-outpatient",
            "date": "2025-06-01",
            "items": [{"name": "瑞格列奈片", "dosage_form": "口服常释剂型", "amount": 31.77}],
        }
    )
    data = rb.reimburse(default_store, claim).to_json("en")
    assert data["answers"]["scope"] == "local"
    assert (data["in_scope"], data["fund_pays"], data["patient_pays"]) == ("28.59", "22.87", "8.90")
    assert "ratio-reduction" not in [s["step"] for s in data["steps"]]


def test_no_catalog_in_force_is_not_computed(default_store: ox.Store) -> None:
    # The shipped 2024 catalog ends on 2025-12-31; the graph has no 2026 catalog.
    claim = r19_claim(date="2026-02-01", items=[{"name": "阿卡波糖片", "amount": 10}])
    data = rb.reimburse(default_store, claim).to_json("en")
    assert data["computed"] is False and data["in_scope"] is None
    assert [m["kind"] for m in data["missing"]] == ["catalog"]
    assert "2026-02-01" in data["missing"][0]["reason"]


@pytest.mark.parametrize("date", ["2026-03-01", "2022-07-01", "2024-12-31"])
def test_without_a_catalog_every_item_is_listed_with_why(
    default_store_dir: Path, tmp_path: Path, date: str
) -> None:
    # R19's two items on dates no shipped catalog covers (nrdl-2024: 2025-01-01 – 2025-12-31)
    path = tmp_path / "claim.yaml"
    path.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("2025-06-01", date), encoding="utf-8"
    )
    result = run(default_store_dir, str(path), "--format", "json", "--lang", "en")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["total"] == "64.29" and [m["kind"] for m in data["missing"]] == ["catalog"]
    assert [i["name"] for i in data["items"]] == ["阿卡波糖片", "瑞格列奈片"]
    for item in data["items"]:
        assert (item["category"], item["category_from"], item["in_scope"]) == (
            None,
            "unknown",
            None,
        )
        assert date in item["reason"]
    for lang in ("en", "zh"):
        text = run(default_store_dir, str(path), "--lang", lang)
        assert text.exit_code == 1
        assert "1. 阿卡波糖片" in text.output and "2. 瑞格列奈片" in text.output
        assert "None" not in text.output
        assert text.output.count(date) >= 3  # the scenario line and each item's reason


def test_the_text_report_shows_no_none(default_store: ox.Store) -> None:
    # 廊坊 insured treated in 廊坊 in 2022: no catalog-region or policy-region rule in force
    claim = rb.claim_from_mapping(
        {
            "insured_region": "廊坊",
            "treatment_region": "廊坊",
            "scheme": "employee",
            "service": "chronic-special-outpatient",
            "date": "2022-07-01",
            "items": [{"name": "瑞格列奈片", "dosage_form": "口服常释剂型", "amount": 31.77}],
        }
    )
    result = rb.reimburse(default_store, claim)
    assert result.to_json("en")["answers"]["catalog_region"] is None
    for lang, words in (
        ("en", "catalog region — · policy region —"),
        ("zh", "目录地 — · 政策地 —"),
    ):
        text = rb.render_text(result, lang)
        assert "None" not in text and words in text
        assert ("in scope —" if lang == "en" else "支付范围内 —") in text


def test_the_schemas_are_valid_and_the_shipped_claims_follow_theirs() -> None:
    claim_schema = json.loads((ROOT / "kg/schemas/claim.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(claim_schema)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for path in sorted(CLAIMS.glob("*.yaml")):
        assert rb.load_claim(path).items, path
