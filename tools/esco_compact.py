#!/usr/bin/env python3
"""esco_compact.py - cut the compact ESCO subset jobmatch ships (data/esco/).

A developer tool, run once by hand when the ESCO version changes; it is NOT
part of the build and nothing runs it at build or run time. The product reads
only its output, so it runs without the full ESCO export. Python 3 standard
library only.

Input: the ESCO v1.1.1 English CSV export (occupations_en.csv, skills_en.csv,
occupationSkillRelations.csv, ISCOGroups_en.csv; see /work/shared/data/
README.md section 1 for origin and licence: CC BY 4.0, "This service uses the
ESCO classification of the European Commission."). Those CSVs hold quoted
multi-line fields, so they go through the csv module, never line splitting.

Output (UTF-8, '\\n' line ends, no header lines; "row" = 0-based line number):
  skills.tsv             uuid TAB type TAB label      (type S, K or empty)
  occupations.tsv        uuid TAB isco_code TAB label
  occupation_skills.tsv  occupation_row TAB essential rows TAB optional rows
  isco_groups.tsv        code TAB label               (all ISCO-08 levels)
The uuid files are sorted by uuid (byte order) so the C loader can binary
search them; row lists are ascending, comma-separated skills.tsv rows.
The C loader (common/src/esco.c) checks all of that when it loads them.

Usage: tools/esco_compact.py [--src DIR] [--out DIR]
"""

import argparse
import csv
import os
import re
import sys

SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
OCCUPATION_PREFIX = "http://data.europa.eu/esco/occupation/"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SKILL_TYPES = {"skill/competence": "S", "knowledge": "K", "": ""}
RELATION_TYPES = ("essential", "optional")


def die(msg):
    sys.exit("esco_compact: " + msg)


def rows(src, name):
    """Yields dicts for each record of one ESCO CSV (header row required)."""
    path = os.path.join(src, name)
    with open(path, newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def uuid_of(uri, prefix, where):
    """The uuid part of an ESCO URI; dies on anything else (exact match)."""
    if not uri.startswith(prefix) or not UUID_RE.fullmatch(uri[len(prefix):]):
        die(f"{where}: unexpected URI {uri!r}")
    return uri[len(prefix):]


def clean(label, counter):
    """One-line label: tabs and line breaks would break the TSV format, and
    the stray trailing, doubled and no-break spaces some ESCO labels carry
    would show in every UI; str.split() treats all of those as blanks."""
    out = " ".join(label.split())
    if out != label:
        counter[0] += 1
    if not out:
        die(f"empty label {label!r}")
    return out


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default="/work/shared/data/esco_v1.1.1_en")
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "esco"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cleaned = [0]

    # ISCO-08: all four levels (619 rows) are cheap, and the 1-3 digit labels
    # let a UI say "Health professionals" for a whole branch.
    isco = {}
    for r in rows(args.src, "ISCOGroups_en.csv"):
        code = r["code"]
        if not re.fullmatch(r"[0-9]{1,4}", code) or code in isco:
            die(f"ISCOGroups_en.csv: bad or duplicate code {code!r}")
        if r["status"] != "released":
            continue
        isco[code] = clean(r["preferredLabel"], cleaned)
    isco_units = sum(1 for c in isco if len(c) == 4)

    # Skills: keep released concepts; the type letter comes from skillType.
    skills = {}
    skill_status = {}
    for r in rows(args.src, "skills_en.csv"):
        uuid = uuid_of(r["conceptUri"], SKILL_PREFIX, "skills_en.csv")
        skill_status[r["status"]] = skill_status.get(r["status"], 0) + 1
        if r["status"] != "released":
            continue
        if uuid in skills or r["skillType"] not in SKILL_TYPES:
            die(f"skills_en.csv: duplicate uuid or bad type for {uuid}")
        skills[uuid] = (SKILL_TYPES[r["skillType"]],
                        clean(r["preferredLabel"], cleaned))

    # Occupations: released only, and their ISCO unit group must exist.
    occupations = {}
    occ_status = {}
    for r in rows(args.src, "occupations_en.csv"):
        uuid = uuid_of(r["conceptUri"], OCCUPATION_PREFIX, "occupations_en.csv")
        occ_status[r["status"]] = occ_status.get(r["status"], 0) + 1
        if r["status"] != "released":
            continue
        code = r["iscoGroup"]
        if uuid in occupations or len(code) != 4 or code not in isco:
            die(f"occupations_en.csv: duplicate uuid or bad ISCO for {uuid}")
        occupations[uuid] = (code, clean(r["preferredLabel"], cleaned))

    skill_uuids = sorted(skills)
    occ_uuids = sorted(occupations)
    skill_row = {u: i for i, u in enumerate(skill_uuids)}
    occ_row = {u: i for i, u in enumerate(occ_uuids)}

    # Relations, as row numbers. A relation whose occupation or skill was not
    # kept is dropped and counted (ESCO 1.1.1 has one such occupation URI).
    links = [(set(), set()) for _ in occ_uuids]
    kept = {t: 0 for t in RELATION_TYPES}
    dropped = 0
    dropped_occs = set()
    for r in rows(args.src, "occupationSkillRelations.csv"):
        occ = uuid_of(r["occupationUri"], OCCUPATION_PREFIX, "relations")
        skill = uuid_of(r["skillUri"], SKILL_PREFIX, "relations")
        kind = r["relationType"]
        if kind not in RELATION_TYPES:
            die(f"relations: bad relationType {kind!r}")
        if occ not in occ_row or skill not in skill_row:
            dropped += 1
            if occ not in occ_row:
                dropped_occs.add(occ)
            continue
        pair = links[occ_row[occ]]
        if skill_row[skill] in pair[0] or skill_row[skill] in pair[1]:
            die(f"relations: {occ} lists skill {skill} twice")
        pair[RELATION_TYPES.index(kind)].add(skill_row[skill])
        kept[kind] += 1

    write_lines(os.path.join(args.out, "skills.tsv"),
                (f"{u}\t{skills[u][0]}\t{skills[u][1]}" for u in skill_uuids))
    write_lines(os.path.join(args.out, "occupations.tsv"),
                (f"{u}\t{occupations[u][0]}\t{occupations[u][1]}"
                 for u in occ_uuids))
    write_lines(os.path.join(args.out, "occupation_skills.tsv"),
                (f"{i}\t{','.join(map(str, sorted(e)))}\t"
                 f"{','.join(map(str, sorted(o)))}"
                 for i, (e, o) in enumerate(links)))
    write_lines(os.path.join(args.out, "isco_groups.tsv"),
                (f"{c}\t{isco[c]}" for c in sorted(isco)))

    total = 0
    for name in ("skills.tsv", "occupations.tsv", "occupation_skills.tsv",
                 "isco_groups.tsv"):
        size = os.path.getsize(os.path.join(args.out, name))
        total += size
        print(f"{name:24} {size:>10,} bytes")
    print(f"{'total':24} {total:>10,} bytes")
    print(f"skills:      {len(skills):,} kept (status {skill_status}); "
          f"S {sum(1 for t, _ in skills.values() if t == 'S'):,}, "
          f"K {sum(1 for t, _ in skills.values() if t == 'K'):,}, "
          f"no type {sum(1 for t, _ in skills.values() if not t):,}")
    print(f"occupations: {len(occupations):,} kept (status {occ_status})")
    print(f"isco groups: {len(isco):,} ({isco_units} unit groups)")
    print(f"relations:   {kept['essential']:,} essential, "
          f"{kept['optional']:,} optional kept; {dropped:,} dropped "
          f"({len(dropped_occs)} unknown occupation(s): "
          f"{', '.join(sorted(dropped_occs))})")
    print(f"occupations without essential skills: "
          f"{sum(1 for e, _ in links if not e)}")
    print(f"labels whitespace-normalised: {cleaned[0]}")


if __name__ == "__main__":
    main()
