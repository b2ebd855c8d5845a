"""Detection report: precision and recall per cross-check rule, planted discrepancies against
the findings in the graph.

Run after `python bench/crosscheck.py --scale S` against the same instance (it regenerates the
planted truth, which is deterministic for the scale and seed, and reads the findings):

    python bench/crosscheck_detection.py --scale county

Without a graph, `--offline` runs the rules on the generated data in this process (no import,
no worker), which is what tests/unit/test_crosscheck.py asserts on.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from crosscheck import SEED, planted_truth, print_detection  # noqa: E402

from bangfu.settings import get_settings  # noqa: E402
from bangfu.vocabulary import HouseholdStatus, Schooling  # noqa: E402
from graph.client import get_graph  # noqa: E402
from graph.models import CheckedHousehold, CheckedMember, CheckedRecord  # noqa: E402
from graph.synthetic import Scale, generate  # noqa: E402
from graph.synthetic.department import department_files  # noqa: E402
from graph.synthetic.scales import AS_OF  # noqa: E402
from verification.report import detection  # noqa: E402
from verification.rules import CheckContext, check_households  # noqa: E402

_INCOMES = ("income_wage", "income_farm", "income_business", "income_transfer", "income_property")


def offline(scale: Scale, seed: int) -> None:
    planted: set[tuple[object, str]] = set()
    found: set[tuple[object, str]] = set()
    for batch in generate(scale, seed):
        hh = batch.tables["households"]
        if not hh:
            continue
        county = str(hh[0]["county_code"])
        line = get_settings().risk.monitoring_line(county, AS_OF.year)
        files = department_files(hh, batch.tables["persons"], line, seed=seed)
        planted |= files.planted
        records: dict[str, list[CheckedRecord]] = {}
        for source, rows in files.rows.items():
            for i, r in enumerate(rows):
                records.setdefault(str(r["national_id"]), []).append(
                    CheckedRecord(key=f"{source}:{i}", source=source, facts=dict(r))
                )
        members: dict[str, list[CheckedMember]] = {}
        for p in batch.tables["persons"]:
            members.setdefault(str(p["household_id"]), []).append(
                CheckedMember(
                    person_id=str(p["person_id"]),
                    birth_date=date.fromisoformat(str(p["birth_date"])),
                    disability_grade=int(str(p["disability_grade"])),
                    schooling=Schooling(str(p["schooling"])),
                    records=tuple(records.get(str(p["national_id"]), ())),
                )
            )
        households = [
            CheckedHousehold(
                household_id=str(h["household_id"]),
                village_code=str(h["village_code"]),
                status=HouseholdStatus(str(h["status"])),
                size=int(str(h["size"])),
                income_wage=float(str(h["income_wage"])),
                income_total=sum(float(str(h[k])) for k in _INCOMES),
                members=tuple(members.get(str(h["household_id"]), ())),
            )
            for h in hh
        ]
        ctx = CheckContext(as_of=AS_OF, income_line=line, sources_present=frozenset(files.rows))
        found |= {
            (f.rule, f.person_id or f.household_id)
            for f in check_households(households, {county: ctx})
        }
    print(f"{'rule':24} {'planted':>8} {'found':>8} {'precision':>10} {'recall':>8}")
    for d in detection(planted, found):  # type: ignore[arg-type]
        print(f"{d.rule.value:24} {d.planted:8d} {d.found:8d} {d.precision!s:>10} {d.recall!s:>8}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=[s.value for s in Scale], default="county")
    parser.add_argument("--offline", action="store_true", help="no graph: rules in this process")
    args = parser.parse_args()
    scale = Scale(args.scale)
    if args.offline:
        offline(scale, SEED)
        return
    truth, prefix = planted_truth(scale, SEED)
    print_detection(truth, get_graph(), prefix)


if __name__ == "__main__":
    main()
