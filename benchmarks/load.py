"""Load: `import leanops_assets.definitions` vs `import dagster` in fresh processes, and which
heavy libraries load with the code location (they should load only in the runs that use them)."""

from __future__ import annotations

import json
import re
import subprocess

from harness import GOALS, PYTHON, REPO, Bench, median

NAME = "load"
GOAL = GOALS["load_ratio_at_most"]
HEAVY_MODULES = (
    "pyspark",
    "dagster_pyspark",
    "great_expectations",
    "mlflow",
    "evidently",
    "sklearn",
    "optuna",
    "matplotlib",
    "pandas",
    "pyarrow",
)
# Loaded with the definitions on purpose: dagster-pyspark's resource type imports pyspark.
EXPECTED_AT_LOAD = {"pyspark", "dagster_pyspark"}


def _python(code: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, *code], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )


def _import_seconds(statement: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    return float(_python(["-c", code], env).stdout.strip().splitlines()[-1])


def measure_load(env: dict[str, str], repeats: int) -> dict:
    samples: dict[str, list[float]] = {"dagster": [], "definitions": []}
    for _ in range(repeats):
        samples["dagster"].append(_import_seconds("import dagster", env))
        samples["definitions"].append(_import_seconds("import leanops_assets.definitions", env))
    dagster_s, defs_s = median(samples["dagster"]), median(samples["definitions"])

    trace = _python(["-X", "importtime", "-c", "import leanops_assets.definitions"], env).stderr
    by_package: dict[str, float] = {}
    line = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
    for match in line.finditer(trace):
        top = match[4].split(".")[0]
        by_package[top] = by_package.get(top, 0.0) + int(match[1]) / 1e6
    top_packages = dict(sorted(by_package.items(), key=lambda kv: -kv[1])[:15])

    probe = (
        "import sys, json; import leanops_assets.definitions; "
        f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY_MODULES)!r}}}))"
    )
    loaded = json.loads(_python(["-c", probe], env).stdout.strip().splitlines()[-1])
    return {
        "repeats": repeats,
        "import_dagster_seconds": dagster_s,
        "import_definitions_seconds": defs_s,
        "ratio": defs_s / dagster_s,
        "goal_at_most": GOAL,
        "met": defs_s / dagster_s <= GOAL,
        "samples": samples,
        "self_seconds_by_package": {k: round(v, 4) for k, v in top_packages.items()},
        "heavy_modules_loaded": loaded,
        "heavy_modules_expected_at_load": sorted(EXPECTED_AT_LOAD),
    }


def run(bench: Bench, report: dict) -> dict:
    return measure_load(bench.env, 1 if bench.args.quick else max(bench.args.repeats, 5))


def summary(load: dict) -> str:
    return (
        f"[load] definitions {load['import_definitions_seconds']:.2f} s vs dagster "
        f"{load['import_dagster_seconds']:.2f} s, ratio {load['ratio']:.2f} (goal <= {GOAL}: "
        f"{'met' if load['met'] else 'NOT MET'})"
    )


def rows(load: dict) -> list[tuple]:
    heavy = [m for m, present in load["heavy_modules_loaded"].items() if present]
    return [
        (
            "load: import leanops_assets.definitions / import dagster",
            f"{load['ratio']:.2f} ({load['import_definitions_seconds']:.2f} s vs "
            f"{load['import_dagster_seconds']:.2f} s)",
            f"<= {GOAL}",
            load["met"],
        ),
        (
            "load: heavy modules imported at load",
            ", ".join(heavy) or "none",
            "only " + ", ".join(sorted(EXPECTED_AT_LOAD)),
            set(heavy) <= EXPECTED_AT_LOAD,
        ),
    ]


def ratios(load: dict) -> dict:
    return {"load_definitions_over_dagster": load["ratio"]}
