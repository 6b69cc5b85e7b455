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
        env={**os.environ, "YIBAO_STORE": ""},
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
    ],
)  # fmt: skip
def test_malformed_files_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        scenario.load_cases(path)
    assert err.value.line == line and message in err.value.message, err.value.render()


def test_a_malformed_file_exits_2_with_file_and_line(
    default_store_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- name: a\n  scenario: {insured_region: 佛山}\n  expect: {scpe: local}\n")
    out = run_cli("test", str(path), "--store", str(default_store_dir))
    assert out.returncode == 2
    assert f"{path}:3: unknown answer key 'scpe'" in out.stderr and "Traceback" not in out.stderr


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
