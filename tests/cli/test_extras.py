"""After `pip install clotsafe` without extras, a command that needs one says which to install.

Each command runs in a subprocess where only what a plain install brings can be imported: the
standard library, clotsafe and the distributions its base dependencies pull in (read from the
installed metadata). Any other import fails as it would without the extra. The command must end
with exit status 1, a sentence naming the extra and the pip command, and no traceback.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement

from clotsafe.cli import EXTRAS, _Commands, require_extra

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dvt-30-days.json"

# Runs clotsafe's CLI with a meta-path finder in front that refuses every top-level module not
# in ALLOWED (argv[1], comma-separated), exactly as a missing distribution would.
WRAPPER = """
import importlib.abc, importlib.machinery, os, sys, sysconfig
ALLOWED = set(sys.argv[1].split(",")) | set(sys.stdlib_module_names) | set(sys.modules)
STDLIB = [sysconfig.get_path("stdlib"), os.path.join(sysconfig.get_path("platstdlib"),
                                                     "lib-dynload")]
def in_stdlib(top):  # private stdlib modules (_sysconfigdata_...) are not in stdlib_module_names
    return importlib.machinery.PathFinder.find_spec(top, STDLIB) is not None
class NoExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in ALLOWED and not in_stdlib(top):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoExtras())
sys.argv = ["clotsafe", *sys.argv[2:]]
from clotsafe.cli import main
main()
"""


def _base_closure() -> set[str]:
    """The distributions `pip install clotsafe` brings: clotsafe's requirements without an
    extra marker, and theirs, recursively."""
    seen: set[str] = set()
    todo = ["clotsafe"]
    while todo:
        dist = metadata.distribution(todo.pop())
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            name = req.name.lower().replace("_", "-")
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def _allowed_modules() -> str:
    dists = _base_closure() | {"clotsafe"}
    tops = {"clotsafe"}
    for top, owners in metadata.packages_distributions().items():
        if any(o.lower().replace("_", "-") in dists for o in owners):
            tops.add(top)
    return ",".join(sorted(tops))


@pytest.fixture(scope="module")
def allowed() -> str:
    return _allowed_modules()


def _run_without_extras(allowed: str, args: list[str], tmp_path: Path) -> Any:
    env = {"PATH": "/usr/bin:/bin", "CLOTSAFE_DATA_DIR": str(tmp_path / "data"), "HOME": "/tmp"}
    return subprocess.run([sys.executable, "-c", WRAPPER, allowed, *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=tmp_path)  # fmt: skip


CASES = [
    (["serve", "--port", "8765"], "web", "clotsafe serve"),
    (["serve", "--no-demo"], "web", "clotsafe serve"),
    (["createclinic", "Harbour Massage", "--lead", "sam", "--password-stdin"], "web",
     "clotsafe createclinic"),
    (["fhir", "questionnaire"], "fhir", "clotsafe fhir questionnaire"),
    (["screen", "--fhir", str(EXAMPLE)], "fhir", "clotsafe screen"),
    (["bulk", "screen", "export", "--on", "2026-12-01", "--out", "out"], "bulk",
     "clotsafe bulk screen"),
    (["bulk", "screen", "export", "--on", "2026-12-01", "--out", "out", "--engine", "spark"],
     "bulk", "clotsafe bulk screen"),
    (["bulk", "export", "--fhir-server", "https://ehr.example.org/fhir", "--group", "g",
      "--client-id", "c", "--key", "key.json", "--out", "export"], "fhir",
     "clotsafe bulk export"),
    # commands of cli_api.py and cli_backup.py: the top-level group's safety net (or their own
    # require_extra call, which names the subcommand too)
    (["api-token", "create", "--user", "sam"], "web", "clotsafe api-token"),
    (["api-token", "list"], "web", "clotsafe api-token"),
    (["backup", "backup.file"], "web", "clotsafe backup"),
    (["restore", "export/backup.file"], "web", "clotsafe restore"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "extra", "command"), CASES, ids=lambda v: str(v))
def test_command_without_its_extra_names_the_extra(
    allowed: str, args: list[str], extra: str, command: str, tmp_path: Path
) -> None:
    """A plain install: the command stops with the pip command for its extra, no traceback."""
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "backup.file").write_bytes(b"")
    result = _run_without_extras(allowed, args, tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"error: `{command}" in result.stderr
    assert f"` needs the {extra} extra" in result.stderr
    assert f"pip install 'clotsafe[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_commands_of_the_plain_install_still_work(allowed: str, tmp_path: Path) -> None:
    """The blocker is not too strict: `screen` and `rules` run on the base dependencies alone."""
    result = _run_without_extras(allowed, ["screen", str(EXAMPLE)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("LEVEL: CLEARANCE REQUIRED")
    assert _run_without_extras(allowed, ["rules"], tmp_path).returncode == 0


def test_blocker_refuses_the_extras(allowed: str) -> None:
    """The web, FHIR and bulk modules are really outside what the subprocess may import."""
    tops = set(allowed.split(","))
    for modules in EXTRAS.values():
        assert not {m.partition(".")[0] for m in modules} & tops, modules
    assert "pydantic" in tops and "click" in tops


def test_a_missing_module_found_late_still_names_the_extra(monkeypatch: Any) -> None:
    """A command that imports an extra's module without calling require_extra first (the
    top-level group's safety net) ends in the same message, not a traceback."""
    group = _Commands("clotsafe")

    @group.command()
    def late() -> None:
        import duckdb  # noqa: F401

    monkeypatch.setitem(sys.modules, "duckdb", None)  # import fails: ModuleNotFoundError
    result = CliRunner().invoke(group, ["late"])
    assert result.exit_code == 1
    assert "`clotsafe late` needs the bulk extra" in result.stderr
    assert not isinstance(result.exception, ModuleNotFoundError)


def test_require_extra_passes_when_installed() -> None:
    """With the extra installed nothing happens (this venv has every extra)."""
    require_extra("web")
    require_extra("fhir", "fhir.resources")
