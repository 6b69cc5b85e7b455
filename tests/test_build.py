"""The foundation: ontology, default data, `yibao build`, `yibao stats`, failed builds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg import resources, store
from kg.build import BuildOptions, build
from kg.sources import regions
from kg.sources.common import BuildReport, Context
from kg.sources.placement import Gazetteer
from kg.vocab import DCTERMS_NS, NS, YB, load_vocabulary

YIBAO = [sys.executable, "-m", "kg"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*YIBAO, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        cwd="/",
    )


# ------------------------------------------------------------------ ontology


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in resources.ontology_files():
        g.parse(path, format="turtle")
    return g


def test_ontology_is_versioned(ontology: rdflib.Graph) -> None:
    onto = next(ontology.subjects(RDF.type, OWL.Ontology))
    assert ontology.value(onto, OWL.versionIRI) is not None
    assert ontology.value(onto, OWL.versionInfo) is not None


@pytest.mark.parametrize(
    "kind",
    [OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property],
)
def test_every_class_and_property_has_zh_and_en_labels(
    ontology: rdflib.Graph, kind: rdflib.URIRef
) -> None:
    terms = set(ontology.subjects(RDF.type, kind))
    assert terms
    for term in terms:
        langs = {label.language for label in ontology.objects(term, RDFS.label)}
        assert {"zh", "en"} <= langs, f"{term} lacks a zh or en label: {langs}"


def test_every_concept_has_notation_scheme_and_both_labels(ontology: rdflib.Graph) -> None:
    concepts = set(ontology.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) > 100
    for c in concepts:
        langs = {label.language for label in ontology.objects(c, SKOS.prefLabel)}
        assert {"zh", "en"} <= langs, c
        assert ontology.value(c, SKOS.notation) is not None, c
        scheme = ontology.value(c, SKOS.inScheme)
        assert (scheme, RDF.type, SKOS.ConceptScheme) in ontology, c
    for scheme in ontology.subjects(RDF.type, SKOS.ConceptScheme):
        langs = {label.language for label in ontology.objects(scheme, SKOS.prefLabel)}
        assert {"zh", "en"} <= langs, scheme


def test_closed_namespace_matches_the_ontology(ontology: rdflib.Graph) -> None:
    declared = {str(s)[len(NS) :] for s in ontology.subjects() if str(s).startswith(NS)}
    assert set(YB.terms) == declared
    with pytest.raises(AttributeError):
        YB.Rul  # noqa: B018 - a misspelt term must fail


def test_filing_types_are_the_six_of_r5_in_two_classes(ontology: rdflib.Graph) -> None:
    ft = rdflib.Namespace("https://w3id.org/yibao-kg/vocab/filing-type/")
    classes = {
        str(ontology.value(t, SKOS.notation)): str(
            ontology.value(ontology.value(t, SKOS.broader), SKOS.notation)
        )
        for t in ontology.subjects(RDF.type, rdflib.URIRef(NS + "FilingType"))
        if ontology.value(t, SKOS.broader) is not None
    }
    assert classes == {
        "retiree-relocated": "long-term",
        "long-term-resident": "long-term",
        "stationed-worker": "long-term",
        "referral": "temporary",
        "emergency": "temporary",
        "other-temporary": "temporary",
    }
    assert (ft["none"], RDF.type, rdflib.URIRef(NS + "FilingType")) in ontology


# ------------------------------------------------------------------ counts


def count(db: ox.Store, sparql: str) -> int:
    rows = list(
        db.query(
            sparql,
            use_default_graph_as_union=True,
            prefixes={"yb": NS, "skos": str(SKOS), "rdfs": str(RDFS), "dcterms": DCTERMS_NS},
        )
    )
    return int(rows[0][0].value)


def test_build_counts_match_the_sources(default_store: ox.Store) -> None:
    assert count(default_store, "SELECT (COUNT(?p) AS ?n) { ?p a yb:Province }") == 31
    assert count(default_store, "SELECT (COUNT(?p) AS ?n) { ?p a yb:Prefecture }") >= 330
    drugs = "SELECT (COUNT(DISTINCT ?no) AS ?n) { ?i a yb:CatalogItem ; yb:catalogNumber ?no }"
    assert count(default_store, drugs) == 3159
    assert count(default_store, "SELECT (COUNT(?i) AS ?n) { ?i a yb:CatalogItem }") == 3826
    assert count(default_store, "SELECT (COUNT(?i) AS ?n) { ?i a yb:MedicalInstitution }") >= 1400


def test_pooling_regions_include_municipalities_and_xiantao(default_store: ox.Store) -> None:
    for code in ("110000", "120000", "310000", "500000", "429004", "440600"):
        assert default_store.query(
            f'ASK {{ ?r yb:regionCode "{code}" ; a yb:PoolingRegion }}',
            use_default_graph_as_union=True,
            prefixes={"yb": NS},
        )
    # a district's pooling region is its city; Xiantao is its own
    assert (
        count(
            default_store,
            'SELECT (COUNT(*) AS ?n) { ?d yb:regionCode "440604" ; '
            'yb:poolingRegion/yb:regionCode "440600" }',
        )
        == 1
    )


def test_every_statement_has_a_source_with_document_and_confidence(default_store: ox.Store) -> None:
    missing = count(
        default_store,
        """
        SELECT (COUNT(?s) AS ?n) { ?s a yb:PolicyStatement
          FILTER NOT EXISTS { ?s yb:source ?src . ?src yb:document ?d ; yb:confidence ?c } }""",
    )
    assert missing == 0
    assert count(default_store, "SELECT (COUNT(?s) AS ?n) { ?s a yb:Rule }") > 0


def test_unverified_statements_are_examples_never_rules(default_store: ox.Store) -> None:
    """DOMAIN.md: [U] "encode only as an example": a rule answers only on a [V] or [P] source."""
    unverified_rules = count(
        default_store,
        """
        SELECT (COUNT(?r) AS ?n) { ?r a yb:Rule
          FILTER NOT EXISTS { ?r yb:source/yb:confidence/skos:notation ?c FILTER(?c != "U") } }""",
    )
    assert unverified_rules == 0
    examples = (
        "SELECT (COUNT(?e) AS ?n) { ?e a yb:Example ; yb:source/yb:confidence/skos:notation 'U' }"
    )
    assert count(default_store, examples) > 0


def test_a_hospital_on_two_lists_is_one_institution(default_store: ox.Store) -> None:
    """The rare-disease list's 中国医学科学院北京协和医院 is the 3A list's 北京协和医院."""
    leader = count(
        default_store,
        """SELECT (COUNT(*) AS ?n) { ?i dcterms:identifier "3a-0017" ;
             yb:membership/yb:network "rare-disease-network" }""",
    )
    assert leader == 1
    for name in ("中国医学科学院北京协和医院", "华中科技大学同济医学院附属协和医院"):
        assert count(default_store, f'SELECT (COUNT(*) AS ?n) {{ ?i rdfs:label "{name}"@zh }}') == 0


def test_the_build_report_lists_rows_it_could_not_place(build_report: dict) -> None:
    skipped = build_report["skipped"]
    assert skipped, "the 3A list has rows without an address: they must be reported"
    assert all(s["path"].endswith(".csv") and s["line"] for s in skipped)
    assert any("places it in a region" in s["reason"] for s in skipped)


# ------------------------------------------------------------------ determinism and failure


def test_building_twice_gives_the_same_graph(tmp_path: Path) -> None:
    options = BuildOptions(data_dirs=[], validate=False, progress=False)
    dumps = []
    for name in ("a", "b"):
        build(tmp_path / name, options)
        db = store.open_store(tmp_path / name)
        quads = set(db)
        assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object)), (
            "no blank nodes: identical ⇔ isomorphic"
        )
        dumps.append(quads)
        del db
    assert dumps[0] == dumps[1]


def test_a_malformed_row_fails_with_file_and_line_and_keeps_the_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert run_cli("build", "--store", str(root), "--no-validate").returncode == 0
    before = store.current_generation(root)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "clinics.csv").write_text(
        "id,name,region_code,level\nok-1,好诊所,440604,1\nbad-2,坏诊所,440604,4\n", encoding="utf-8"
    )
    result = run_cli("build", "--store", str(root), "--data", str(bad), "--no-validate")
    assert result.returncode == 2
    assert "clinics.csv:3:" in result.stderr
    assert "hospital-level" in result.stderr and "'4'" in result.stderr
    assert "Traceback" not in result.stderr
    assert store.current_generation(root) == before
    assert not list(root.glob(".staging-*"))
    stats = run_cli("stats", "--store", str(root))
    assert stats.returncode == 0 and "3,159 drugs" in stats.stdout


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("rules.yaml", "rules:\n  - id: x\n    kind: ratio\n   value: 1\n", "rules.yaml:4"),
        ("data.ttl", "@prefix ex: <http://e/> .\nex:a ex:b .\n", "data.ttl:2"),
        (
            "rules.yaml",
            "rules:\n  - id: r1\n    kind: ratio\n    value: 0.8\n    label: {zh: 甲, en: a}\n"
            "    insured_region: '999999'\n",
            "rules.yaml:6",
        ),
        (
            "rules.yaml",
            "rules:\n  - id: r1\n    kind: ratio\n    value: 0.8\n    label: {zh: 甲, en: a}\n"
            "    insured_region: '440600'\n    valid: {from: 2025-01-01}\n"
            "    sources: seed-004\n",
            "rules.yaml:8",
        ),
        (
            "rules.yaml",
            "rules:\n  - id: r1\n    kind: ratio\n    value: 0.8\n    label: {zh: 甲, en: a}\n"
            "    insured_region: '440600'\n    valid: {from: 2025-01-01, til: 2025-12-31}\n",
            "rules.yaml:7: unknown key(s) in valid: til",
        ),
        # an empty YAML file has no kind (as a CSV without a header): not passed over
        ("rules.yaml", "# nothing yet\n", "rules.yaml:1: empty YAML file"),
    ],
)
def test_malformed_sources_name_file_and_line(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / name).write_text(content, encoding="utf-8")
    result = run_cli("build", "--store", str(tmp_path / "s"), "--data", str(bad), "--no-validate")
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not store.exists(tmp_path / "s")


def test_stats_without_a_store_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("stats", "--store", str(tmp_path / "none"))
    assert result.returncode == 2
    assert "yibao build" in result.stderr and "Traceback" not in result.stderr


def test_an_impossible_date_is_an_input_error_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "rules.yaml").write_text(
        "rules:\n  - id: r\n    kind: reimbursement-ratio\n    insured_region: '440600'\n"
        "    value: 0.9\n    valid_from: 2025-13-01\n",
        encoding="utf-8",
    )
    result = run_cli("build", "--store", str(tmp_path / "s"), "--data", str(bad), "--no-validate")
    assert result.returncode == 2
    assert "rules.yaml:6:" in result.stderr and "2025-13-01" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "s").glob(".staging-*"))


def test_the_demo_shows_real_answers_with_their_rules(default_store_dir: Path) -> None:
    result = run_cli("demo", "--store", str(default_store_dir))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "'仙桃市' → 429004" in out
    assert "(institution_limit): 3" in out and "foshan-go-long-term-institution-limit" in out
    assert "(catalog_region): 110000" in out and "(policy_region): 440600" in out
    assert "基金支付 48.89" in out and "langfang-cso-ratio" in out  # R19 from the graph


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    ctx = Context(vocab=load_vocabulary(), report=BuildReport())
    for _triple in regions.read(resources.data_dir() / "regions" / "regions.csv", ctx):
        pass
    return Gazetteer(ctx.regions)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("海淀区复兴路28号", "110108"),  # a county name found once
        ("仙桃市第一人民医院", "429004"),  # a county-level pooling city by its full name
        ("福州总医院", "350100"),  # a prefecture by its short name
        ("广东省佛山市禅城区岭南大道北81号", "440604"),
        # ambiguous: left out (and reported by the build), never guessed
        ("朝阳区德外安翔北路9号", None),  # 朝阳区 of 北京 and of 长春, not 朝阳市 of 辽宁
        ("中国人民解放军南京军区福州总医院", None),  # a military region and a city
        ("第二军医大学附属东方肝胆外科医院", None),  # 东方 (市, 海南) as an ordinary word
    ],
)
def test_addresses_and_names_are_placed_only_when_unambiguous(
    gazetteer: Gazetteer, text: str, code: str | None
) -> None:
    place = gazetteer.place(text)
    assert (place.code if place else None) == code
