"""Writing one benchmark run: report.json (everything), report.md (a table) and report.png."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from types import ModuleType

from harness import PYTHON


def machine(load_at_start: float) -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        "load_1m_start": load_at_start,
        "load_1m_end": os.getloadavg()[0],
        "python": platform.python_version(),
        "command": " ".join([Path(PYTHON).name, *sys.argv]),
    }


def markdown(report: dict, measures: list[ModuleType]) -> str:
    m = report["machine"]
    lines = [
        "# leanops benchmark",
        "",
        f"Measured {report['measured_at']} on {m['cpus']} cores, {m['memory_gib']:.0f} GiB, "
        f"load {m['load_1m_start']:.1f} -> {m['load_1m_end']:.1f} (1-min average), "
        f"Python {m['python']}; mode: {report['mode']}.",
        "",
        "| measure | value | goal | met |",
        "|---|---|---|---|",
    ]
    for measure in measures:
        for name, value, goal, met in measure.rows(report[measure.NAME]):
            shown = "" if met is None else ("yes" if met else "**no**")
            lines.append(f"| {name} | {value} | {goal} | {shown} |")
    lines += ["", "Ratios:", ""]
    lines += [f"- {k}: {'-' if v is None else f'{v:.3f}'}" for k, v in report["ratios"].items()]
    return "\n".join(lines) + "\n"


def plot(report: dict, measures: list[ModuleType], path: Path) -> None:
    """One panel per figure a measure can draw (measures with a `plot(result, *axes)`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawers = [(m, getattr(m, "PANELS", 1)) for m in measures if hasattr(m, "plot")]
    panels = sum(n for _, n in drawers) or 1
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4.5), squeeze=False)
    index = 0
    for measure, count in drawers:
        measure.plot(report[measure.NAME], *axes[0][index : index + count])
        index += count
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write(report: dict, measures: list[ModuleType], out: Path) -> list[Path]:
    report["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    paths = [out / "report.md", out / "report.json", out / "report.png"]
    paths[1].write_text(json.dumps(report, indent=2, default=str))
    paths[0].write_text(markdown(report, measures))
    plot(report, measures, paths[2])
    return paths
