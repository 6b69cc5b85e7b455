"""Scenario files: every case of tests/scenarios/*.yaml, run by the engine of `yibao test`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import scenario
from kg.errors import InputError

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))
WRONG = Path(__file__).parent / "fixtures" / "query" / "scenarios-wrong.yaml"


def _params() -> list[object]:
    params = []
    for path in SCENARIOS:
        for case in scenario.load_cases(path):
            marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
            params.append(pytest.param(case, id=f"{path.stem}::{case.name}", marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_scenario(default_store: ox.Store, case: scenario.Case) -> None:
    result = scenario.run_case(default_store, case)
    assert result.status in ("pass", "xpass"), scenario.describe(result)


def test_the_scenario_files_cover_the_domain() -> None:
    cases = [c for path in SCENARIOS for c in scenario.load_cases(path)]
    assert len(cases) >= 40
    foshan = [c for c in cases if c.path.stem == "foshan"]
    decided = {rule for c in foshan for rules in c.decided_by.values() for rule in rules}
    rules_file = Path(scenario.__file__).parent / "data" / "rules" / "foshan-440600.yaml"
    ids = {
        line.split("id:", 1)[1].strip()
        for line in rules_file.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("- id:")
    }
    assert ids and ids <= decided, f"Foshan statements without a case: {sorted(ids - decided)}"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
        # the kg of this checkout, also when another one is installed
        env={**os.environ, "YIBAO_STORE": "", "PYTHONPATH": str(Path(__file__).parent.parent)},
    )


def test_wrong_expectations_fail_with_the_differing_keys(default_store_dir: Path) -> None:
    out = run_cli("test", str(WRONG), "--store", str(default_store_dir))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "4 cases: 4 fail" in out.stdout
    assert "institution_limit (line 5): expected 4, got 3" in out.stdout
    assert "scope" not in out.stdout.split("limit-is-not-4")[1].split("FAIL")[0]
    expected = 'required_materials (line 10): expected ["identity", "referral-certificate"]'
    assert expected in out.stdout
    assert "decided_by.filing_required" in out.stdout
    assert "treated_as_filed (line 21): expected false, got null" in out.stdout


def test_passing_files_exit_0(default_store_dir: Path) -> None:
    out = run_cli("test", *map(str, SCENARIOS), "--store", str(default_store_dir), "-q")
    assert out.returncode == 0, out.stdout + out.stderr
    summary = out.stdout.strip().splitlines()[-1]
    assert summary.endswith(" pass") and "fail" not in summary, summary


def test_an_xfail_case_that_passes_fails_the_run(default_store: ox.Store, tmp_path: Path) -> None:
    path = tmp_path / "xpass.yaml"
    path.write_text(
        "- name: fixed\n"
        "  scenario: {insured_region: 佛山, treatment_region: 北京, date: 2025-06-01}\n"
        "  expect: {scope: cross-province}\n"
        "  xfail: a gap that was fixed\n",
        encoding="utf-8",
    )
    (result,) = scenario.run_files(default_store, [path])
    assert result.status == "xpass" and result.failed
    assert "remove the xfail mark" in scenario.describe(result)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- name: a\n  scenario: {insured_region: 佛山}\n", 1, "'expect' is a required property"),
        ("- name: a\n  scenario: {insured_region: 佛山}\n  expect: {scpe: local}\n", 3,
         "unknown answer key 'scpe'"),
        ("- name: a\n  scenario: {insured_region: 佛山, filing: referral}\n"
         "  expect: {scope: local}\n", 2, "unknown scenario key 'filing'"),
        ("- name: a\n  scenario: {insured_region: 佛山, service: inpatiant}\n"
         "  expect: {scope: local}\n", 2, "service: 'inpatiant' is not one of"),
        ("- name: a\n  scenario: {insured_region: 佛山}\n  expect: {scope: local}\n"
         "- name: a\n  scenario: {insured_region: 佛山}\n  expect: {scope: local}\n", 4,
         "already used at line 1"),
        ("- name: a\n  scenario: {insured_region: 佛山\n  expect: {scope: local}\n", 3,
         "YAML syntax error"),
        ("- name: a\n  scenario: {insured_region: 佛山, date: 2025/01/01}\n"
         "  expect: {scope: local}\n", 2, "does not match"),
        # a misspelt key is named at its line, not as the required key it misses
        ("- name: a\n  scenario: {insured_region: 佛山}\n  expectt: {scope: local}\n", 3,
         "unknown key 'expectt' / 未知的键; did you mean / 您是否要找: expect"),
        # expected values of vocabulary keys are notations, like scenario values
        ("- name: a\n  scenario: {insured_region: 佛山}\n  expect: {scope: crossprovince}\n",
         3, "scope: 'crossprovince' is not one of"),
        ("- name: a\n  scenario: {insured_region: 佛山}\n  expect:\n    scope: local\n"
         "    filing_category: longterm\n", 5, "您是否要找: long-term"),
        ("- name: a\n  scenario: {insured_region: 佛山}\n  expect:\n"
         "    required_materials: [identity, {any_of: [idenity]}]\n", 4,
         "required_materials: 'idenity' is not one of"),
        ("- name: a\n  scenario: {insured_region: 佛山}\n"
         "  expect: {\"kind:catalog-region\": treatmnt}\n", 3, "您是否要找: treatment"),
        ("- name: a\n  scenario: {insured_region: 佛山}\n  expect: {item_category: 丁}\n", 3,
         "item_category: '丁' is not one of 丙, 乙, 甲"),
        # an expected value of the wrong type is a mistake in the file, not a failing case
        ("- name: a\n  scenario: {insured_region: 佛山}\n"
         "  expect: {institution_limit: three}\n", 3,
         'expect.institution_limit: "three" is not a value institution_limit can take'),
        ("- name: a\n  scenario: {insured_region: 佛山}\n"
         "  expect:\n    scope: local\n    filing_required: 'yes'\n", 5,
         "(boolean or null)"),
        ("- name: a\n  scenario: {insured_region: 佛山}\n"
         "  expect: {\"kind:deductable\": 100}\n", 3, "您是否要找: kind:deductible"),
        # a scenario value may be a label; a mistyped label is matched to its code
        ("- name: a\n  scenario: {insured_region: 佛山, service: 门诊慢特}\n"
         "  expect: {scope: local}\n", 2,
         "service: '门诊慢特' is not one of chronic-special-outpatient, general-outpatient, "
         "inpatient / 不在词表中; did you mean / 您是否要找: chronic-special-outpatient"),
    ],
)  # fmt: skip
def test_malformed_files_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    if "date:" not in text:  # each case is about another defect
        text = text.replace("{insured_region: 佛山", "{insured_region: 佛山, date: 2025-06-01")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        scenario.load_cases(path)
    assert err.value.line == line and message in err.value.message, err.value.render()


def test_a_case_without_a_date_is_malformed(tmp_path: Path) -> None:
    """A case means the same on any day: which-rule's default, today, is no test."""
    path = tmp_path / "bad.yaml"
    path.write_text("- name: a\n  scenario: {insured_region: 佛山}\n  expect: {scope: local}\n")
    with pytest.raises(InputError) as err:
        scenario.load_cases(path)
    assert err.value.line == 2 and "'date' is a required property" in err.value.message


def test_a_malformed_file_exits_2_with_file_and_line(
    default_store_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- name: a\n  scenario: {insured_region: 佛山, date: 2025-06-01}\n  expect: {scpe: local}\n"
    )
    out = run_cli("test", str(path), "--store", str(default_store_dir))
    assert out.returncode == 2
    assert f"{path}:3: unknown answer key 'scpe'" in out.stderr and "Traceback" not in out.stderr


def test_expected_values_of_the_vocabularies_and_of_codes_load(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(
        "- name: a\n  scenario: {insured_region: 佛山, date: 2025-06-01}\n"
        "  expect: {scope: cross-province, filing_category: long-term, item_category: 乙,\n"
        "           catalog_region: '110000', direct_settlement: true,\n"
        "           filing_validity: long-term,\n"
        "           required_materials: [identity, {any_of: [household-register]}],\n"
        "           'kind:catalog-region': treatment, 'kind:filing-channel': nhsa-app}\n",
        encoding="utf-8",
    )
    (case,) = scenario.load_cases(path)
    assert case.expect["kind:filing-channel"] == "nhsa-app"


def test_scenario_values_may_be_labels_of_the_vocabulary(
    default_store: ox.Store, tmp_path: Path
) -> None:
    path = tmp_path / "zh.yaml"
    path.write_text(
        "- name: r19-in-chinese\n"
        "  scenario: {insured_region: 廊坊, treatment_region: 北京, scheme: 职工,\n"
        "             filing_type: 异地安置退休人员, service: 门诊慢特病, date: 2025-06-01}\n"
        "  expect: {scope: cross-province, filing_category: long-term, catalog_region: '110000'}\n",
        encoding="utf-8",
    )
    (case,) = scenario.load_cases(path)
    assert case.scenario.filing_type == "retiree-relocated"
    assert scenario.run_case(default_store, case).status == "pass"


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ("  expect: {required_materials: [idenity]}\n",
         "3: required_materials: 'idenity' is not one of"),
        ("  expect: {scope: cross-province}\n"
         "  decided_by: {filing_required: nat-cp-filing-requird}\n",
         "4: decided_by.filing_required: no rule 'nat-cp-filing-requird'"),
    ],
)  # fmt: skip
def test_a_mistake_in_the_file_exits_2_not_1(
    default_store_dir: Path, tmp_path: Path, expect: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- name: a\n  scenario: {insured_region: 佛山, treatment_region: 北京, date: 2025-06-01}\n"
        + expect,
        encoding="utf-8",
    )
    out = run_cli("test", str(path), "--store", str(default_store_dir))
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"{path}:{message}" in out.stderr and "您是否要找" in out.stderr
    assert "FAIL" not in out.stdout and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (3, 3, True),
        (3, 4, False),
        (0.1, 0.10, True),
        (20, 20.0, True),
        (None, None, True),
        (False, None, False),
        (False, 0, False),
        ("440600", "440600", True),
        (440600, "440600", True),
        ([], [], True),
        ([], None, False),
        (["identity"], ["identity", "filing-form"], True),
        (["identity", "invoice"], ["identity", "filing-form"], False),
        ([{"any_of": ["b", "a"]}], ["x", {"any_of": ["a", "b"]}], True),
        ([{"any_of": ["a"]}], [{"any_of": ["a", "b"]}], False),
        (["a"], [{"any_of": ["a", "b"]}], True),  # a alone or as an alternative
        (["c"], [{"any_of": ["a", "b"]}], False),
        ([{"any_of": ["a", "b"]}], ["a", "b"], False),
    ],
)
def test_containment(expected: object, actual: object, ok: bool) -> None:
    assert scenario.contains(expected, actual) is ok
