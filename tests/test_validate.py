"""Validation: the shapes, the Oxigraph engine against pySHACL, fixtures, the command line.

Fixtures (tests/shapes/): each file or folder of invalid/ is new data that breaks exactly one
rule (tests/shapes/expected.yaml says which, how often, and with which words); its twin of
the same name in valid/ breaks none. All fixtures of invalid/ (and, apart, of valid/) are
read with tests/shapes/data/ (institutions the filings choose) into one snapshot of the
default store, as `yibao validate --data` reads them, and validated once; each fixture's
results are those on the nodes it defines, and together they must add up (no result comes
from two fixtures meeting).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml

from kg.build import BuildOptions, build
from kg.errors import InputError, ValidationFailed
from kg.sources.common import BuildReport
from kg.validate import extra, gate, validate_store
from kg.validate.compile import compile_shapes, render
from kg.validate.engine import OxigraphEngine
from kg.validate.reference import PyshaclEngine
from kg.validate.report import Report, fill, render_json, render_text, report_graph
from kg.validate.shapes import SHAPES_NS, ShapeError, Term, read_shapes, shipped_shapes, short_name

SHAPES = Path(__file__).parent / "shapes"
SUPPORT = SHAPES / "data"
EXPECTED = yaml.safe_load((SHAPES / "expected.yaml").read_text(encoding="utf-8"))
INVALID = sorted(p.name for p in (SHAPES / "invalid").iterdir())
VALID = sorted(p.name for p in (SHAPES / "valid").iterdir())


def run_cli(*args: str, columns: str = "200") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": columns},
        check=False,
    )


def keys(results: list) -> set[tuple[str, ...]]:  # type: ignore[type-arg]
    return {r.key() for r in results}


@pytest.fixture()
def snapshot(default_store_dir: Path) -> Iterator[extra.Snapshot]:
    with extra.snapshot(default_store_dir) as snap:
        yield snap


# ------------------------------------------------------------------ the shapes


def test_shapes_are_named_and_speak_both_languages() -> None:
    graph = shipped_shapes()
    assert len(graph.targeted) >= 20
    for shape in graph.shapes.values():
        assert isinstance(shape.node, ox.NamedNode), f"{shape.node}: name every shape (an IRI)"
        assert shape.node.value.startswith(SHAPES_NS)
        if shape.constraints and shape.is_property:
            assert {"zh", "en"} <= set(shape.messages), f"{shape.id} needs zh and en messages"
        for sparql in shape.sparql:
            assert {"zh", "en"} <= set(sparql.messages), f"{shape.id} needs zh and en messages"
            assert "$this" in sparql.select.split("WHERE")[0], f"{shape.id} projects $this"


def test_every_class_with_instances_is_the_target_of_a_shape(default_store: ox.Store) -> None:
    targeted = {t.term for s in shipped_shapes().targeted for t in s.targets if t.kind == "class"}
    prefixes = {
        "yb": "https://w3id.org/yibao-kg/ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    }
    used = [
        row["c"]
        for row in default_store.query(
            "SELECT DISTINCT ?c WHERE { ?x a ?c . FILTER STRSTARTS(STR(?c), STR(yb:)) }",
            prefixes=prefixes,
            use_default_graph_as_union=True,
        )
    ]
    uncovered = [
        c.value
        for c in used
        if not any(
            default_store.query(
                f"ASK {{ {c} rdfs:subClassOf* {t} }}",
                prefixes=prefixes,
                use_default_graph_as_union=True,
            )
            for t in targeted
        )
    ]
    assert uncovered == []


def test_a_shape_using_unimplemented_shacl_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ; sh:closed true .\n",
        encoding="utf-8",
    )
    with pytest.raises(ShapeError, match="sh:closed"):
        read_shapes([bad])


def test_generated_queries_bind_focus_nodes_and_say_where_they_come_from() -> None:
    check = next(
        c
        for c in compile_shapes(shipped_shapes())
        if c.shape.id == "ybsh:Institution-code" and c.component == "PatternConstraintComponent"
    )
    node = ox.NamedNode("https://w3id.org/yibao-kg/id/institution/x")
    query = render(check.query, check.owner, [node])
    assert query.startswith("# Generated from ybsh:Institution-code")
    assert f"VALUES ?this {{ {node} }}" in query
    assert "^[HP][0-9]{11}$" in query


def test_large_target_sets_get_scanning_forms(tmp_path: Path) -> None:
    """A check over many targets scans its path in a nested SELECT; a repetition is not."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix ybsh: <https://w3id.org/yibao-kg/shapes#> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
    sh:property [ sh:path ex:p ; sh:maxCount 1 ] ,
        [ sh:path [ sh:zeroOrMorePath ex:q ] ; sh:maxCount 1 ] ;
    sh:sparql [ sh:select "SELECT $this WHERE { $this ex:p 1 }" ;
                ybsh:scanSelect "SELECT $this WHERE { { SELECT $this WHERE { $this ex:p 1 } } }" ] .
""",
        encoding="utf-8",
    )
    checks = compile_shapes(read_shapes([shapes]))
    sparql = next(c for c in checks if c.sparql is not None)
    simple, repeated = sorted(
        (c for c in checks if c.sparql is None), key=lambda c: c.shape.path.kind != "iri"
    )
    assert "{ SELECT ?this WHERE { ?this <http://example.org/p> ?value }" in simple.query
    assert simple.narrow_query is not None and "{ SELECT" not in simple.narrow_query
    assert repeated.narrow_query is None  # (one form: a q* path is not scanned whole)
    assert sparql.query.count("SELECT $this") == 2 and sparql.narrow_query is not None
    assert sparql.narrow_query.count("SELECT $this") == 1


def test_messages_put_values_in_their_place() -> None:
    bindings = {
        "count": ox.Literal("4"),
        "rule": ox.NamedNode("https://w3id.org/yibao-kg/id/rule/r1"),
    }
    assert fill("{?count} > 3 ({?rule}, {$missing})", bindings) == "4 > 3 (r1, …)"


# ------------------------------------------------------------------ the default graph


def test_the_default_graph_conforms(default_store: ox.Store) -> None:
    report = validate_store(default_store)
    assert report.conforms, report.summary()
    assert report.results == []


def test_the_build_recorded_no_violations(build_report: dict[str, object]) -> None:
    assert build_report["violations"] == 0


def test_a_region_run_and_a_focus_run_are_narrowed(default_store_dir: Path) -> None:
    result = run_cli(
        "validate", "--store", str(default_store_dir), "--region", "佛山", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["conforms"] and data["scope"].startswith("region 440600")
    result = run_cli(
        "validate",
        "--store",
        str(default_store_dir),
        "--focus",
        "nat-ratio-reduction-cap-other-temporary",
    )
    assert result.returncode == 0, result.stderr
    assert "focus nat-ratio-reduction-cap-other-temporary" in result.stdout


def test_a_focus_takes_the_id_of_a_filing(default_store_dir: Path) -> None:
    """Any node's id (dcterms:identifier) names it, not only a rule's or an institution's."""
    filing = SHAPES / "invalid" / "FilingInstitutionLimit-four-chosen.csv"
    result = run_cli(
        "validate",
        *("--store", str(default_store_dir), "--data", str(SUPPORT), "--data", str(filing)),
        *("--focus", "shapes-f-limit", "--format", "json"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    results = json.loads(result.stdout)["results"]
    assert [(r["rule"], r["focus_code"]) for r in results] == [
        ("ybsh:FilingInstitutionLimit", "shapes-f-limit")
    ]


@pytest.mark.parametrize(
    ("rule", "other"),
    [("shapes-mm-ratio-a", "shapes-mm-ratio-b"), ("shapes-mm-ratio-b", "shapes-mm-ratio-a")],
)
def test_a_focus_on_either_rule_of_a_conflict_finds_it(
    default_store_dir: Path, rule: str, other: str
) -> None:
    """A conflict is reported on each of its two rules, whichever id sorts first."""
    conflict = SHAPES / "invalid" / "NoConflict-two-ratios.yaml"
    result = run_cli(
        "validate",
        *("--store", str(default_store_dir), "--data", str(conflict)),
        *("--focus", rule, "--format", "json"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    found = [
        (r["rule"], r["focus_code"], r["value_code"]) for r in json.loads(result.stdout)["results"]
    ]
    assert found == [("ybsh:NoConflict", rule, other)]


@pytest.mark.parametrize(
    "node", ["https://w3id.org/yibao-kg/id/rule/no-such-rule", "<https://example.org/x>"]
)
def test_a_focus_on_a_node_the_graph_lacks_exits_2(default_store_dir: Path, node: str) -> None:
    result = run_cli("validate", "--store", str(default_store_dir), "--focus", node)
    assert result.returncode == 2, result.stdout
    assert f"unknown node '{node}'" in result.stderr and "Traceback" not in result.stderr
    assert "conforms" not in result.stdout


# ------------------------------------------------------------------ fixtures


def test_every_invalid_fixture_has_a_valid_twin_and_an_expectation() -> None:
    assert INVALID == VALID
    assert set(INVALID) == set(EXPECTED)


@dataclass
class FixtureRun:
    """All fixtures of invalid/ (or valid/) read into one snapshot and validated once."""

    report: Report  # what the fixtures' nodes touch (as `yibao validate --data`)
    own: dict[str, set[Term]]  # the nodes each fixture defines (subjects of its graphs)
    ours: set[tuple[str, ...]]  # the Oxigraph engine on the fixtures' nodes
    reference: set[tuple[str, ...]]  # pySHACL on the same nodes


@pytest.fixture(scope="module")
def fixture_runs(default_store_dir: Path) -> dict[str, FixtureRun]:
    runs = {}
    for kind, names in (("invalid", INVALID), ("valid", VALID)):
        with extra.snapshot(default_store_dir) as snap:
            touched = extra.add_files(snap.db, [SUPPORT])
            own: dict[str, set[Term]] = {}
            for name in names:
                before = set(snap.db.named_graphs())
                touched |= extra.add_files(snap.db, [SHAPES / kind / name])
                graphs = set(snap.db.named_graphs()) - before
                own[name] = {
                    q.subject
                    for g in graphs
                    for q in snap.db.quads_for_pattern(None, None, None, g)
                }
            runs[kind] = FixtureRun(
                report=validate_store(snap.db, touching=touched),
                own=own,
                ours=keys(OxigraphEngine().run(snap.db, focus=touched)),
                reference=keys(PyshaclEngine().run(snap.db, focus=touched)),
            )
    return runs


@pytest.mark.parametrize("name", INVALID)
def test_an_invalid_fixture_breaks_exactly_its_rule(
    fixture_runs: dict[str, FixtureRun], name: str
) -> None:
    expected = EXPECTED[name]
    run = fixture_runs["invalid"]
    results = [r for r in run.report.results if r.focus in run.own[name]]
    rules = {short_name(r.shape) for r in results}
    assert rules == {expected["rule"]}, render_text(Report(results, "oxigraph"), {}, "en")
    assert len(results) == expected["count"]
    for lang, words in expected["message"].items():
        assert any(words in r.message.get(lang, "") for r in results), (lang, words)


def test_the_invalid_fixtures_break_nothing_else(fixture_runs: dict[str, FixtureRun]) -> None:
    """Read together, the fixtures give the sum of their results: none comes from another."""
    report = fixture_runs["invalid"].report
    assert not report.conforms
    assert len(report.results) == sum(e["count"] for e in EXPECTED.values())


def test_the_valid_twins_break_nothing(fixture_runs: dict[str, FixtureRun]) -> None:
    report = fixture_runs["valid"].report
    assert report.results == [], render_text(report, {}, "en")


def test_a_single_missing_material_is_not_offered_as_a_choice(
    fixture_runs: dict[str, FixtureRun],
) -> None:
    run = fixture_runs["invalid"]
    own = run.own["FilingMaterials-missing-referral-certificate.csv"]
    results = [r for r in run.report.results if r.focus in own]
    assert results
    for r in results:
        assert "任选其一" not in r.message["zh"] and "any one" not in r.message["en"], r.message


@pytest.mark.parametrize("kind", ["invalid", "valid"])
def test_both_engines_find_the_same_on_the_fixtures(
    fixture_runs: dict[str, FixtureRun], kind: str
) -> None:
    run = fixture_runs[kind]
    assert run.ours == run.reference
    total = sum(e["count"] for e in EXPECTED.values()) if kind == "invalid" else 0
    assert len(run.ours) == total


# ------------------------------------------------------------------ extra data


def test_a_shipped_file_given_again_replaces_its_graph(snapshot: extra.Snapshot) -> None:
    from kg import resources

    path = resources.data_dir() / "rules" / "foshan-440600.yaml"
    before = len(snapshot.db)
    touched = extra.add_files(snapshot.db, [path])
    assert len(snapshot.db) == before  # the same triples, not twice
    assert validate_store(snapshot.db, touching=touched).conforms


def test_new_data_may_not_redefine_an_id_of_the_store(
    snapshot: extra.Snapshot, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.yaml"
    rules = (SHAPES / "valid" / "NoConflict-two-ratios.yaml").read_text(encoding="utf-8")
    copy.write_text(rules.replace("shapes-mm-ratio-a", "nat-cp-filing-required"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        extra.add_files(snapshot.db, [copy])
    assert "copy.yaml" in str(err.value) and "already used" in str(err.value)


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("broken-literal.ttl", "broken-literal.ttl:5"),
        ("missing-field.csv", "missing-field.csv:3"),
        ("unclosed-list.yaml", "unclosed-list.yaml:5"),
        ("not-utf8.csv", "not-utf8.csv:2: not UTF-8 text"),
        ("not-utf8.yaml", "not-utf8.yaml:2: not UTF-8 text"),
        # the line where the record with the unclosed quote starts, not where it ends
        ("unclosed-quote.csv", "unclosed-quote.csv:3: expected 3 fields, found 2 (a quoted"),
        ("empty.yaml", "empty.yaml:1: empty YAML file"),
    ],
)
def test_malformed_data_exits_2_naming_file_and_line(
    default_store_dir: Path, name: str, where: str
) -> None:
    result = run_cli(
        "validate", "--store", str(default_store_dir), "--data", str(SHAPES / "malformed" / name)
    )
    assert result.returncode == 2
    assert where in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("name", ["broken-literal.ttl", "missing-field.csv", "unclosed-list.yaml"])
def test_an_error_names_the_file_as_given(default_store_dir: Path, name: str) -> None:
    """Turtle, CSV and YAML errors alike: the path as on the command line, not made absolute."""
    result = subprocess.run(
        [sys.executable, "-m", "kg", "validate", "--store", str(default_store_dir), "--data", name],
        capture_output=True,
        text=True,
        cwd=SHAPES / "malformed",
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error / 错误: {name}:"), result.stderr


def test_a_json_run_that_fails_says_so_in_json(default_store_dir: Path) -> None:
    """--format json: an error (exit 2) is a JSON object on stdout, and text on stderr."""
    broken = SHAPES / "malformed" / "broken-literal.ttl"
    result = run_cli(
        "validate", "--store", str(default_store_dir), "--data", str(broken), "--format", "json"
    )
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["format_version"] == 1 and data["conforms"] is None
    assert data["error"]["path"] == str(broken) and data["error"]["line"] == 5
    assert "broken-literal.ttl:5" in result.stderr


def test_rows_the_readers_skip_are_listed_as_warnings(
    default_store_dir: Path, tmp_path: Path
) -> None:
    """A row no region places is skipped, as in a build, and said so: never dropped silently."""
    rows = tmp_path / "unplaced.csv"
    rows.write_text(
        "id,name,level,region_code,address\nshapes-nowhere,测试：无处安放的医院,,,火星大道1号\n",
        encoding="utf-8",
    )
    result = run_cli("validate", "--store", str(default_store_dir), "--data", str(rows))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("conforms")
    assert "skipped rows / 跳过的行: 1" in result.stderr
    assert f"{rows}:2: '测试：无处安放的医院': no region code" in result.stderr


def test_the_snapshot_is_removed(default_store_dir: Path) -> None:
    with extra.snapshot(default_store_dir) as snap:
        assert snap.path.exists()
    assert not snap.path.exists()
    assert not list(default_store_dir.glob(".validate-*"))


# ------------------------------------------------------------------ command line and formats


def test_cli_reports_invalid_data_in_words_and_exits_1(default_store_dir: Path) -> None:
    fixture = SHAPES / "invalid" / "FilingInstitutionLimit-four-chosen.csv"
    result = run_cli(
        "validate",
        "--store",
        str(default_store_dir),
        "--data",
        str(SUPPORT),
        "--data",
        str(fixture),
    )
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "ybsh:FilingInstitutionLimit" in out
    assert (
        "选定了 4 家医疗机构，超过参保地规则 foshan-go-long-term-institution-limit 允许的 3 家"
        in out
    )
    assert "4 institutions chosen, more than the 3 allowed" in out
    assert "shapes-f-limit" in out and "ConstraintComponent" not in out


def test_new_data_is_seen_by_worker_processes(default_store_dir: Path) -> None:
    """A --data run in workers (as on a national store) finds what one process finds."""
    fixture = SHAPES / "invalid" / "FilingInstitutionLimit-four-chosen.csv"
    args = ["validate", "--store", str(default_store_dir), "--data", str(SUPPORT)]
    args += ["--data", str(fixture), "--format", "json"]
    one, two = run_cli(*args, "--jobs", "1"), run_cli(*args, "--jobs", "2")
    assert one.returncode == two.returncode == 1, two.stderr
    found = [json.loads(r.stdout)["results"] for r in (one, two)]
    assert found[0] == found[1] and len(found[0]) == 1


def test_cli_default_store_conforms(default_store_dir: Path) -> None:
    result = run_cli("validate", "--store", str(default_store_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("conforms")


def test_json_and_turtle_reports(default_store_dir: Path) -> None:
    fixture = SHAPES / "invalid" / "Institution-region-does-not-exist.csv"
    args = ["validate", "--store", str(default_store_dir), "--data", str(fixture)]
    data = json.loads(run_cli(*args, "--format", "json").stdout)
    assert data["format_version"] == 1 and data["conforms"] is False
    assert data["counts"] == {"violation": 1, "warning": 0, "info": 0}
    (result,) = data["results"]
    assert result["rule"] == "ybsh:Institution-region"
    assert result["component"] == "ClassConstraintComponent"
    assert result["focus_label"] == {"zh": "测试：区划代码不存在的医院"}
    assert result["value"] == {"type": "uri", "value": "https://w3id.org/yibao-kg/id/region/999999"}
    assert result["path"] == "yb:region" and result["message"]["en"].startswith("needs exactly")

    import rdflib
    from rdflib.namespace import SH

    turtle = run_cli(*args, "--format", "turtle")
    assert turtle.returncode == 1
    graph = rdflib.Graph().parse(data=turtle.stdout, format="turtle")
    (report,) = graph.subjects(rdflib.RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms) == rdflib.Literal(False)
    (node,) = graph.objects(report, SH.result)
    assert graph.value(node, SH.sourceShape) == rdflib.URIRef(SHAPES_NS + "Institution-region")
    assert graph.value(node, SH.value) == rdflib.URIRef(
        "https://w3id.org/yibao-kg/id/region/999999"
    )
    # piped, a table is not cut to the terminal's width, and its messages speak both languages
    table = run_cli(*args, "--format", "table", columns="80")
    assert table.returncode == 1 and "ybsh:Institution-region" in table.stdout
    assert "…" not in table.stdout
    assert "须有且仅有一个所在区划，且该区划须存在于区划代码表中" in table.stdout
    assert "needs exactly one region, and that region must exist in the region table" in (
        table.stdout
    )


def test_the_reference_engine_from_the_command_line(tmp_path: Path) -> None:
    from kg import resources

    data = tmp_path / "data"
    (data / "regions").mkdir(parents=True)
    (data / "regions" / "regions.csv").write_bytes(
        (resources.data_dir() / "regions" / "regions.csv").read_bytes()
    )
    store_dir = tmp_path / "store"
    build(store_dir, BuildOptions(data_dirs=[data], include_default=False, progress=False))
    fixture = SHAPES / "invalid" / "Institution-code-malformed.csv"
    outputs = {}
    for engine in ("oxigraph", "pyshacl"):
        result = run_cli(
            "validate",
            "--store",
            str(store_dir),
            "--data",
            str(fixture),
            "--engine",
            engine,
            "--format",
            "json",
        )
        assert result.returncode == 1, result.stderr
        outputs[engine] = {
            (r["rule"], r["focus"], r["component"]) for r in json.loads(result.stdout)["results"]
        }
    assert (
        outputs["oxigraph"]
        == outputs["pyshacl"]
        == {
            (
                "ybsh:Institution-code",
                "https://w3id.org/yibao-kg/id/institution/shapes-bad-code",
                "PatternConstraintComponent",
            )
        }
    )


# ------------------------------------------------------------------ the build gate


def test_the_gate_refuses_violations_and_records_them_when_allowed(
    snapshot: extra.Snapshot,
) -> None:
    extra.add_files(snapshot.db, [SHAPES / "invalid" / "Institution-region-does-not-exist.csv"])
    report = BuildReport()
    with pytest.raises(ValidationFailed) as err:
        gate(allow_invalid=False)(snapshot.db, report)
    assert err.value.exit_code == 1
    assert "ybsh:Institution-region" in str(err.value) and "not published" in str(err.value)
    allowed = BuildReport()
    gate(allow_invalid=True)(snapshot.db, allowed)
    assert allowed.violations == 1 and allowed.as_dict()["violations"] == 1


def test_a_build_with_violations_is_not_published(tmp_path: Path) -> None:
    from kg import resources

    data = tmp_path / "data"
    data.mkdir()
    fixture = SHAPES / "invalid" / "Institution-region-does-not-exist.csv"
    (data / fixture.name).write_bytes(fixture.read_bytes())
    (data / "regions.csv").write_bytes(
        (resources.data_dir() / "regions" / "regions.csv").read_bytes()
    )
    store_dir = tmp_path / "store"
    options = BuildOptions(data_dirs=[data], include_default=False, progress=False)
    with pytest.raises(ValidationFailed):
        build(store_dir, options, validator=gate(False))
    assert not (store_dir / "current").exists()
    options.allow_invalid = True
    _, report = build(store_dir, options, validator=gate(True))
    assert report.violations == 1 and (store_dir / "current").exists()


def test_a_refused_build_names_the_file_and_the_command_that_reports_it(
    tmp_path: Path,
) -> None:
    """A rule without sources: in a build's --data folder is refused (exit 1, not a reading
    error); the message names its file and a `yibao validate` that finds it again."""
    from kg import resources

    regions, new = tmp_path / "regions", tmp_path / "new"
    regions.mkdir()
    new.mkdir()
    (regions / "regions.csv").write_bytes(
        (resources.data_dir() / "regions" / "regions.csv").read_bytes()
    )
    fixture = SHAPES / "invalid" / "sourced-yaml-rule-without-sources.yaml"
    (new / "rules.yaml").write_bytes(fixture.read_bytes())
    store_dir = tmp_path / "store"
    base = ["build", "--store", str(store_dir), "--no-default-data", "--data", str(regions)]
    assert run_cli(*base).returncode == 0
    refused = run_cli(*base, "--data", str(new))
    assert refused.returncode == 1, refused.stderr
    assert f"ybsh:sourced 出处 / source — {new / 'rules.yaml'}" in refused.stderr
    command = f"yibao validate --store {store_dir} --data {regions} --data {new}"
    assert f"full report / 完整报告: {command}" in refused.stderr
    again = run_cli(*command.split()[1:], "--format", "json")
    assert again.returncode == 1, again.stderr
    (result,) = json.loads(again.stdout)["results"]
    assert result["rule"] == "ybsh:sourced" and result["graph"] == "new/rules.yaml"


def test_the_report_renders_offline(snapshot: extra.Snapshot) -> None:
    touched = extra.add_files(
        snapshot.db, [SHAPES / "invalid" / "RatioWithinUnitInterval-above-one.yaml"]
    )
    report = validate_store(snapshot.db, touching=touched)
    assert json.loads(render_json(report, {}))["counts"]["violation"] == 1
    assert len(list(report_graph(report))) > 5


# ------------------------------------------------------------------ a generated data set

# The rule (source shape) that finds each kind of violation `yibao generate` plants.
PLANTED_RULES = {
    "filing-too-many-institutions": "ybsh:FilingInstitutionLimit",
    "filing-too-few-primary-level": "ybsh:FilingPrimaryLevelMinimum",
    "filing-temporary-validity-too-short": "ybsh:FilingValidityMinimum",
    "filing-missing-material": "ybsh:FilingMaterials",
    "networked-service-outside-designation": "ybsh:NetworkedService",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[ox.Store, dict[str, Any]]:
    """1,000 generated institutions (and 100 filings) built with the default data.

    (seed 4 plants every kind of violation at least once)
    """
    from kg import store
    from kg.generate import PLANTED_KINDS, Plan, generate

    assert set(PLANTED_KINDS) == set(PLANTED_RULES)
    root = tmp_path_factory.mktemp("generated")
    manifest = generate(root / "data", Plan(institutions=1000, regions=6, seed=4, filings=100))
    options = BuildOptions(data_dirs=[root / "data"], validate=False, progress=False)
    build(root / "store", options)
    return store.open_store(root / "store"), manifest


def test_the_planted_violations_are_found_and_nothing_else(
    generated: tuple[ox.Store, dict[str, Any]],
) -> None:
    db, manifest = generated
    found = Counter(short_name(r.shape) for r in OxigraphEngine().run(db))
    expected = Counter({PLANTED_RULES[kind]: n for kind, n in manifest["planted"].items() if n})
    assert all(manifest["planted"].values()), "every kind is planted at least once"
    assert found == expected


def test_both_engines_find_the_same_on_a_generated_set(
    generated: tuple[ox.Store, dict[str, Any]],
) -> None:
    """pySHACL on the whole graph: the default data and the generated set."""
    db, _ = generated
    ours = OxigraphEngine().run(db)
    reference = PyshaclEngine().run(db)
    assert len(ours) == len(keys(ours)) > 0
    assert keys(ours) == keys(reference)
    # every target set treated as large: the checks scan their paths whole (as at 650,000)
    assert keys(OxigraphEngine(inline_targets=0).run(db)) == keys(reference)


def test_scanned_and_node_by_node_checks_agree_on_every_rule(default_store_dir: Path) -> None:
    """The two forms of each Core check, over a graph breaking every rule (the fixtures)."""
    with extra.snapshot(default_store_dir) as snap:
        extra.add_files(snap.db, [SUPPORT, *(SHAPES / "invalid" / n for n in INVALID)])
        scanned = OxigraphEngine(inline_targets=0).run(snap.db)
        joined = OxigraphEngine(inline_targets=10**9).run(snap.db)
    assert len(scanned) >= sum(e["count"] for e in EXPECTED.values())
    assert keys(scanned) == keys(joined)


def test_a_region_run_finds_what_the_whole_run_finds_on_its_nodes(
    generated: tuple[ox.Store, dict[str, Any]],
) -> None:
    """Every generated region: narrowed checks (focus nodes bound in every nested SELECT)."""
    from kg import lookup
    from kg.validate import scope

    db, manifest = generated
    whole = OxigraphEngine().run(db)
    found: Counter[str] = Counter()
    for code in manifest["regions"]:
        nodes = scope.region_nodes(db, lookup.region(db, code).node)
        narrowed = OxigraphEngine().run(db, focus=nodes)
        assert keys(narrowed) == {r.key() for r in whole if r.focus in nodes}, code
        found.update(short_name(r.shape) for r in narrowed)
    # the filings are insured in the generated regions: each planted kind shows in a region run
    assert {PLANTED_RULES[k] for k in manifest["planted"] if k.startswith("filing")} <= set(found)


def test_focus_nodes_are_bound_in_every_select_projecting_this() -> None:
    from kg.validate.compile import bind_focus

    query = (
        "SELECT $this ?value WHERE { $this a ?c .\n"
        "  { SELECT $this (COUNT(*) AS ?n) WHERE { $this ?p ?o } GROUP BY $this }\n"
        "  { SELECT ?rule ?id WHERE { ?rule <urn:id> ?id } } }"
    )
    bound = bind_focus(query, [ox.NamedNode("urn:a"), ox.NamedNode("urn:b")])
    # ?this and $this name the same variable in SPARQL
    assert bound.count("VALUES ?this { <urn:a> <urn:b> }") == 2
    assert "WHERE { ?rule <urn:id> ?id }" in bound.replace("\n", "")


def test_focus_targets_follow_each_kind_of_target(tmp_path: Path) -> None:
    from kg.validate.engine import focus_targets

    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <urn:ex:> .\n"
        "ex:byClass a sh:NodeShape ; sh:targetClass ex:C ; sh:nodeKind sh:IRI .\n"
        "ex:bySubject a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:nodeKind sh:IRI .\n"
        "ex:byObject a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:nodeKind sh:IRI .\n"
        "ex:byNode a sh:NodeShape ; sh:targetNode ex:n ; sh:nodeKind sh:IRI .\n",
        encoding="utf-8",
    )
    db = ox.Store()
    db.load(
        b"@prefix ex: <urn:ex:> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        b'ex:D rdfs:subClassOf ex:C . ex:a a ex:D . ex:z a ex:E . ex:b ex:p ex:c , "lit" .\n',
        format=ox.RdfFormat.TURTLE,
        to_graph=ox.NamedNode("urn:graph"),
    )
    ex = "urn:ex:"
    lit = ox.Literal("lit")
    focus = {ox.NamedNode(ex + n) for n in ("a", "b", "c", "n", "z")} | {lit}
    targets = focus_targets(db, compile_shapes(read_shapes([shapes])), focus)
    assert targets == {
        ox.NamedNode(ex + "byClass"): {ox.NamedNode(ex + "a")},
        ox.NamedNode(ex + "bySubject"): {ox.NamedNode(ex + "b")},
        ox.NamedNode(ex + "byObject"): {ox.NamedNode(ex + "c"), lit},
        ox.NamedNode(ex + "byNode"): {ox.NamedNode(ex + "n")},
    }


def test_the_filing_shapes_resolve_their_rule_with_the_same_subquery() -> None:
    """The four copies of the rule-resolving subquery differ only in the rule kind."""
    shapes = shipped_shapes()
    blocks = {}
    for name in (
        "FilingInstitutionLimit",
        "FilingPrimaryLevelMinimum",
        "FilingValidityMinimum",
        "FilingMaterials",
    ):
        (sparql,) = shapes.shapes[ox.NamedNode(SHAPES_NS + name)].sparql
        text = sparql.select
        start = text.index("  {\n    SELECT $this (MAX(?candidate) AS ?best)")
        end = text.index("  FILTER (BOUND(?best))")
        blocks[name] = re.sub(r'skos:notation "[a-z-]+"', "KIND", text[start:end])
    assert len(set(blocks.values())) == 1, sorted(blocks)
