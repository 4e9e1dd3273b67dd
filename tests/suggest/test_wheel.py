"""The built wheel carries the presets and the sandbox seed: installed into a fresh virtual environment and run
away from the checkout, ``mapping suggest`` still recognises a LeadSquared export."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from importer.suggest.suggester import PRESETS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DATA = ["importer/sandbox/default_seed.yaml", *(f"importer/suggest/presets/{name}.yaml" for name in PRESETS)]
#: What a build reads or writes besides the sources; left out of the copy that is built.
NOT_COPIED = shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "build", "dist", "reports", "benchmarks",
                                    "tests")


def run(*command: str | Path, cwd: Path) -> str:
    """Run ``command`` in ``cwd`` without the checkout on PYTHONPATH; its stdout, or a failure showing stderr."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_isolation() -> list[str]:
    """``--no-build-isolation`` when the installed build backend meets [build-system].requires (nothing to
    download); otherwise pip fetches it into an isolated build environment, as ``pip install -e .`` did."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in map(Requirement, pyproject["build-system"]["requires"]):
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            return []
        if not requirement.specifier.contains(installed, prereleases=True):
            return []
    return ["--no-build-isolation"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the project (a build writes build/ and *.egg-info into the folder it builds)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "project"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_COPIED)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", *build_isolation(), "-w", tmp / "dist", source, cwd=tmp)
    (built,) = (tmp / "dist").glob("superfone_importer-*.whl")
    return built


def see_running_environment(python: Path, cwd: Path) -> None:
    """When the tests run in a virtual environment of their own (the README's set-up), the dependencies are there,
    not in the system's site-packages: a .pth line adds that folder (a plain path, so its own .pth files — the
    checkout's editable install among them — are not read, and the project still comes from the wheel)."""
    import sysconfig

    if sys.prefix == sys.base_prefix:
        return
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=cwd).strip())
    folders = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "_running_environment.pth").write_text("".join(f"{folder}\n" for folder in folders), encoding="utf-8")


def test_wheel_holds_the_presets_and_the_seed(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert set(PACKAGE_DATA) <= names


def test_installed_wheel_recognises_a_preset_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    venv, outside = tmp_path / "venv", tmp_path / "elsewhere"
    outside.mkdir()
    assert not outside.is_relative_to(ROOT)
    # System site-packages provide the dependencies (nothing to download) and pip; the project comes from the wheel.
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv, cwd=outside)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    see_running_environment(python, outside)
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=outside)

    where = run(python, "-c", "import sysconfig, importer, importer.sandbox as s; "
                "print(sysconfig.get_path('purelib'), importer.__file__, s.default_seed_path(), sep='\\n')",
                cwd=outside)
    site_packages, package, seed = map(Path, where.splitlines())
    assert Path(package).is_relative_to(site_packages) and not Path(package).is_relative_to(ROOT)
    assert seed.is_relative_to(site_packages) and seed.is_file()

    sheet = shutil.copy(ROOT / "sample_data" / "leadsquared_leads.csv", outside / "export.csv")
    suggested = run(bin_dir / "superfone-import", "mapping", "suggest", sheet, cwd=outside)
    assert "# Recognised preset 'leadsquared' (100% of its columns are present):" in suggested
