"""Regions CSV → regions, their levels, parents, pooling regions and provinces."""

from __future__ import annotations

from pathlib import Path

from kg.errors import InputError
from kg.sources.common import Context, RegionInfo, Triples, check_code, lit, parse_bool
from kg.sources.tables import rows, split
from kg.vocab import RDF, RDFS, SKOS, YB, region_iri

COLUMNS = {"code", "name_zh", "name_en", "alt_names", "level", "parent", "pooling"}
REQUIRED = {"code", "name_zh", "level", "parent", "pooling"}

LEVEL_CLASS = {
    "country": YB.Country,
    "province": YB.Province,
    "prefecture": YB.Prefecture,
    "county": YB.County,
}


def matches(header: list[str]) -> bool:
    return set(header) >= REQUIRED


def read(path: Path, ctx: Context) -> Triples:
    found: list[tuple[int, dict[str, str]]] = []
    lines: dict[str, int] = {}
    for line, row in rows(path, REQUIRED, COLUMNS):
        code = check_code(row["code"], path, line)
        if code in lines:
            raise InputError(
                path, line, f"region {code} is listed twice (first on line {lines[code]})"
            )
        lines[code] = line
        ctx.concept("region-level", row["level"], path, line)
        parent = check_code(row["parent"], path, line, "parent code") if row["parent"] else None
        ctx.regions.add(
            RegionInfo(
                code=code,
                name=row["name_zh"],
                level=row["level"],
                parent=parent,
                pooling=parse_bool(row["pooling"], path, line, "pooling"),
                alt_names=tuple(split(row.get("alt_names", ""))),
            )
        )
        found.append((line, row))
    for line, row in found:
        code = row["code"]
        parent = row["parent"]
        if parent and parent not in ctx.regions:
            raise InputError(path, line, f"parent region {parent} of {code} is not listed")
    for _line, row in found:
        code = row["code"]
        info = ctx.regions.regions[code]
        node = region_iri(code)
        yield node, RDF.type, YB.Region
        if info.level in LEVEL_CLASS:
            yield node, RDF.type, LEVEL_CLASS[info.level]
        if info.pooling:
            yield node, RDF.type, YB.PoolingRegion
        yield node, YB.regionCode, lit(code)
        yield node, RDFS.label, lit(info.name, "zh")
        if row.get("name_en"):
            yield node, RDFS.label, lit(row["name_en"], "en")
        for alt in info.alt_names:
            yield node, SKOS.altLabel, lit(alt, "zh")
        yield node, YB.regionLevel, ctx.concept("region-level", info.level, path, _line)
        if info.parent:
            yield node, YB.parentRegion, region_iri(info.parent)
        pooling = ctx.regions.pooling_of(code)
        if pooling:
            yield node, YB.poolingRegion, region_iri(pooling)
        province = ctx.regions.province_of(code)
        if province:
            yield node, YB.province, region_iri(province)
