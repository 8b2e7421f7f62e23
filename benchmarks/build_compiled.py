"""Build the batch's compiled evaluator with mypyc (optional; clotsafe is pure Python without it).

    .venv/bin/python benchmarks/build_compiled.py          # needs mypy (mypyc) and a C compiler
    .venv/bin/python benchmarks/build_compiled.py --clean  # remove what it built

Compiles copies of ``src/clotsafe/calculators/caprini_fast.py`` and
``src/clotsafe/rules/fastrules.py`` into ``_caprini_fast_c*.so`` and ``_fastrules_c*.so``
beside them. Distinct names, so a compiled module never shadows the source it came from; each
records the sha256 of both sources (``COMPILED_FROM``), and ``rules/fastbatch.py`` uses the
compiled evaluator only while that matches the sources as they are (edit either file and the
batch is pure Python again until the next build; ``clotsafe screen --batch --stats`` counts
``native``). ``CLOTSAFE_PURE_PYTHON=1`` switches it off. The copies and the C sources go to a
temporary directory; only the ``.so`` files stay (they are build products: not committed).

Without mypyc or a C compiler this says so and builds nothing; nothing else changes. The
package's own build (pyproject.toml) does not run this.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
#: (source, compiled copy) relative to src/, in build order
COPIES = (
    ("clotsafe/calculators/caprini_fast.py", "clotsafe/calculators/_caprini_fast_c.py"),
    ("clotsafe/rules/fastrules.py", "clotsafe/rules/_fastrules_c.py"),
)
#: the evaluator's copy reads Caprini from Caprini's copy
IMPORT = "from clotsafe.calculators import caprini_fast\n"
IMPORT_C = "from clotsafe.calculators import _caprini_fast_c as caprini_fast\n"


def built() -> list[Path]:
    return [p for _, copy in COPIES for p in (SRC / copy).parent.glob(Path(copy).stem + "*.so")]


def write_copies(stamp: str) -> None:
    for source, copy in COPIES:
        text = (SRC / source).read_text("utf-8").replace(IMPORT, IMPORT_C)
        (SRC / copy).write_text(f'{text}\n\nCOMPILED_FROM = "{stamp}"\n', "utf-8")


def build() -> int:
    try:
        from mypyc.build import mypycify
        from setuptools import setup
    except ImportError as exc:
        print(f"not built, clotsafe stays pure Python: {exc}", file=sys.stderr)
        return 1
    sys.path.insert(0, str(SRC))  # the package beside this script, whatever is installed
    from clotsafe.rules.fastbatch import sources_hash

    for old in built():
        old.unlink()
    write_copies(sources_hash())
    tmp = tempfile.mkdtemp(prefix="clotsafe-mypyc-")
    cwd = os.getcwd()
    os.chdir(SRC)  # module names from the paths; no pyproject.toml read here
    try:
        os.environ.setdefault("MYPYPATH", str(SRC))
        exts = [e for _, copy in COPIES for e in mypycify([copy], opt_level="3", target_dir=tmp)]
        setup(
            name="clotsafe-compiled",
            ext_modules=exts,
            script_args=["build_ext", "--inplace", "--build-temp", tmp, "--build-lib", tmp],
        )
    except (SystemExit, Exception) as exc:  # a failed compile leaves pure Python
        print(f"not built, clotsafe stays pure Python: {exc}", file=sys.stderr)
        for old in built():
            old.unlink()
        return 1
    finally:
        os.chdir(cwd)
        for _, copy in COPIES:
            (SRC / copy).unlink(missing_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print("built:", *[str(p.relative_to(SRC)) for p in built()], sep="\n  ")
    return 0


def main() -> int:
    if "--clean" in sys.argv:
        for old in built():
            old.unlink()
            print("removed", old.relative_to(SRC))
        return 0
    return build()


if __name__ == "__main__":
    raise SystemExit(main())
