/* yibao-kg graph viewer: Cytoscape.js over the graph embedded in this page.
 * Colours by node type with a legend (click a type to hide or show it), a search box
 * (highlights matches; Enter zooms to them), click a node to see its properties and
 * relations. All text is inserted as text, never as HTML. Licence: Apache-2.0. */
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  var data = JSON.parse(byId("graph-data").textContent);
  var ui = JSON.parse(byId("ui-text").textContent);
  var graph = data.data || {};
  var nodeCount = data.elements.nodes.length;

  // ------------------------------------------------------------------ texts
  document.title = graph.name || document.title;
  byId("title").textContent = graph.name || "";
  byId("counts").textContent = nodeCount + " " + ui.nodes + " · " +
    data.elements.edges.length + " " + ui.edges + (graph.truncated ? " · " + ui.truncated : "");
  byId("search").placeholder = ui.search;
  byId("layout-label").textContent = ui.layout;
  byId("edge-labels-text").textContent = ui.edgeLabels;
  byId("fit").textContent = ui.fit;
  byId("legend-title").textContent = ui.legend;
  byId("details-title").textContent = ui.details;
  byId("details-hint").textContent = ui.hint;
  byId("relations-title").textContent = ui.relations;

  // ------------------------------------------------------------------ graph
  var layouts = {
    cose: { name: "cose", animate: false, randomize: false, fit: true, padding: 30,
            nodeRepulsion: function () { return 60000; }, idealEdgeLength: function () { return 70; },
            nodeOverlap: 20, gravity: 0.2, numIter: 1500, componentSpacing: 80 },
    concentric: { name: "concentric", animate: false, fit: true, padding: 30, minNodeSpacing: 12,
                  concentric: function (n) { return n.degree(); }, levelWidth: function () { return 2; } },
    breadthfirst: { name: "breadthfirst", animate: false, fit: true, padding: 30, spacingFactor: 1.1 },
    circle: { name: "circle", animate: false, fit: true, padding: 30 },
    grid: { name: "grid", animate: false, fit: true, padding: 30 }
  };
  var initial = nodeCount <= ui.coseMaxNodes ? "cose" : "concentric";

  var degree = {};
  data.elements.edges.forEach(function (e) {
    degree[e.data.source] = (degree[e.data.source] || 0) + 1;
    degree[e.data.target] = (degree[e.data.target] || 0) + 1;
  });
  data.elements.nodes.forEach(function (n) { n.data.degree = degree[n.data.id] || 0; });

  var cy = cytoscape({
    container: byId("cy"),
    elements: data.elements,
    minZoom: 0.02,
    maxZoom: 6,
    style: [
      { selector: "node", style: {
        "background-color": "data(color)", "label": "data(label)", "font-size": 10,
        "font-family": "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif",
        "text-valign": "bottom", "text-margin-y": 3, "text-wrap": "ellipsis",
        "text-max-width": 130, "min-zoomed-font-size": 7,
        "width": "mapData(degree, 1, 40, 14, 44)", "height": "mapData(degree, 1, 40, 14, 44)",
        "border-width": 1, "border-color": "#666", "color": "#222",
        "text-background-color": "#fff", "text-background-opacity": 0.7, "text-background-padding": 1 } },
      { selector: "edge", style: {
        "curve-style": "bezier", "width": 1, "line-color": "#b8b8b8",
        "target-arrow-shape": "triangle", "target-arrow-color": "#b8b8b8", "arrow-scale": 0.7,
        "font-size": 8, "color": "#555", "text-rotation": "autorotate",
        "text-background-color": "#fff", "text-background-opacity": 0.8 } },
      { selector: "edge.labelled, edge.near", style: { "label": "data(label)" } },
      { selector: "edge.near", style: { "line-color": "#555", "target-arrow-color": "#555", "width": 1.6 } },
      { selector: "node.applied", style: { "border-width": 3, "border-color": "#2b7a2b" } },
      { selector: "node.overridden", style: { "border-width": 2, "border-style": "dashed", "opacity": 0.75 } },
      { selector: ".faded", style: { "opacity": 0.12 } },
      { selector: "node.match", style: { "border-width": 3, "border-color": "#111" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#d62728" } },
      { selector: ".type-off", style: { "display": "none" } }
    ],
    layout: layouts[initial]
  });
  window.cy = cy;
  // in an explanation: the rules that decided, and those overridden
  cy.nodes().forEach(function (n) {
    if (n.data("applied") === true) { n.addClass("applied"); }
    if (n.data("applied") === false) { n.addClass("overridden"); }
  });

  // ------------------------------------------------------------------ layout chooser
  var select = byId("layout");
  Object.keys(layouts).forEach(function (name) {
    var option = el("option", ui.layouts[name] || name);
    option.value = name;
    if (name === initial) { option.selected = true; }
    select.appendChild(option);
  });
  select.addEventListener("change", function () {
    cy.elements(":visible").layout(layouts[select.value]).run();
  });
  byId("fit").addEventListener("click", function () { cy.fit(cy.elements(":visible"), 30); });
  byId("edge-labels").addEventListener("change", function (event) {
    if (event.target.checked) { cy.edges().addClass("labelled"); } else { cy.edges().removeClass("labelled"); }
  });

  // ------------------------------------------------------------------ legend
  var types = {};
  cy.nodes().forEach(function (n) {
    var t = n.data("type") || "";
    if (!types[t]) { types[t] = { label: n.data("type_label") || t || "—", color: n.data("color"), count: 0 }; }
    types[t].count += 1;
  });
  var legendList = byId("legend").querySelector("ul");
  Object.keys(types).sort(function (a, b) {
    return types[b].count - types[a].count || (a < b ? -1 : a > b ? 1 : 0);
  }).forEach(function (t) {
    var item = el("li");
    var swatch = el("span", null, "swatch");
    swatch.style.backgroundColor = types[t].color || "#ccc";
    item.appendChild(swatch);
    item.appendChild(el("span", types[t].label));
    item.appendChild(el("span", "(" + types[t].count + ")", "count"));
    item.title = t;
    item.addEventListener("click", function () {
      var off = item.classList.toggle("off");
      var nodes = cy.nodes().filter(function (n) { return (n.data("type") || "") === t; });
      if (off) { nodes.addClass("type-off"); } else { nodes.removeClass("type-off"); }
    });
    legendList.appendChild(item);
  });

  // ------------------------------------------------------------------ search
  var search = byId("search");
  // Names in both languages, other names (skos:altLabel: 协和医院, 301医院), codes and IRIs.
  function haystack(n) {
    var d = n.data();
    var words = [d.label, d.label_zh, d.label_en, d.id, d.type_label];
    Object.keys(d).forEach(function (key) {
      if (key.indexOf("skos_altLabel") === 0 || /[cC]ode$/.test(key)) { words.push(d[key]); }
    });
    return words.join(" ").toLowerCase();
  }
  function matches() {
    var q = search.value.trim().toLowerCase();
    if (!q) { return null; }
    return cy.nodes().filter(function (n) { return haystack(n).indexOf(q) >= 0; });
  }
  search.addEventListener("input", function () {
    var found = matches();
    cy.elements().removeClass("faded match");
    if (found === null) { byId("matches").textContent = ""; return; }
    cy.elements().not(found).not(found.connectedEdges()).addClass("faded");
    found.addClass("match");
    byId("matches").textContent = found.length + " " + ui.matches;
  });
  search.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    var found = matches();
    if (!found || found.empty()) { return; }
    cy.fit(found, 60);
    if (found.length === 1) { focus(found[0]); }
  });

  // ------------------------------------------------------------------ details
  var hidden = { color: true, name: true, value: true, degree: true };
  function focus(node) {
    cy.elements().unselect();
    node.select();
    show(node);
  }
  function show(node) {
    byId("details-hint").textContent = "";
    var table = byId("details").querySelector("table");
    table.textContent = "";
    var d = node.data();
    var first = ["label", "type_label", "id"];
    var keys = first.concat(Object.keys(d).filter(function (k) {
      return first.indexOf(k) < 0 && !hidden[k];
    }).sort());
    keys.forEach(function (k) {
      if (d[k] === undefined || d[k] === null || d[k] === "") { return; }
      if (k === "iri" && d.iri === d.id) { return; }  // shown once, as the id
      var row = el("tr");
      row.appendChild(el("th", ui.fields[k] || k));
      row.appendChild(el("td", d[k]));
      table.appendChild(row);
    });
    var list = byId("relations");
    list.textContent = "";
    cy.edges().removeClass("near");
    node.connectedEdges().addClass("near");
    node.connectedEdges().forEach(function (edge) {
      var outgoing = edge.source().id() === node.id();
      var other = outgoing ? edge.target() : edge.source();
      var item = el("li");
      item.appendChild(el("span", (outgoing ? "→ " : "← ") + edge.data("label") + " ", "rel"));
      item.appendChild(el("span", other.data("label")));
      item.addEventListener("click", function () {
        cy.animate({ center: { eles: other } }, { duration: 200 });
        focus(other);
      });
      list.appendChild(item);
    });
  }
  cy.on("tap", "node", function (event) { show(event.target); });
  cy.on("tap", function (event) {
    if (event.target === cy) {
      cy.edges().removeClass("near");
      byId("details").querySelector("table").textContent = "";
      byId("relations").textContent = "";
      byId("details-hint").textContent = ui.hint;
    }
  });

  document.body.setAttribute("data-nodes", String(cy.nodes().length));
  document.body.setAttribute("data-edges", String(cy.edges().length));
  document.body.setAttribute("data-state", "ready");
})();
