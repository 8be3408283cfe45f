"""The CI workflow and the pre-commit hooks: actionlint finds nothing in the workflow (and does
find a planted mistake), and every local pre-commit hook runs cleanly on the files it matches."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from leanops_assets.settings import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = REPO_ROOT / "scripts" / "services" / "actionlint.sh"


def _actionlint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ACTIONLINT), *map(str, files)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_workflows_pass_actionlint():
    assert WORKFLOWS, "no workflow under .github/workflows"
    done = _actionlint(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout: 3\n"
        "    steps:\n      - run: echo ${{ github.no_such_property }}\n"
    )
    done = _actionlint(broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'unexpected key "timeout"' in done.stdout
    assert "no_such_property" in done.stdout


def test_ci_runs_make_test_with_python_311_and_java_17_and_lints_the_dockerfile():
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    runs = "\n".join(s.get("run", "") for s in steps)
    uses = {s["uses"].split("@")[0]: s.get("with", {}) for s in steps if "uses" in s}
    assert "make test" in runs
    assert "hadolint Dockerfile" in runs
    assert uses["actions/setup-python"]["python-version"] == "3.11"
    assert uses["actions/setup-java"]["java-version"] == "17"


def _tracked(pattern: str, types: list[str]) -> list[str]:
    files = subprocess.run(
        ["git", "ls-files", "--cached"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if types:
        files = [f for f in files if f.endswith((".py", ".pyi"))]
    return [f for f in files if re.search(pattern, f) and (REPO_ROOT / f).exists()]


HOOKS = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())["repos"]


@pytest.mark.parametrize("hook", [h for r in HOOKS for h in r["hooks"]], ids=lambda h: h["id"])
def test_pre_commit_hook_runs_clean(hook):
    """What `pre-commit run --all-files` would do for the hook (check mode for the formatter)."""
    assert all(r["repo"] == "local" for r in HOOKS)
    assert hook["language"] == "system"
    files = _tracked(hook.get("files", ""), hook.get("types_or", []))
    assert files, f"hook {hook['id']} matches no file"
    entry = shlex.split(hook["entry"])
    if hook["id"] == "ruff-format":
        entry.append("--check")
    done = subprocess.run(
        [*entry, *files], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{hook['id']}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
