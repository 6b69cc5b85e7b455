"""The synthetic national data set: deterministic, in the project's formats, buildable."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest

from kg import store
from kg.build import BuildOptions, build
from kg.errors import InputError
from kg.generate import Plan, generate, regions_with_rules


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    plan = Plan(institutions=300, regions=6, seed=3, filings=60)
    generate(tmp_path / "a", plan)
    generate(tmp_path / "b", plan)
    generate(tmp_path / "c", Plan(institutions=300, regions=6, seed=4, filings=60))
    files = _files(tmp_path / "a")
    assert files == _files(tmp_path / "b")
    _match, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "a", tmp_path / "b", [str(f) for f in files], shallow=False
    )
    assert not mismatch and not errors
    assert (tmp_path / "a" / "manifest.json").read_text() != (
        tmp_path / "c" / "manifest.json"
    ).read_text()


def test_counts_and_planted_violations_are_in_the_manifest(tmp_path: Path) -> None:
    manifest = generate(tmp_path / "g", Plan(institutions=1000, regions=8, seed=1, filings=400))
    rows = sum(
        len(p.read_text(encoding="utf-8").splitlines()) - 1
        for p in (tmp_path / "g" / "institutions").glob("*.csv")
    )
    assert rows == 1000
    assert len(manifest["regions"]) == 8
    assert manifest["planted_total"] == sum(manifest["planted"].values()) > 0
    assert not set(manifest["regions"]) & regions_with_rules(), "shipped rules stay untouched"
    on_disk = json.loads((tmp_path / "g" / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest


def test_the_generated_set_builds_with_the_ordinary_build(tmp_path: Path) -> None:
    generate(tmp_path / "g", Plan(institutions=400, regions=5, seed=2, filings=50))
    _, report = build(
        tmp_path / "s", BuildOptions(data_dirs=[tmp_path / "g"], validate=False, progress=False)
    )
    assert report.class_counts["MedicalInstitution"] >= 400
    assert report.class_counts["Filing"] == 50
    assert not [s for s in report.skipped if "/g/" in s.path], "no generated row is skipped"
    assert store.exists(tmp_path / "s")


def test_refuses_a_non_empty_directory_and_too_many_regions(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("x")
    with pytest.raises(InputError):
        generate(tmp_path / "x", Plan(institutions=10, regions=2, seed=1, filings=1))
    with pytest.raises(InputError):
        generate(tmp_path / "y", Plan(institutions=10, regions=10_000, seed=1, filings=1))
