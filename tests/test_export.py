"""yibao export: selections → networkx → GraphML, GEXF, DOT/SVG/PNG, JSON, Cytoscape.js, HTML.

The files are read back by the tools' own readers (networkx, an XML parser, Pillow) and the
HTML page is loaded in headless Chromium (installed by .ci/system-packages).
"""

from __future__ import annotations

import doctest
import hashlib
import io
import json
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import networkx as nx
import pyoxigraph as ox
import pytest

from kg import export, query
from kg.cli import main
from kg.export import graph as kg_graph
from kg.export import page, select, style
from kg.vocab import RDF, RDFS, YB, region_iri, statement_iri

REGION = "440600"  # 佛山: the seed document 004 is about it
FOSHAN = region_iri(REGION).value
ASSETS = Path(page.__file__).parent / "assets"


@pytest.fixture(scope="module")
def region_selection(default_store: ox.Store) -> select.Selection:
    return select.region(default_store, REGION, limit=2000)


@pytest.fixture(scope="module")
def region_graph(default_store: ox.Store, region_selection: select.Selection) -> nx.MultiDiGraph:
    graph, dropped = export.graph_of(region_selection, store=default_store, lang="zh")
    assert dropped == 0
    return graph


def written(graph: nx.MultiDiGraph, fmt: str, **options: str) -> bytes:
    out = io.BytesIO()
    export.write(graph, fmt, out, **options)
    return out.getvalue()


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


# ------------------------------------------------------------------ the region selection


def test_region_selection_holds_the_city_its_rules_institutions_and_parents(
    default_store: ox.Store, region_graph: nx.MultiDiGraph
) -> None:
    city = region_graph.nodes[FOSHAN]
    assert city["label"] == "佛山市" and city["label_en"] == "Foshan"
    assert city["regionCode"] == REGION
    # parents up to the country, each named although the selection only points to them
    parents = [v for _, v, k in region_graph.out_edges(FOSHAN, keys=True) if k == "yb:parentRegion"]
    assert [region_graph.nodes[p]["regionCode"] for p in parents] == ["440000"]
    assert region_graph.has_edge(region_iri("440000").value, region_iri("100000").value)
    # every rule insured in Foshan is there, with its sources and their documents
    rules = query.run(
        default_store,
        "SELECT ?region ?r WHERE { ?r a yb:Rule ; yb:insuredRegion ?region }",
        {"region": region_iri(REGION)},
    )
    expected = {row["r"].value for row in rules}
    assert expected, "the default data has Foshan rules"
    drawn = {n for n, d in region_graph.nodes(data=True) if d.get("type") == "yb:Rule"}
    assert expected <= drawn
    some_rule = sorted(expected)[0]
    sources = [v for _, v, k in region_graph.out_edges(some_rule, keys=True) if k == "yb:source"]
    assert sources and all(region_graph.nodes[s]["type"] == "yb:Source" for s in sources)
    assert any(
        k == "yb:document" for s in sources for _, _, k in region_graph.out_edges(s, keys=True)
    )
    # institutions of the city point to it as their pooling region
    institutions = [
        n for n, d in region_graph.nodes(data=True) if d.get("type") == "yb:MedicalInstitution"
    ]
    assert institutions
    assert all(region_graph.has_edge(i, FOSHAN, key="yb:poolingRegion") for i in institutions)


def test_limit_keeps_the_nearest_nodes_and_depth_the_nearest_hops(
    default_store: ox.Store, region_selection: select.Selection
) -> None:
    graph, dropped = export.graph_of(region_selection, store=default_store, limit=10)
    assert graph.number_of_nodes() == 10 and dropped > 0 and graph.graph["truncated"] is True
    assert FOSHAN in graph
    near, _ = export.graph_of(region_selection, store=default_store, depth=1)
    full, _ = export.graph_of(region_selection, store=default_store)
    neighbours = set(full.successors(FOSHAN)) | set(full.predecessors(FOSHAN)) | {FOSHAN}
    assert set(near.nodes) == neighbours


def test_region_selection_reads_institutions_only_up_to_the_limit(
    default_store: ox.Store,
) -> None:
    small = select.region(default_store, "440000", limit=5)  # 广东省: many institutions
    large = select.region(default_store, "440000", limit=2000)
    count = lambda s: len(  # noqa: E731
        {
            str(t.subject.value)
            for t in s.triples
            if t.predicate == RDF.type and t.object == YB.MedicalInstitution
        }
    )
    assert count(small) < count(large)
    assert small.truncated and not select.region(default_store, REGION, limit=2000).truncated


# ------------------------------------------------------------------ to_networkx


def test_to_networkx_maps_literals_types_and_links() -> None:
    ns = "https://example.org/"
    a, b, cls = ox.NamedNode(ns + "a"), ox.NamedNode(ns + "b"), ox.NamedNode(ns + "C")
    triples = [
        ox.Triple(a, RDF.type, YB.Rule),
        ox.Triple(a, RDF.type, YB.PolicyStatement),
        ox.Triple(a, RDFS.label, ox.Literal("规则甲", language="zh")),
        ox.Triple(a, RDFS.label, ox.Literal("Rule A", language="en")),
        ox.Triple(
            a,
            YB.value,
            ox.Literal("0.8", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")),
        ),
        ox.Triple(a, YB.quote, ox.Literal("原文\x01含控制符", language="zh")),
        ox.Triple(
            a,
            YB.validFrom,
            ox.Literal(
                "2022-07-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
            ),
        ),
        ox.Triple(a, YB.overrides, b),
        ox.Triple(a, YB.overrides, a),  # a loop: dropped
        ox.Triple(b, RDF.type, cls),  # cls is not described: no edge to it
        ox.Triple(
            b,
            YB.value,
            ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ),
    ]
    graph = kg_graph.to_networkx(triples, lang="en")
    assert set(graph.nodes) == {a.value, b.value}
    node = graph.nodes[a.value]
    assert node["type"] == "yb:Rule"  # the most specific class
    assert node["label"] == "Rule A" and node["label_zh"] == "规则甲"
    assert node["quote_zh"] == "原文含控制符"
    assert node["validFrom"] == "2022-07-01"
    # yb:value is a decimal on one node and an integer on the other: one type per attribute
    assert node["yb_value"] == 0.8 and graph.nodes[b.value]["yb_value"] == 3.0
    assert list(graph.edges(keys=True)) == [(a.value, b.value, "yb:overrides")]
    assert graph.edges[a.value, b.value, "yb:overrides"]["label"] == "overrides"
    assert node["color"] != graph.nodes[b.value]["color"]


def test_ontology_selection_draws_classes_properties_and_concepts() -> None:
    graph, _ = export.graph_of(select.ontology(None), lang="zh")
    rule = YB.Rule.value
    assert graph.nodes[rule]["label"] == "规则"
    assert graph.has_edge(rule, YB.PolicyStatement.value, key="rdfs:subClassOf")
    referral = "https://w3id.org/yibao-kg/vocab/filing-type/referral"
    assert graph.has_edge(
        referral, "https://w3id.org/yibao-kg/vocab/filing-type/temporary", key="skos:broader"
    )
    # a concept is an instance of a class that is drawn: that edge is kept
    assert graph.has_edge(referral, YB.FilingType.value, key="rdf:type")
    assert graph.nodes[YB.insuredRegion.value]["scenarioKey"] == "insured_region"


# ------------------------------------------------------------------ formats read back


def test_graphml_reads_back_with_the_same_nodes_edges_and_labels(
    region_graph: nx.MultiDiGraph,
) -> None:
    back = nx.read_graphml(io.BytesIO(written(region_graph, "graphml")))
    assert back.number_of_nodes() == region_graph.number_of_nodes()
    assert back.number_of_edges() == region_graph.number_of_edges()
    assert back.nodes[FOSHAN]["label"] == "佛山市"
    assert back.nodes[FOSHAN]["type"] == region_graph.nodes[FOSHAN]["type"]


def test_gexf_reads_back_and_carries_validity_as_start_and_end(
    region_graph: nx.MultiDiGraph,
) -> None:
    data = written(region_graph, "gexf")
    back = nx.read_gexf(io.BytesIO(data))
    assert back.number_of_nodes() == region_graph.number_of_nodes()
    assert back.number_of_edges() == region_graph.number_of_edges()
    root = ET.fromstring(data)
    ns = {"g": "http://www.gexf.net/1.2draft"}
    graph_element = root.find("g:graph", ns)
    assert graph_element is not None
    assert graph_element.get("mode") == "dynamic" and graph_element.get("timeformat") == "date"
    dated = {n: d for n, d in region_graph.nodes(data=True) if d.get("validFrom")}
    assert dated
    for element in graph_element.iterfind("g:nodes/g:node", ns):
        node = element.get("id")
        if node in dated:
            assert element.get("start") == dated[node]["validFrom"]
            assert element.get("end") == dated[node].get("validUntil")
    colours = root.findall(".//{http://www.gexf.net/1.2draft/viz}color")
    assert len(colours) == region_graph.number_of_nodes()


def test_json_formats_read_back(region_graph: nx.MultiDiGraph) -> None:
    node_link = json.loads(written(region_graph, "json"))
    back = nx.node_link_graph(node_link, edges="edges")
    assert back.number_of_nodes() == region_graph.number_of_nodes()
    assert back.number_of_edges() == region_graph.number_of_edges()
    cyjs = json.loads(written(region_graph, "cyjs"))
    nodes, edges = cyjs["elements"]["nodes"], cyjs["elements"]["edges"]
    assert len(nodes) == region_graph.number_of_nodes()
    assert len({e["data"]["id"] for e in edges}) == region_graph.number_of_edges()
    city = next(n["data"] for n in nodes if n["data"]["id"] == FOSHAN)
    assert city["name"] == "佛山市"


def test_dot_source_quotes_labels(region_graph: nx.MultiDiGraph) -> None:
    text = written(region_graph, "dot").decode("utf-8")
    assert text.startswith("digraph") and '"佛山市"' in text
    assert text.count(" -> ") == region_graph.number_of_edges()


def test_svg_parses_and_shows_the_chinese_labels(region_graph: nx.MultiDiGraph) -> None:
    root = ET.fromstring(written(region_graph, "svg"))
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text}
    assert "佛山市" in texts
    assert any("广东省" in t for t in texts)
    fonts = {t.get("font-family") for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert any(f and "CJK" in f for f in fonts)


def test_png_is_drawn_and_not_blank(region_graph: nx.MultiDiGraph) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(written(region_graph, "png"))).convert("RGB")
    assert image.width > 200 and image.height > 200
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20  # white background, coloured boxes, text
    white = max(colours)[1]
    assert white == (255, 255, 255)


def test_small_graphs_are_ranked_large_ones_force_directed(
    region_graph: nx.MultiDiGraph,
) -> None:
    from kg.export import drawing

    assert drawing.choose_layout(region_graph, None) == "sfdp"
    assert drawing.choose_layout(region_graph.subgraph([FOSHAN]).copy(), None) == "dot"
    assert drawing.wrap("a" * 10, 4, 2) == ["aaaa", "aaa…"]


# ------------------------------------------------------------------ the HTML page


class _References(HTMLParser):
    """Attributes and elements by which a page could load something."""

    ATTRIBUTES: ClassVar[set[str]] = {
        "src",
        "href",
        "srcset",
        "action",
        "poster",
        "data",
        "formaction",
        "manifest",
    }

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.csp: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.references += [f"{tag} {k}={v}" for k, v in attrs if k in self.ATTRIBUTES]
        if tag == "link":
            self.references.append(f"link {values}")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = values.get("content")


def test_html_page_references_nothing_outside_itself(region_graph: nx.MultiDiGraph) -> None:
    text = written(region_graph, "html", lang="zh").decode("utf-8")
    parser = _References()
    parser.feed(text)
    assert parser.references == []
    assert parser.csp is not None and "default-src 'none'" in parser.csp
    # no URL anywhere: not in the data (IRIs are written https:\/\/…), not in the library
    # (its licence comments keep their notices, their links lose the scheme)
    assert not re.search(r"(https?|ftp|wss?):/", text, re.IGNORECASE)
    library = (ASSETS / "cytoscape.min.js").read_text(encoding="utf-8")
    assert page.inline_library(library) in text
    assert "Ralf S. Engelschall (engelschall.com)" in text
    without_comments = re.sub(r"/\*.*?\*/", "", library, flags=re.DOTALL)
    assert not re.search(r"(https?|wss?)://", without_comments)  # only comments had links
    assert "佛山市" in text  # labels are in the page, in Chinese


def test_public_api_is_pinned() -> None:
    assert sorted(export.__all__) == [
        "FORMATS",
        "Format",
        "Selection",
        "crop",
        "format_for",
        "graph_of",
        "legend",
        "to_networkx",
        "write",
    ]
    assert set(export.FORMATS) == {"graphml", "gexf", "dot", "svg", "png", "json", "cyjs", "html"}
    assert export.format_for("a/b.GV") == "dot" and export.format_for("x.txt") is None


def test_doctests_of_the_writers() -> None:
    from kg.export import drawing

    for module in (drawing, page):
        assert doctest.testmod(module).failed == 0


def test_vendored_library_is_the_documented_release() -> None:
    readme = (ASSETS / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((ASSETS / "cytoscape.min.js").read_bytes()).hexdigest()
    assert digest in readme
    assert "Cytoscape Consortium" in (ASSETS / "LICENSE-cytoscape").read_text(encoding="utf-8")


PROBE = """
window.__report = {errors: [], warnings: [], violations: []};
window.addEventListener("error", function (e) { __report.errors.push(String(e.message)); });
window.addEventListener("securitypolicyviolation", function (e) {
  __report.violations.push(e.blockedURI + " " + e.violatedDirective); });
(function () {
  var err = console.error, warn = console.warn;
  function text(args) { return Array.prototype.join.call(args, " "); }
  console.error = function () {
    __report.errors.push(text(arguments)); return err.apply(console, arguments); };
  console.warn = function () {
    __report.warnings.push(text(arguments)); return warn.apply(console, arguments); };
})();
window.addEventListener("load", function () {
  setTimeout(function () {
    var r = __report, cy = window.cy, box = document.getElementById("cy").getBoundingClientRect();
    r.state = document.body.getAttribute("data-state");
    r.nodes = cy ? cy.nodes().length : -1;
    r.edges = cy ? cy.edges().length : -1;
    r.rendered = cy ? cy.nodes().filter(function (n) {
      var b = n.renderedBoundingBox();
      return n.visible() && b.w > 0 && b.x2 > 0 && b.y2 > 0
        && b.x1 < box.width && b.y1 < box.height;
    }).length : -1;
    r.resources = performance.getEntriesByType("resource").map(function (e) { return e.name; });
    r.painted = 0;
    document.querySelectorAll("#cy canvas").forEach(function (c) {
      var d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (var i = 3; i < d.length; i += 4) { if (d[i] !== 0) { r.painted++; } }
    });
    var input = document.getElementById("search");
    input.value = "佛山市";
    input.dispatchEvent(new Event("input"));
    r.search = document.getElementById("matches").textContent;
    cy.getElementById(SEED).emit("tap");
    r.details = document.querySelector("#details table").textContent;
    var out = document.createElement("pre");
    out.id = "probe-report";
    out.textContent = JSON.stringify(r);
    document.body.appendChild(out);
  }, 1000);
});
"""

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,800",
    "--virtual-time-budget=20000",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is needed: run .ci/system-packages (Debian: chromium)")


def test_html_page_renders_every_node_in_a_real_browser(
    region_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    text = written(region_graph, "html", lang="zh").decode("utf-8")
    probe = PROBE.replace("SEED", json.dumps(FOSHAN))
    page_file = tmp_path / "page.html"
    page_file.write_text(text.replace("<head>", f"<head><script>{probe}</script>", 1), "utf-8")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--dump-dom",
                page_file.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    found = re.search(r'<pre id="probe-report">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"the page did not report (exit {done.returncode}): {done.stderr[-2000:]}"
    report = json.loads(
        found.group(1)
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
    )
    assert report["errors"] == [] and report["warnings"] == [] and report["violations"] == []
    assert report["state"] == "ready"
    assert report["nodes"] == region_graph.number_of_nodes()
    assert report["edges"] == region_graph.number_of_edges()
    assert report["rendered"] == region_graph.number_of_nodes()
    assert report["painted"] > 1000
    assert report["resources"] == []
    named = [
        n
        for n, d in region_graph.nodes(data=True)
        if "佛山市" in " ".join(str(d.get(k, "")) for k in ("label", "label_zh", "label_en"))
    ]
    assert report["search"].startswith(f"{len(named)} ")  # the search box found them all
    assert "佛山市" in report["details"] and REGION in report["details"]


# ------------------------------------------------------------------ the command line


def test_cli_exports_a_region_in_each_format(
    default_store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt in export.FORMATS:
        out = tmp_path / f"foshan.{fmt}"
        code, _, err = run_cli(
            [
                "export",
                "--store",
                str(default_store_dir),
                "--region",
                "佛山",
                "--format",
                fmt,
                "-o",
                str(out),
            ],
            capsys,
        )
        assert code == 0, err
        assert out.stat().st_size > 1000 and "wrote" in err
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    code, out_text, _ = run_cli(
        [
            "export",
            "--store",
            str(default_store_dir),
            "--region",
            REGION,
            "--format",
            "dot",
            "--lang",
            "en",
            "--depth",
            "1",
        ],
        capsys,
    )
    assert code == 0 and "Foshan" in out_text and out_text.startswith("digraph")


def test_cli_format_follows_the_output_suffix(
    default_store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "onto.graphml"
    code, _, err = run_cli(["export", "--ontology", "-o", str(out)], capsys)
    assert code == 0, err
    assert nx.read_graphml(out).number_of_nodes() > 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "svg"], "choose exactly one selection"),
        (["--region", REGION, "--ontology", "--format", "svg"], "got --region, --ontology"),
        (["--region", REGION, "-o", "x.unknown"], "give --format"),
        (["--region", "佛善", "--format", "dot"], "unknown region '佛善'"),
        (["--region", REGION, "--format", "dot", "--layout", "spring"], "unknown layout"),
        (["--region", REGION, "--format", "dot", "--param", "a=b"], "--param goes with --query"),
        (["--region", REGION, "-o", "/nonexistent-dir/x.dot"], "/nonexistent-dir does not exist"),
    ],
)
def test_cli_usage_errors_exit_2_without_traceback(
    default_store_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run_cli(["export", "--store", str(default_store_dir), *args], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_query_selection_binds_header_params_and_reports_bad_queries(
    default_store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rq = tmp_path / "children.rq"
    rq.write_text(
        "#+ summary: {zh: 下级区划, en: Child regions}\n"
        "#+ params:\n#+   - {name: region, type: region, required: true}\n"
        "CONSTRUCT { ?child yb:parentRegion ?region ; rdfs:label ?label }\n"
        "WHERE { ?child yb:parentRegion ?region ; rdfs:label ?label }\n",
        encoding="utf-8",
    )
    out = tmp_path / "children.json"
    code, _, err = run_cli(
        [
            "export",
            "--store",
            str(default_store_dir),
            "--query",
            str(rq),
            "--param",
            "region=佛山",
            "-o",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    data = json.loads(out.read_text(encoding="utf-8"))
    labels = {n["label"] for n in data["nodes"]}
    assert {"佛山市", "南海区", "顺德区"} <= labels
    assert data["graph"]["name"] == "下级区划"

    select_rq = tmp_path / "select.rq"
    select_rq.write_text("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1\n", encoding="utf-8")
    broken = tmp_path / "broken.rq"
    broken.write_text(
        "CONSTRUCT { ?s ?p ?o }\nWHERE { ?s ?p ?o . nope:x ?p ?o }\n", encoding="utf-8"
    )
    for path, message in ((select_rq, "needs a CONSTRUCT"), (broken, f"{broken}:2:28:")):
        code, _, err = run_cli(
            ["export", "--store", str(default_store_dir), "--query", str(path), "--format", "json"],
            capsys,
        )
        assert code == 2 and message in err and "Traceback" not in err


# ------------------------------------------------------------------ the scenario explanation

SCENARIO_FLAGS = {
    "insured": REGION,
    "treated": "110000",
    "scheme": "employee",
    "filing": "other-temporary",
    "service": "inpatient",
    "on_date": "2025-06-01",
}


def test_scenario_export_holds_exactly_the_rules_which_rule_cites(
    default_store: ox.Store,
) -> None:
    from kg.export import scenario as scenario_export
    from kg.resolve import which_rule

    answer = which_rule(default_store, scenario_export.scenario_from_flags(SCENARIO_FLAGS))
    cited = {e.iri for e in answer.explanations if e.iri.startswith(statement_iri("").value)}
    applied = {e.iri for e in answer.explanations if e.applied} & cited
    overridden = cited - applied
    assert applied and overridden, "the scenario has winners and losers"

    selection = scenario_export.explain(default_store, answer, "zh")
    graph, dropped = export.graph_of(selection, store=default_store, lang="zh")
    assert dropped == 0
    rules = {n for n, d in graph.nodes(data=True) if d.get("type") == "yb:Rule"}
    assert rules == cited
    node = scenario_export.SCENARIO_NODE
    assert graph.nodes[node]["insured_region"] == REGION
    assert graph.nodes[node]["answer_scope"] == "cross-province"
    for rule in applied:
        assert graph.nodes[rule]["applied"] is True
        assert any(k.startswith("applied:") for k in graph[node][rule])
    for rule in overridden:
        assert graph.nodes[rule]["applied"] is False
        winners = [
            v for _, v, k in graph.out_edges(rule, keys=True) if k.startswith("overridden_by")
        ]
        assert winners and set(winners) <= applied
        assert graph.nodes[rule]["why"]  # why it lost, in words
    # every cited rule comes with its sources and documents
    for rule in cited:
        sources = [v for _, v, k in graph.out_edges(rule, keys=True) if k == "yb:source"]
        assert sources
        assert all(
            any(k == "yb:document" for _, _, k in graph.out_edges(s, keys=True)) for s in sources
        )
    # the scenario is linked to the places it names
    assert graph.has_edge(node, FOSHAN, key="yb:insuredRegion")
    assert graph.has_edge(node, region_iri("110000").value, key="yb:treatmentRegion")


def test_cli_exports_a_scenario(
    default_store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "why.gexf"
    args = ["export", "--store", str(default_store_dir), "-o", str(out), "--depth", "1"]
    for flag, value in SCENARIO_FLAGS.items():
        args += [f"--{'date' if flag == 'on_date' else flag.replace('_', '-')}", value]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    back = nx.read_gexf(out)
    assert "urn:yibao-kg:scenario" in back
    code, _, err = run_cli(
        [
            "export",
            "--store",
            str(default_store_dir),
            "--scenario",
            "--treated",
            "110000",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 2 and "insured_region" in err and "Traceback" not in err


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour."""
    r, g, b = (c / 255 for c in style.rgb(hex_colour))
    lin = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in (r, g, b)]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883
    fx, fy, fz = (v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116 for v in (x, y, z))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def test_legend_colours_are_told_apart() -> None:
    """No two of the first colours (one per node type) look alike: ΔE (CIE76) ≥ 20."""
    labs = [_lab(c) for c in style.PALETTE]
    closest = min(
        sum((p - q) ** 2 for p, q in zip(a, b, strict=True)) ** 0.5
        for i, a in enumerate(labs)
        for b in labs[i + 1 :]
    )
    assert closest >= 20


def test_scenario_export_writes_alternative_materials_as_words(default_store: ox.Store) -> None:
    from kg.export import scenario as scenario_export
    from kg.resolve import which_rule

    flags = {
        "insured": "131000",
        "treated": "110000",
        "scheme": "employee",
        "filing": "long-term-resident",
        "service": "chronic-special-outpatient",
        "on_date": "2025-06-01",
    }
    answer = which_rule(default_store, scenario_export.scenario_from_flags(flags))
    selection = scenario_export.explain(default_store, answer, "zh")
    graph, _ = export.graph_of(selection, store=default_store, lang="zh")
    materials = graph.nodes[scenario_export.SCENARIO_NODE]["answer_required_materials"]
    assert "(personal-commitment | residence-proof)" in materials
    assert "{" not in materials and "any_of" not in materials


def test_pooling_regions_are_drawn_as_pooling_regions_whatever_their_level(
    default_store: ox.Store,
) -> None:
    graph, _ = export.graph_of(select.region(default_store, "420000"), store=default_store)
    kinds = {code: graph.nodes[region_iri(code).value]["type"] for code in ("420100", "429004")}
    assert kinds == {"420100": "yb:PoolingRegion", "429004": "yb:PoolingRegion"}
    assert "yb:County" in graph.nodes[region_iri("429004").value]["types"]
