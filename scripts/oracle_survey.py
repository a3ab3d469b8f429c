"""Summarise an oracle survey: every kind of disagreement, how often, the smallest scenario.

    ORACLE_SURVEY=/tmp/survey.jsonl ORACLE_SCENARIOS=400 python -m pytest tests/test_oracle.py
    python scripts/oracle_survey.py /tmp/survey.jsonl [--examples]

With ORACLE_SURVEY set, tests/test_oracle.py records each checkpoint's disagreements (and each
scenario's cost) instead of failing at the first, so one run shows every kind at once.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter, defaultdict


def main(path: str, examples: bool) -> None:
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    costs = [r for r in rows if "seconds" in r]
    for backend in sorted({r["backend"] for r in costs}):
        mine = [r for r in costs if r["backend"] == backend]
        print(f"{backend}: {len(mine)} scenarios, {statistics.mean(r['seconds'] for r in mine):.2f}"
              f" s wall and {statistics.mean(r['cpu'] for r in mine):.2f} s CPU each, "
              f"{statistics.mean(r['sweeps'] for r in mine):.1f} sweeps")
    checkpoints: Counter = Counter()
    scenarios: dict[str, set] = defaultdict(set)
    smallest: dict[str, tuple] = {}
    for row in (r for r in rows if "found" in r):
        for kind, detail in {tuple(f) for f in row["found"]}:
            checkpoints[kind] += 1
            scenarios[kind].add(row["scenario"])
            if kind not in smallest or len(row["scenario"]) < len(smallest[kind][0]):
                smallest[kind] = (row["scenario"], row["where"], detail)
    print("checkpoints scenarios  kind")
    for kind, count in checkpoints.most_common():
        print(f"{count:11d} {len(scenarios[kind]):9d}  {kind}")
    if examples:
        for kind, (scenario, where, detail) in sorted(smallest.items()):
            print(f"\n== {kind}\n   at {where}: {detail}\n{scenario}")


if __name__ == "__main__":
    main(sys.argv[1], "--examples" in sys.argv[2:])
