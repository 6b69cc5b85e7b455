"""Named queries, `yibao query`, `yibao sparql` and the result writers."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import query, results, store
from kg.build import BuildOptions, build
from kg.errors import InputError, LookupFailed, QueryError
from kg.vocab import PREFIXES

FIXTURES = Path(__file__).parent / "fixtures" / "query"
YIBAO = [sys.executable, "-m", "kg"]


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*YIBAO, *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
        env={**os.environ, "YIBAO_STORE": ""},
        cwd="/",
    )


_BUILT: dict[str, Path] = {}


def build_fixture_store(factory: pytest.TempPathFactory) -> Path:
    """The default data plus tests/fixtures/query/data (networked hospitals, test catalogs,
    precedence rules), built once per session (tests/test_resolve.py uses it too)."""
    if "root" not in _BUILT:
        root = factory.mktemp("query-fixture-store")
        build(root, BuildOptions(data_dirs=[FIXTURES / "data"], progress=False))
        _BUILT["root"] = root
    return _BUILT["root"]


@pytest.fixture(scope="session")
def fixture_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_store(tmp_path_factory)


@pytest.fixture(scope="session")
def fixture_store(fixture_store_dir: Path) -> ox.Store:
    return store.open_store(fixture_store_dir)


def rows(db: ox.Store, query_name: str, /, **params: object) -> list[dict[str, object]]:
    _, found = query.solutions(query.run_named(db, query_name, params))
    return [{k: query.value_of(v) for k, v in r.items()} for r in found]


# ------------------------------------------------------------------ the catalogue

VARIABLE = re.compile(r"[?$]([A-Za-z_][A-Za-z0-9_]*)")


def _body(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize("name", sorted(query.catalogue()))
def test_every_query_declares_what_it_uses_and_parses(name: str) -> None:
    q = query.get(name)
    assert set(q.summary) == {"zh", "en"} and all(q.summary.values()), f"{name}: {q.summary}"
    body = _body(q.text)
    used = set(VARIABLE.findall(body))
    select = re.search(r"SELECT(.*?)WHERE", body, re.S | re.I)
    projected = set(VARIABLE.findall(select.group(1))) if select else set()
    for p in q.params:
        assert p.name in used, f"{name}: parameter {p.name} is never used"
        if select:  # Oxigraph substitutes only projected variables
            assert p.name in projected, f"{name}: parameter {p.name} is not projected"
    returned = [str(r) for r in q.returns]
    if select and len(returned) > 1 and all(len(r) > 1 for r in returned):  # named columns
        assert set(returned) <= projected, f"{name}: returns {set(returned) - projected}"
    # parses and runs on an empty store (every parameter unbound)
    ox.Store().query(q.text, prefixes=PREFIXES)


def test_every_query_is_documented() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "queries.md").read_text(encoding="utf-8")
    for name in query.catalogue():
        if not name.startswith("export_"):  # documented in docs/export.md
            assert f"`{name}`" in doc, name


def test_query_list_shows_every_query_with_its_parameters() -> None:
    out = run_cli("query", "--list", "--lang", "en")
    assert out.returncode == 0, out.stderr
    for name, q in query.catalogue().items():
        assert f"{name} — {q.summary['en']}" in out.stdout
    assert "--param filing_type (concept:filing-type, required)" in out.stdout


# ------------------------------------------------------------------ the questions


def test_institutions_in_a_region_with_filters(fixture_store: ox.Store) -> None:
    xiantao = rows(fixture_store, "institutions_in_region", region="仙桃市")
    assert {r["id"] for r in xiantao} >= {"seed-008", "seed-009", "seed-014"}
    assert {r["pooling_code"] for r in xiantao} == {"429004"}
    level3 = rows(fixture_store, "institutions_in_region", region="仙桃市", level="3")
    assert level3 and {r["level_notation"] for r in level3} == {"3"}
    primary = rows(fixture_store, "institutions_in_region", region="110105", primary_level="true")
    assert [r["id"] for r in primary] == ["fx-h3"]
    networked = rows(
        fixture_store,
        "institutions_in_region",
        region="北京",
        networked="inpatient",
        date="2025-03-01",
    )
    assert [r["id"] for r in networked] == ["fx-h1"]
    assert networked[0]["networked_services"] == "inpatient"


def test_whether_an_institution_settles_a_service_directly(fixture_store: ox.Store) -> None:
    found = rows(
        fixture_store, "institution_settles_directly", institution="fx-h1", date="2025-03-01"
    )
    by_service = {r["service_notation"]: r["settles"] for r in found}
    assert by_service == {"inpatient": True, "general-outpatient": False}
    assert (
        rows(fixture_store, "institution_settles_directly", institution="fx-h3", date="2025-03-01")
        == []
    )


def test_materials_for_a_filing_type(default_store: ox.Store) -> None:
    found = rows(
        default_store, "filing_materials", filing_type="referral", date="2025-06-01", insured="佛山"
    )
    by_rule: dict[object, set[object]] = {}
    for r in found:
        by_rule.setdefault(r["id"], set()).add(r["material"])
    assert by_rule == {
        "foshan-materials-referral": {"identity", "filing-form", "referral-certificate"},
        "nat-materials-referral": {"identity", "filing-form", "referral-certificate"},
    }
    alternatives = rows(
        default_store, "filing_materials", filing_type="long-term-resident", date="2025-06-01"
    )
    requirement = {r["material"]: r["requirement"] for r in alternatives}
    assert requirement["residence-proof"] == requirement["personal-commitment"]
    assert requirement["identity"] != requirement["residence-proof"]


def test_filing_validity(default_store: ox.Store) -> None:
    national = rows(
        default_store, "filing_validity", filing_type="retiree-relocated", date="2023-01-01"
    )
    assert {r["id"]: r["value"] for r in national}["nat-filing-validity-long-term"] == "long-term"
    qinghai = rows(
        default_store, "filing_validity", filing_type="referral", date="2023-01-01", insured="西宁"
    )
    values = {r["id"]: r["value"] for r in qinghai}
    assert values["qinghai-major-disease-referral-validity"] == "12"
    assert values["nat-filing-validity-temporary"] == "6"
    assert "disease=cancer" in next(
        r["conditions"] for r in qinghai if r["id"] == "qinghai-major-disease-referral-validity"
    )


def test_item_category_in_a_region_on_a_date(fixture_store: ox.Store) -> None:
    found = rows(fixture_store, "item_category", name="奥美拉唑", region="上海", date="2025-06-01")
    assert {(r["form"], r["category"]) for r in found} == {("口服常释剂型", "甲"), ("注射剂", "乙")}
    one = rows(
        fixture_store,
        "item_category",
        name="奥美拉唑",
        region="上海",
        date="2025-06-01",
        dosage_form="注射剂",
    )
    assert [r["category"] for r in one] == ["乙"]
    # the municipal catalog first (most specific), then the national one
    beijing = rows(
        fixture_store, "item_category", name="阿卡波糖", region="110105", date="2025-06-01"
    )
    assert [(r["catalog_id"], r["category"]) for r in beijing] == [
        ("fx-bj-2025", "乙"),
        ("nrdl-2024", "甲"),
    ]
    assert (
        rows(fixture_store, "item_category", name="阿卡波糖", region="上海", date="2026-06-01")
        == []
    )


def test_region_lookup_by_name_or_code(default_store: ox.Store) -> None:
    for text in ("佛山", "佛山市", "440600", "Foshan"):
        assert [r["code"] for r in rows(default_store, "region_lookup", text=text)] == ["440600"]
    chain = rows(default_store, "region_chain", region="禅城区")
    assert {r["code"] for r in chain} == {"440604", "440600", "440000", "100000"}


def test_rules_citing_a_document(default_store: ox.Store) -> None:
    found = rows(default_store, "rules_citing_document", document="seed-004")
    classes = {r["id"]: r["class"] for r in found}
    assert classes["foshan-go-long-term-institution-limit"] == "Rule"
    assert classes["shanghai-cp-inpatient-hospital-count"] == "Fact"
    assert all(r["quote"] for r in found)
    assert not any(r["id"].startswith("nat-cp-catalog") for r in found)


def test_a_document_is_named_by_id_number_or_compact_iri(default_store: ox.Store) -> None:
    by_id = {r["id"] for r in rows(default_store, "rules_citing_document", document="nhsa-2022-22")}
    assert "nat-cp-catalog-region" in by_id
    for name in ("医保发〔2022〕22号", "医保发[2022]22号", "id:document/nhsa-2022-22"):
        found = rows(default_store, "rules_citing_document", document=name)
        assert {r["id"] for r in found} == by_id
    with pytest.raises(LookupFailed, match="医保发〔2022〕22号"):
        rows(default_store, "rules_citing_document", document="医保发〔2022〕23号")


def test_iri_parameters_take_the_compact_iris_tables_print(default_store: ox.Store) -> None:
    assert query.run_named(
        default_store, "entity_exists", {"entity": "id:rule/foshan-dual-entitlement"}
    )
    sources = rows(default_store, "statement_sources", subject="id:rule/foshan-dual-entitlement")
    assert sources and all(r["document"] == "seed-004" for r in sources)


def test_rules_that_changed_between_two_dates(default_store: ox.Store) -> None:
    found = rows(
        default_store, "rules_changed_between", **{"from": "2022-06-01", "to": "2022-07-31"}
    )
    changes = {(r["id"], r["change"]) for r in found}
    assert ("nat-inpatient-selection-2016", "ended") in changes
    assert ("nat-inpatient-no-selection", "started") in changes
    assert not any(r["id"].startswith("foshan-") for r in found)
    foshan = rows(
        default_store,
        "rules_changed_between",
        **{"from": "2025-01-01", "to": "2025-06-01"},
        insured="佛山",
    )
    ids = {r["id"] for r in foshan}
    assert "foshan-go-long-term-institution-limit" in ids
    assert not any(i.startswith("zhuhai-") for i in ids)


def test_applicable_rules_match_narrower_values(default_store: ox.Store) -> None:
    found = rows(
        default_store,
        "applicable_rules",
        insured="佛山",
        date="2025-06-01",
        scope="cross-province",
        filing_type="other-temporary",
        service="inpatient",
    )
    ids = {r["id"] for r in found}
    # non-local admits cross-province; [other-temporary, none] admits other-temporary
    assert "foshan-inpatient-self-directed-cross-ratio-reduction" in ids
    assert "foshan-filing-channels" in ids
    assert "foshan-go-long-term-institution-limit" not in ids  # long-term, general outpatient
    assert "foshan-inpatient-self-directed-intra-no-filing" not in ids  # intra-province
    assert not any(i.startswith("zhuhai-") for i in ids)


# ------------------------------------------------------------------ parameters are terms


INJECTIONS = ['" } DROP ALL #', '佛山" . ?s ?p ?o . #', "440600' } ; DELETE WHERE { ?s ?p ?o } #"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_a_parameter_is_a_literal_never_query_text(default_store: ox.Store, text: str) -> None:
    before = len(default_store)
    assert rows(default_store, "region_lookup", text=text) == []
    assert len(default_store) == before


def test_an_injected_parameter_on_the_command_line_matches_nothing(default_store_dir: Path) -> None:
    out = run_cli(
        "query",
        "region_lookup",
        "--param",
        'text=" } DROP ALL #',
        "--format",
        "json",
        "--store",
        str(default_store_dir),
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["results"]["bindings"] == []
    again = run_cli("query", "region_lookup", "-p", "text=佛山", "--store", str(default_store_dir))
    assert "440600" in again.stdout


def test_an_invalid_iri_parameter_is_a_clear_error(default_store_dir: Path) -> None:
    out = run_cli(
        "query",
        "entity_exists",
        "--param",
        "entity=http://x> } DROP ALL {<",
        "--store",
        str(default_store_dir),
    )
    assert out.returncode == 2
    assert "not a valid iri" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_query_parameter_and_name_are_errors(default_store_dir: Path) -> None:
    out = run_cli("query", "region_lookp", "--store", str(default_store_dir))
    assert out.returncode == 2 and "region_lookup" in out.stderr
    out = run_cli("query", "region_lookup", "-p", "txt=佛山", "--store", str(default_store_dir))
    assert out.returncode == 2 and "no parameter txt" in out.stderr
    out = run_cli("query", "region_lookup", "--store", str(default_store_dir))
    assert out.returncode == 2 and "needs --param text" in out.stderr
    out = run_cli("query", "region_lookup", "-p", "佛山", "--store", str(default_store_dir))
    assert out.returncode == 2 and "KEY=VALUE" in out.stderr


# ------------------------------------------------------------------ raw SPARQL


def test_malformed_sparql_reports_line_and_column(default_store_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?s WHERE {\n  ?s a yb:Region .\n  FILTER ( \n}\n", encoding="utf-8")
    out = run_cli("sparql", str(bad), "--store", str(default_store_dir))
    assert out.returncode == 2
    found = re.search(rf"{re.escape(str(bad))}:(\d+):(\d+): SPARQL syntax error", out.stderr)
    assert found, out.stderr
    assert int(found.group(1)) in (4, 5)  # where the parser stopped: the unclosed FILTER
    assert "Traceback" not in out.stderr
    out = run_cli(
        "sparql", "-", "--store", str(default_store_dir), stdin="SELECT * WHERE { ?s ?p }"
    )
    assert out.returncode == 2 and "<stdin>:1:" in out.stderr


def test_sparql_input_that_is_no_query(default_store_dir: Path) -> None:
    """Bytes that are not UTF-8, an empty text, comments only: exit 2, no traceback."""
    store_args = ("--store", str(default_store_dir))
    latin = subprocess.run(
        [*YIBAO, "sparql", "-", *store_args],
        input="SELECT ?s WHERE { ?s ?p 'é' }".encode("latin-1"),
        capture_output=True,
        timeout=300,
    )
    assert latin.returncode == 2 and b"<stdin>: not UTF-8 text" in latin.stderr
    empty = run_cli("sparql", "-", *store_args, stdin="  \n")
    assert empty.returncode == 2 and "no query" in empty.stderr
    comments = run_cli("sparql", "-", *store_args, stdin="# what is here?\n")
    assert comments.returncode == 2 and "SPARQL syntax error" in comments.stderr
    assert "read-only" not in comments.stderr  # comments alone are no update
    for out in (empty, comments):
        assert "Traceback" not in out.stderr
    assert b"Traceback" not in latin.stderr


def test_a_service_that_cannot_be_reached_is_a_query_error(default_store_dir: Path) -> None:
    """SERVICE is evaluated while results are written; its failure is no traceback."""
    text = "SELECT * WHERE { SERVICE <http://service.invalid/sparql> { ?s ?p ?o } }"
    out = run_cli("sparql", "-", "--store", str(default_store_dir), stdin=text)
    assert out.returncode == 2 and "query failed" in out.stderr
    assert "Traceback" not in out.stderr


def test_updates_are_refused(default_store_dir: Path) -> None:
    db = store.open_store(default_store_dir)
    before = len(db)
    for update in ("DROP ALL", "INSERT DATA { yb:x yb:y yb:z }", "DELETE WHERE { ?s ?p ?o }"):
        out = run_cli("sparql", "-", "--store", str(default_store_dir), stdin=update)
        assert out.returncode == 2, update
        assert "read-only" in out.stderr and "Traceback" not in out.stderr
    with pytest.raises(RuntimeError):
        db.update("DROP ALL")
    assert len(store.open_store(default_store_dir)) == before


def test_sparql_from_a_file_with_predeclared_prefixes(
    default_store_dir: Path, tmp_path: Path
) -> None:
    q = tmp_path / "regions.rq"
    q.write_text('SELECT ?code WHERE { ?r yb:regionCode ?code ; rdfs:label "佛山市"@zh }')
    out = run_cli("sparql", str(q), "--format", "csv", "--store", str(default_store_dir))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["code", "440600"]


def test_a_query_error_in_python_is_an_input_error(default_store: ox.Store) -> None:
    with pytest.raises(InputError) as err:
        query.run(default_store, "SELECT * WHERE {\n ?s ?p }", source="x.rq")
    assert err.value.line == 2 and err.value.column is not None
    with pytest.raises(QueryError):
        query.run_named(default_store, "region_lookup", {})


# ------------------------------------------------------------------ writers

SELECT_REGIONS = """SELECT ?code ?name ?name_en ?pooling WHERE {
  VALUES ?code { "440600" "110000" "429004" }
  ?r yb:regionCode ?code ; rdfs:label ?name ; rdfs:label ?name_en .
  FILTER (LANG(?name) = "zh" && LANG(?name_en) = "en")
  BIND (EXISTS { ?r a yb:PoolingRegion } AS ?pooling)
} ORDER BY ?code"""


def _written(db: ox.Store, fmt: str, text: str = SELECT_REGIONS) -> bytes:
    out = io.BytesIO()
    results.write(query.run(db, text), fmt, out)
    return out.getvalue()


def _as_tuples(solutions: ox.QuerySolutions) -> list[tuple[object, ...]]:
    names = [v.value for v in solutions.variables]
    return [tuple(sol[n] for n in names) for sol in solutions]


def test_json_round_trips_through_the_sparql_results_parser(default_store: ox.Store) -> None:
    data = _written(default_store, "json")
    parsed = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
    assert _as_tuples(parsed) == _as_tuples(query.run(default_store, SELECT_REGIONS))
    doc = json.loads(data)
    assert doc["head"]["vars"] == ["code", "name", "name_en", "pooling"]
    assert doc["results"]["bindings"][0]["name"] == {
        "type": "literal",
        "value": "北京市",
        "xml:lang": "zh",
    }


def test_tsv_round_trips_and_csv_has_plain_values(default_store: ox.Store) -> None:
    tsv = _written(default_store, "tsv")
    parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    assert _as_tuples(parsed) == _as_tuples(query.run(default_store, SELECT_REGIONS))
    table = list(csv.reader(io.StringIO(_written(default_store, "csv").decode("utf-8"))))
    assert table[0] == ["code", "name", "name_en", "pooling"]
    assert table[1:] == [
        ["110000", "北京市", "Beijing", "true"],
        ["429004", "仙桃市", "Xiantao", "true"],
        ["440600", "佛山市", "Foshan", "true"],
    ]


def test_dropping_a_column_keeps_every_other_term(default_store: ox.Store) -> None:
    kept = results.without(query.run(default_store, SELECT_REGIONS), {"name_en"})
    assert [v.value for v in kept.variables] == ["code", "name", "pooling"]
    every = _as_tuples(query.run(default_store, SELECT_REGIONS))
    assert _as_tuples(kept) == [(code, name, pooling) for code, name, _, pooling in every]


def test_a_named_query_answers_without_echoing_its_parameters(default_store_dir: Path) -> None:
    out = run_cli(
        "query", "region_lookup", "-p", "text=佛山", "--format", "csv",
        "--store", str(default_store_dir),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    header, row = list(csv.reader(io.StringIO(out.stdout)))
    assert header == list(query.get("region_lookup").returns)
    assert row[header.index("code")] == "440600" and "佛山" not in row


def test_table_aligns_chinese_text_by_display_width(default_store: ox.Store) -> None:
    lines = _written(default_store, "table").decode("utf-8").splitlines()
    header, rule, *body, footer = lines
    assert footer.startswith("(3 rows")
    assert results.display_width("佛山市") == 6
    # every column starts at the same display column on every line
    starts = [m.start() for m in re.finditer(r"(?<=  )\S", rule)]
    for line in [header, *body]:
        for col in starts:
            prefix = line[: _index_at_width(line, col)]
            assert results.display_width(prefix) == col, (line, col)
            assert line[len(prefix) - 2 : len(prefix)] == "  "


def _index_at_width(line: str, width: int) -> int:
    total = 0
    for i, ch in enumerate(line):
        if total >= width:
            return i
        total += results.display_width(ch)
    return len(line)


def test_table_shortens_long_cells_and_shows_ask(default_store: ox.Store) -> None:
    text = "SELECT ?q WHERE { ?s yb:quote ?q } ORDER BY DESC(STRLEN(?q)) LIMIT 1"
    line = _written(default_store, "table", text).decode("utf-8").splitlines()[2]
    assert line.endswith("…") and results.display_width(line) <= results.MAX_CELL
    assert _written(default_store, "table", "ASK { ?s a yb:Region }") == b"true\n"
    assert (
        json.loads(_written(default_store, "json", "ASK { ?s a yb:Nothing }"))["boolean"] is False
    )


def test_construct_results_are_turtle(default_store: ox.Store) -> None:
    text = 'CONSTRUCT { ?r yb:regionCode ?c } WHERE { ?r yb:regionCode ?c FILTER (?c = "440600") }'
    data = _written(default_store, "json", text)
    triples = list(ox.parse(data, format=ox.RdfFormat.TURTLE))
    assert len(triples) == 1 and triples[0].object.value == "440600"
