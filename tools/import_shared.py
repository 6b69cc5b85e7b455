"""Import the public data of ``../shared/data`` into the package's default data (``kg/data``).

Run once by a developer when the upstream data changes (needs the ``dev`` extra for
pypinyin)::

    python tools/import_shared.py ../shared/data

It writes files in the project's own source formats (docs/data-formats.md) and copies the
licences. The product never reads ``../shared`` at run time. Derivations made here are
deterministic and documented in ``kg/data/*/README.md``:

- regions: pooling flags from the division structure (prefecture-level units; the four
  municipalities; each province-administered county-level unit), English names in pinyin;
- institutions: the 3A list as is (placement from the address happens in the build),
  institution type from the name, rare-disease network members matched to 3A rows by name;
- catalog: the flat NRDL 2024 table renumbered per part (W-144 = 西药部分 No. 144).
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from kg.sources.institutions import COLUMN_ORDER as INSTITUTION_COLUMNS

OUT = Path(__file__).resolve().parent.parent / "kg" / "data"

MUNICIPALITIES = {"11", "12", "31", "50"}
GROUP_NAMES = {"省直辖县级行政区划", "自治区直辖县级行政区划"}

PROVINCE_EN = {
    "11": "Beijing",
    "12": "Tianjin",
    "13": "Hebei",
    "14": "Shanxi",
    "15": "Inner Mongolia",
    "21": "Liaoning",
    "22": "Jilin",
    "23": "Heilongjiang",
    "31": "Shanghai",
    "32": "Jiangsu",
    "33": "Zhejiang",
    "34": "Anhui",
    "35": "Fujian",
    "36": "Jiangxi",
    "37": "Shandong",
    "41": "Henan",
    "42": "Hubei",
    "43": "Hunan",
    "44": "Guangdong",
    "45": "Guangxi",
    "46": "Hainan",
    "50": "Chongqing",
    "51": "Sichuan",
    "52": "Guizhou",
    "53": "Yunnan",
    "54": "Tibet",
    "61": "Shaanxi",
    "62": "Gansu",
    "63": "Qinghai",
    "64": "Ningxia",
    "65": "Xinjiang",
}
PROVINCE_SHORT = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
}

# Longest suffix first: (Chinese suffix, English suffix) for county- and prefecture-level names.
SUFFIXES = [
    ("特区", " Special District"),
    ("自治县", " Autonomous County"),
    ("自治旗", " Autonomous Banner"),
    ("自治州", " Autonomous Prefecture"),
    ("林区", " Forestry District"),
    ("新区", " New District"),
    ("地区", " Prefecture"),
    ("矿区", " Mining District"),
    ("区", " District"),
    ("县", " County"),
    ("旗", " Banner"),
    ("盟", " League"),
    ("市", ""),
]
ETHNIC = re.compile(
    r"(蒙古族|回族|藏族|维吾尔族|苗族|彝族|壮族|布依族|朝鲜族|满族|侗族|瑶族|白族|土家族|哈尼族|"
    r"哈萨克族|傣族|黎族|傈僳族|佤族|畲族|高山族|拉祜族|水族|东乡族|纳西族|景颇族|柯尔克孜族|土族|"
    r"达斡尔族|仫佬族|羌族|布朗族|撒拉族|毛南族|仡佬族|锡伯族|阿昌族|普米族|塔吉克族|怒族|乌孜别克族|"
    r"俄罗斯族|鄂温克族|德昂族|保安族|裕固族|京族|塔塔尔族|独龙族|鄂伦春族|赫哲族|门巴族|珞巴族|基诺族|"
    r"各族)+$"
)


# Readings that place names use where pypinyin's default reading differs (成都 Chengdu not
# Chengdou, 长治 Changzhi not Zhangzhi); whole names first, then single characters.
NAME_READINGS = {"长子": ["zhang", "zi"], "洪洞": ["hong", "tong"], "涡阳": ["guo", "yang"]}
CHAR_READINGS = {"都": "du", "长": "chang", "朝": "chao", "蚌": "beng", "圩": "xu", "浚": "xun"}
CHAR_READINGS |= {"单": "shan"}  # 单县 Shanxian, the only place name with 单
# English names in established use instead of their pinyin.
CONVENTIONAL_EN = {"呼和浩特": "Hohhot", "乌鲁木齐": "Urumqi", "拉萨": "Lhasa", "哈尔滨": "Harbin"}


def pinyin(text: str) -> str:
    """Hanyu pinyin as written in English place names: 佛山 → Foshan, 西安 → Xi'an."""
    if text in CONVENTIONAL_EN:
        return CONVENTIONAL_EN[text]
    syllables = lazy_pinyin(text, style=Style.NORMAL)
    if len(syllables) == len(text):
        syllables = [CHAR_READINGS.get(ch, s) for ch, s in zip(text, syllables, strict=True)]
        for name, reading in NAME_READINGS.items():
            at = text.find(name)
            if at >= 0:
                syllables[at : at + len(name)] = reading
    joined = syllables[0] + "".join(("'" + s if s[:1] in "aoe" else s) for s in syllables[1:])
    return joined.capitalize()


def split_suffix(name: str) -> tuple[str, str]:
    for zh, en in SUFFIXES:
        if name.endswith(zh) and len(name) > len(zh) + 1 - (zh == "市"):
            return name[: -len(zh)], en
    return name, ""


def short_name(name: str) -> str:
    """The name without administrative suffix or ethnic qualifier (延边朝鲜族自治州 → 延边)."""
    base, _ = split_suffix(name)
    base = ETHNIC.sub("", base) or base
    return base


def english(name: str) -> str:
    base, suffix = split_suffix(name)
    core = ETHNIC.sub("", base) or base
    return pinyin(core) + suffix


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({k: row.get(k, "") for k in header})


# ------------------------------------------------------------------ regions


def import_regions(shared: Path) -> None:
    src = shared / "admin-divisions" / "modood"
    provinces = read_csv(src / "provinces.csv")
    cities = read_csv(src / "cities.csv")
    areas = read_csv(src / "areas.csv")
    rows: list[dict[str, str]] = [
        {
            "code": "100000",
            "name_zh": "中华人民共和国",
            "name_en": "People's Republic of China",
            "alt_names": "全国;中国",
            "level": "country",
            "parent": "",
            "pooling": "no",
        },
    ]
    for p in provinces:
        name = p["name"]
        short = PROVINCE_SHORT.get(name, name.removesuffix("省").removesuffix("市"))
        rows.append(
            {
                "code": p["code"] + "0000",
                "name_zh": name,
                "name_en": PROVINCE_EN[p["code"]],
                "alt_names": short if short != name else "",
                "level": "province",
                "parent": "100000",
                "pooling": "yes" if p["code"] in MUNICIPALITIES else "no",
            }
        )
    city_kind: dict[str, str] = {}
    for c in cities:
        code, name = c["code"], c["name"]
        if name == "市辖区":
            city_kind[code] = "municipal"
            continue
        if c["provinceCode"] in MUNICIPALITIES:  # 重庆's 县 (500200): a statistical grouping
            city_kind[code] = "municipal"
            continue
        if name in GROUP_NAMES:
            city_kind[code] = "group"
            continue
        city_kind[code] = "prefecture"
        short = short_name(name)
        rows.append(
            {
                "code": code + "00",
                "name_zh": name,
                "name_en": english(name),
                "alt_names": short if short != name else "",
                "level": "prefecture",
                "parent": c["provinceCode"] + "0000",
                "pooling": "yes",
            }
        )
    for a in areas:
        code, name, city = a["code"], a["name"], a["cityCode"]
        if code == city + "00":  # 东莞, 中山, 儋州: the prefecture itself, no districts
            continue
        kind = city_kind[city]
        parent = a["provinceCode"] + "0000" if kind in {"municipal", "group"} else city + "00"
        short = short_name(name)
        rows.append(
            {
                "code": code,
                "name_zh": name,
                "name_en": english(name),
                "alt_names": short if short != name and len(short) >= 2 else "",
                "level": "county",
                "parent": parent,
                "pooling": "yes" if kind == "group" else "no",
            }
        )
    # Pools that are not GB/T 2260 divisions, with their medical-insurance area codes.
    rows.append(
        {
            "code": "369900",
            "name_zh": "江西省省本级",
            "name_en": "Jiangxi provincial pool",
            "alt_names": "江西省本级;江西省直",
            "level": "provincial-pool",
            "parent": "360000",
            "pooling": "yes",
        }
    )
    rows.append(
        {
            "code": "660000",
            "name_zh": "新疆生产建设兵团",
            "name_en": "Xinjiang Production and Construction Corps",
            "alt_names": "兵团",
            "level": "provincial-pool",
            "parent": "650000",
            "pooling": "yes",
        }
    )
    write_csv(
        OUT / "regions" / "regions.csv",
        ["code", "name_zh", "name_en", "alt_names", "level", "parent", "pooling"],
        rows,
    )
    shutil.copy(src / "LICENSE", OUT / "regions" / "LICENSE-modood")
    print(f"regions: {len(rows)} rows")


# ------------------------------------------------------------------ institutions

TCM = re.compile(r"中医|中西医|藏医|蒙医|维吾尔医|民族医|傣医|壮医|苗医|瑶医|彝医|中药")
SPECIALTY = re.compile(
    r"肿瘤|癌症|儿童|儿科|妇幼|妇产|妇女|产院|精神|心理|口腔|牙|眼科|眼视光|五官|耳鼻|传染|感染|胸科|肺科|结核|"
    r"骨科|骨伤|康复|心血管|心脏|脑科|神经|皮肤|性病|血液|肝病|整形|烧伤|职业病|老年|血液病|泌尿|糖尿病|"
    r"疗养|男科|手外科|脊柱|麻风|放射|防治"
)


def institution_type(name: str) -> str:
    if TCM.search(name):
        return "tcm"
    if SPECIALTY.search(name):
        return "specialty"
    return "general"


def normalise(name: str) -> str:
    """Name key for matching lists: no brackets, no spaces, no 'Ｏ' for '〇'."""
    name = re.sub(r"[（(][^）)]*[）)]", "", name)
    return re.sub(r"\s+", "", name).replace("Ｏ", "〇")


def university_key(name: str) -> str:
    """Name key that ignores 医学院 between a university and 附属 (上海交通大学医学院附属瑞金医院
    and 上海交通大学附属瑞金医院 are one hospital)."""
    return normalise(name).replace("大学医学院附属", "大学附属")


def same_hospital_by_suffix(name: str, province: str, rows3a: list[dict[str, str]]) -> str | None:
    """The one 3A row in the same province whose name (or a short name, 5+ characters) ends
    the other's: 中国医学科学院北京协和医院 is 北京协和医院, 华中科技大学同济医学院附属协和医院 is
    武汉协和医院 (its short name). Several rows or another province: no match."""
    key = normalise(name)
    found = set()
    for row in rows3a:
        if province not in row["address"] + row["name"]:
            continue
        names = [row["name"], *[n for n in row["other_names"].split(";") if n]]
        if any(len(n) >= 5 and (key.endswith(n) or n.endswith(key)) for n in map(normalise, names)):
            found.add(row["id"])
    return found.pop() if len(found) == 1 else None


INSTITUTION_HEADER = list(INSTITUTION_COLUMNS)
MEMBERSHIP_HEADER = ["institution_id", "network", "role", "status", "document"]

# Hospitals named in the seeds, with what the seeds say (seed 001: 仙桃; seed 004: 北京/上海/广州).
SEED_HOSPITALS = [
    # name, region, address, level, type, seed, note
    ("北京协和医院", "110000", "", "", "", "004_ec62da917b5f6e0c.txt"),
    ("中国人民解放军总医院（301医院）", "110000", "", "", "", "004_ec62da917b5f6e0c.txt"),
    ("北京大学第一医院", "110000", "", "", "", "004_ec62da917b5f6e0c.txt"),
    ("复旦大学附属中山医院", "310000", "", "", "", "004_ec62da917b5f6e0c.txt"),
    ("上海交通大学医学院附属瑞金医院", "310000", "", "", "", "004_ec62da917b5f6e0c.txt"),
    ("中山大学附属第一医院", "440100", "", "", "", "004_ec62da917b5f6e0c.txt"),
    ("广东省人民医院", "440100", "", "", "", "004_ec62da917b5f6e0c.txt"),
    (
        "仙桃市第一人民医院",
        "429004",
        "沔州大道中段29号",
        "3",
        "general",
        "001_22c310ff5ff7d414.txt",
    ),
    ("仙桃市中医院", "429004", "", "3", "tcm", "001_22c310ff5ff7d414.txt"),
    ("仙桃爱尔眼科医院", "429004", "", "2", "specialty", "001_22c310ff5ff7d414.txt"),
    (
        "湖北爱尔眼科医院",
        "429004",
        "仙桃市沔阳大道42号",
        "",
        "specialty",
        "001_22c310ff5ff7d414.txt",
    ),
    (
        "仙桃市中医医院",
        "429004",
        "湖北省仙桃市仙桃大道51号",
        "3",
        "tcm",
        "001_22c310ff5ff7d414.txt",
    ),
    ("仙桃阳光医院", "429004", "", "", "", "001_22c310ff5ff7d414.txt"),
    ("仙桃市第三人民医院", "429004", "", "3", "general", "001_22c310ff5ff7d414.txt"),
]
SEED_GRADES = {"仙桃市中医医院": "甲"}  # seed 001: 三级甲等中医医院
SEED_OTHER_NAMES = {  # seed 001: 仙桃市肿瘤医院 "与第三人民医院合并后，成为三级综合医院"
    "仙桃市第三人民医院": "仙桃市肿瘤医院",
}
SEED_ALIASES = {  # seed name → name used by the 3A list, where the seed uses a common name
    "中国人民解放军总医院（301医院）": "中国人民解放军总医院",
}


def split_alias(name: str) -> tuple[str, list[str]]:
    """A 3A-list name and the short names it gives in closing brackets.

    北京协和医院（协和医院） → 北京协和医院, [协和医院]; every bracket of the list holds
    such names (中山一院, 301医院), separated by 、.
    """
    m = re.fullmatch(r"(.+?)[（(]([^（）()]+)[）)]", name)
    if not m:
        return name, []
    return m[1].strip(), [a.strip() for a in m[2].split("、") if a.strip()]


def import_institutions(shared: Path) -> None:
    src = shared / "hospitals"
    rows3a = read_csv(src / "3AHospital" / "result.csv")
    out3a = []
    by_name: dict[str, str] = {}
    for i, r in enumerate(rows3a, start=1):
        ident = f"3a-{i:04d}"
        lon, lat = r["longitude_wgs84"], r["latitude_wgs84"]
        if float(lon or 0) == 0 and float(lat or 0) == 0:
            lon = lat = ""
        name, aliases = split_alias(r["name"].strip())
        out3a.append(
            {
                "id": ident,
                "name": name,
                "other_names": ";".join(aliases),
                "address": r["address"].strip(),
                "longitude": lon,
                "latitude": lat,
                "level": "3",
                "grade": "甲",
                "type": institution_type(r["name"]),
                "source": "3AHospital",
            }
        )
        by_name.setdefault(normalise(r["name"]), ident)
        by_name.setdefault(university_key(r["name"]), ident)
    write_csv(OUT / "institutions" / "3a-hospitals.csv", INSTITUTION_HEADER, out3a)
    shutil.copy(src / "3AHospital" / "LICENSE", OUT / "institutions" / "LICENSE-3AHospital")

    rare = read_csv(src / "rare-disease-network" / "rare_disease_network_hospitals.csv")
    extra, members = [], []
    matched = 0
    for r in rare:
        doc = "nhc-2024-64" if r["source_id"] == "nhc2024_64" else "nhc-2019-157"
        key = normalise(r["name"])
        ident = (
            by_name.get(key)
            or by_name.get(university_key(r["name"]))
            or (by_name.get(normalise(r["name_2019"])) if r["name_2019"] else None)
            or same_hospital_by_suffix(r["name"], r["province"], out3a)
        )
        if ident:
            matched += 1
        else:
            ident = f"rdn-{doc.removeprefix('nhc-')}-{int(r['no']):03d}"
            extra.append(
                {
                    "id": ident,
                    "name": r["name"].strip(),
                    "province": r["province"],
                    "type": institution_type(r["name"]),
                    "source": doc,
                }
            )
        by_name.setdefault(key, ident)  # seeds name hospitals as either list does
        members.append(
            {
                "institution_id": ident,
                "network": "rare-disease-network",
                "role": r["role_zh"],
                "status": r["status"],
                "document": doc,
            }
        )
    write_csv(OUT / "institutions" / "rare-disease-hospitals.csv", INSTITUTION_HEADER, extra)
    write_csv(OUT / "institutions" / "rare-disease-network.csv", MEMBERSHIP_HEADER, members)
    shutil.copy(
        src / "rare-disease-network" / "LICENSE-zebra-mod.txt",
        OUT / "institutions" / "LICENSE-zebra-mod",
    )

    seeds, mentions = [], []
    for n, (name, region, address, level, kind, seed) in enumerate(SEED_HOSPITALS, start=1):
        ident = by_name.get(normalise(SEED_ALIASES.get(name, name)))
        doc = "seed-" + seed[:3]
        if ident:
            mentions.append(
                {
                    "institution_id": ident,
                    "network": "seed-named-hospitals",
                    "role": "种子文件提及",
                    "status": "named",
                    "document": doc,
                }
            )
            continue
        ident = f"seed-{n:03d}"
        seeds.append(
            {
                "id": ident,
                "name": name,
                "other_names": SEED_OTHER_NAMES.get(name, ""),
                "region_code": region,
                "address": address,
                "level": level,
                "grade": SEED_GRADES.get(name, ""),
                "type": kind,
                "source": seed,
            }
        )
        mentions.append(
            {
                "institution_id": ident,
                "network": "seed-named-hospitals",
                "role": "种子文件提及",
                "status": "named",
                "document": doc,
            }
        )
    write_csv(OUT / "institutions" / "seed-hospitals.csv", INSTITUTION_HEADER, seeds)
    write_csv(OUT / "institutions" / "seed-mentions.csv", MEMBERSHIP_HEADER, mentions)
    print(
        f"institutions: 3A {len(out3a)}, rare-disease {len(rare)} ({matched} matched to 3A, "
        f"{len(extra)} new), seeds {len(SEED_HOSPITALS)} ({len(seeds)} new)"
    )


# ------------------------------------------------------------------ catalog

PARTS = {
    "西药部分": "W",
    "中成药部分": "Z",
    "协议西药": "XW",
    "协议中成药": "XZ",
    "竞价药品部分": "J",
}
ITEM_HEADER = [
    "number",
    "name",
    "other_names",
    "dosage_form",
    "category",
    "part",
    "classification_code",
    "classification_path",
    "additional_form",
    "payment_standard",
    "remark",
    "agreement_valid",
]


def cn_date(text: str) -> str:
    m = re.fullmatch(r"\s*(\d{4})年(\d{1,2})月(\d{1,2})日\s*", text)
    if not m:
        raise ValueError(f"not a date: {text!r}")
    return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"


def tidy_name(name: str) -> str:
    """A catalog name without the spaces of the printed table (二甲双胍恩格列净片(Ⅰ))."""
    name = re.sub(r"\s+(?=[Ⅰ-Ⅻ])", "", name.strip())
    return re.sub(r"([（(])\s+", r"\1", name)


def name_lists(xlsx: Path) -> dict[str, list[str]]:
    """Cells of the official table that list several names, one per line, by flat-table text.

    The flat table joined a cell's lines (二甲双胍 / 二甲双胍Ⅱ → 二甲双胍二甲双胍Ⅱ). A cell
    lists names when every further line starts like the first (a drug and its variants);
    other line breaks only wrap a long name.
    """
    from openpyxl import load_workbook

    found: dict[str, list[str]] = {}
    book = load_workbook(xlsx, read_only=True)
    for sheet in book:
        for row in sheet.iter_rows(values_only=True):
            for cell in row:
                if not isinstance(cell, str) or "\n" not in cell or len(cell) > 80:
                    continue
                lines = [line.strip() for line in cell.split("\n") if line.strip()]
                if len(lines) > 1 and all(line[:2] == lines[0][:2] for line in lines[1:]):
                    for joined in ("".join(lines), " ".join(lines)):
                        found[re.sub(r"\s+", "", joined)] = [tidy_name(n) for n in lines]
    return found


def import_catalog(shared: Path) -> None:
    src = shared / "nrdl-2024" / "nrdl_2024_flat.csv"
    rows = read_csv(src)
    lists = name_lists(shared / "nrdl-2024" / "yao.xlsx")
    out = []
    for r in rows:
        names = lists.get(re.sub(r"\s+", "", r["name"])) or [tidy_name(r["name"])]
        prefix = PARTS[r["part"]]
        m = re.fullmatch(r"★[（(](\d+)[）)]", r["no"])
        number = m[1] if m else r["no"]
        valid = ""
        if r["validity"]:
            start, end = r["validity"].split("至")
            valid = f"{cn_date(start)}/{cn_date(end)}"
        out.append(
            {
                "number": f"{prefix}-{int(number)}",
                "name": names[0],
                "other_names": ";".join(names[1:]),
                "dosage_form": r["dosage_form"].strip(),
                "category": r["class"],
                "part": r["part"],
                "classification_code": r["category_code"],
                "classification_path": r["category_path"],
                "additional_form": "yes" if r["is_repeat_row"] == "1" else "no",
                "payment_standard": r["payment_standard"].strip(),
                "remark": r["remark"].strip(),
                "agreement_valid": valid,
            }
        )
    write_csv(OUT / "catalogs" / "nrdl-2024-items.csv", ITEM_HEADER, out)
    numbers = {o["number"] for o in out if o["additional_form"] == "no"}
    print(f"catalog: {len(out)} rows, {len(numbers)} numbered drugs")


def main(argv: list[str]) -> int:
    shared = Path(argv[1] if len(argv) > 1 else "../shared/data").resolve()
    import_regions(shared)
    import_institutions(shared)
    import_catalog(shared)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
