"""Place an institution in a region from its address (or name) with the region gazetteer.

Generic gazetteer matching: the province named at the start of the text, then the
prefecture-level unit whose name occurs first, then the county whose full name occurs. A
level that is ambiguous is left out rather than guessed.

A text that names no province (often a bare street address, or only the institution's name)
is placed only when it is unambiguous: a county name shared by several counties (朝阳区 of
北京 and of 长春) places nothing, and neither does a name holding several cities (南京军区
福州总医院: a military region and a city). Short names are tried for prefecture-level
units only: a county-level city's short name is too often an ordinary word (东方, 长安).
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.sources.common import RegionIndex, RegionInfo


@dataclass
class Placement:
    code: str
    precision: str  # "county", "prefecture" (or a pooling county), "province"


class Gazetteer:
    def __init__(self, regions: RegionIndex) -> None:
        self.regions = regions
        children = regions.children()
        self.provinces = [r for r in regions.regions.values() if r.level == "province"]
        self._below: dict[str, list[RegionInfo]] = {}
        for province in self.provinces:
            self._below[province.code] = self._descendants(province.code, children)

    @staticmethod
    def _descendants(code: str, children: dict[str | None, list[RegionInfo]]) -> list[RegionInfo]:
        out: list[RegionInfo] = []
        todo = list(children.get(code, []))
        while todo:
            r = todo.pop()
            out.append(r)
            todo.extend(children.get(r.code, []))
        return out

    @staticmethod
    def _names(r: RegionInfo, short: bool) -> list[str]:
        names = [r.name]
        if short:
            names += [a for a in r.alt_names if len(a) >= 2]
        return names

    def _first(self, text: str, candidates: list[RegionInfo], short: bool) -> RegionInfo | None:
        """The candidate whose name occurs earliest in the text; None when tied or absent."""
        best: list[tuple[int, int, RegionInfo]] = []
        for r in candidates:
            positions = [(text.find(n), -len(n)) for n in self._names(r, short) if n in text]
            if positions:
                pos, neg_len = min(positions)
                best.append((pos, neg_len, r))
        if not best:
            return None
        best.sort(key=lambda t: (t[0], t[1]))
        if len(best) > 1 and best[0][:2] == best[1][:2] and best[0][2].code != best[1][2].code:
            return None
        return best[0][2]

    def province(self, text: str) -> tuple[RegionInfo, str] | None:
        """The province the text starts with, and the name that matched."""
        found = [
            (p, n) for p in self.provinces for n in self._names(p, short=True) if text.startswith(n)
        ]
        return max(found, key=lambda f: len(f[1])) if found else None

    def place(self, text: str, province_hint: str | None = None) -> Placement | None:
        """Place a text (address or name); ``province_hint`` is a province name or code."""
        text = text.strip().removeprefix("中国")
        named = self.province(text) if text else None
        province = named[0] if named else self._province_from_hint(province_hint)
        rest = text[len(named[1]) :] if named else text
        if province is None and text:
            province, rest = self._province_inside(text)
        if province is None:
            return self._anywhere(text) if text else None
        below = self._below.get(province.code, [])
        cities = [r for r in below if r.level == "prefecture" or r.pooling]
        city = self._first(text, cities, short=False) or self._first(rest, cities, short=True)
        if city is not None:
            counties = [r for r in below if r.level == "county" and r.parent == city.code]
        else:
            counties = [r for r in below if r.level == "county"]
        county = self._first(rest, counties, short=False) if counties else None
        if county is not None:
            return Placement(county.code, "county")
        if city is not None:
            return Placement(city.code, "prefecture")
        return Placement(province.code, "province")

    def _province_inside(self, text: str) -> tuple[RegionInfo | None, str]:
        """A province named by its full name somewhere in the text (not at its start)."""
        hits = [(text.find(p.name), p) for p in self.provinces if p.name in text]
        if not hits:
            return None, text
        pos, province = min(hits, key=lambda h: h[0])
        return province, text[pos + len(province.name) :]

    def _anywhere(self, text: str) -> Placement | None:
        """No province named: a unique prefecture, then county, full name, then short name."""
        everything = [r for p in self.provinces for r in self._below[p.code]]
        cities = [r for r in everything if r.level == "prefecture" or r.pooling]
        counties = [r for r in everything if r.level == "county" and not r.pooling]
        city = self._first(text, cities, short=False)
        if city is not None:
            inner = [r for r in counties if r.parent == city.code]
            county = self._first(text, inner, short=False)
            return (
                Placement(county.code, "county") if county else Placement(city.code, "prefecture")
            )
        if any(r.name in text for r in counties):
            county = self._first(text, counties, short=False)
            if county is None or not self._unique_name(county, counties):
                return None
            return Placement(county.code, "county")
        named = self._occurring(text, [r for r in cities if r.level == "prefecture"])
        return Placement(named[0].code, "prefecture") if len(named) == 1 else None

    def _occurring(self, text: str, candidates: list[RegionInfo]) -> list[RegionInfo]:
        """The candidates named in the text by their full or short name."""
        return [r for r in candidates if any(n in text for n in self._names(r, short=True))]

    @staticmethod
    def _unique_name(region: RegionInfo, candidates: list[RegionInfo]) -> bool:
        return sum(1 for r in candidates if r.name == region.name) == 1

    def _province_from_hint(self, hint: str | None) -> RegionInfo | None:
        if not hint:
            return None
        hint = hint.strip()
        if hint in self.regions.regions and self.regions.regions[hint].level == "province":
            return self.regions.regions[hint]
        for p in self.provinces:
            if hint in self._names(p, short=True) or p.name.startswith(hint):
                return p
        return None
