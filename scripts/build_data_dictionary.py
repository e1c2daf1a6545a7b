"""Rebuild docs/data-dictionary.md from kzcourse/data/datapackage.json (the one source of the schema).

Run: python scripts/build_data_dictionary.py   (a test fails when the file is out of date)
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render() -> str:
    package = json.loads((ROOT / "kzcourse" / "data" / "datapackage.json").read_text(encoding="utf-8"))
    out = [
        "# Data dictionary",
        "",
        "Generated from `kzcourse/data/datapackage.json` by `scripts/build_data_dictionary.py`; do not edit by hand.",
        "",
        package["description"],
        "",
        "Citations: a `cite` field holds one or more citations separated by `;` — a paragraph id of the seed",
        "article (`P1`–`P38`) or a `source_id` of `sources.csv`. `kzcourse.data.resolve(cite)` turns them into",
        "readable references. Empty cells mean *unknown / not applicable*; loaders give `\"\"`, `NaT` or `<NA>`.",
        "",
    ]
    for res in package["resources"]:
        schema = res["schema"]
        out += [f"## `{res['name']}` — `{res['path']}`", "", res["description"], ""]
        out.append(f"Primary key: `{schema['primaryKey']}`.")
        for fk in schema.get("foreignKeys", []):
            out.append(f"Foreign key: `{fk['fields']}` → `{fk['reference']['resource']}.{fk['reference']['fields']}`.")
        out += ["", "| field | type | required | description |", "|---|---|---|---|"]
        for f in schema["fields"]:
            cons = f.get("constraints", {})
            extra = []
            if "pattern" in cons:
                extra.append(f"pattern `{cons['pattern']}`")
            if "minimum" in cons or "maximum" in cons:
                extra.append(f"range {cons.get('minimum', '')}..{cons.get('maximum', '')}")
            desc = f.get("description", "") + (f" ({'; '.join(extra)})" if extra else "")
            out.append(f"| `{f['name']}` | {f.get('type', 'string')} | {'yes' if cons.get('required') else 'no'} | {desc} |")
        for f in schema["fields"]:
            vocab = f.get("x-vocabulary")
            if vocab:
                out += ["", f"Values of `{f['name']}`:", ""]
                out += [f"- `{value}` — {meaning}" for value, meaning in vocab.items()]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    target = ROOT / "docs" / "data-dictionary.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
