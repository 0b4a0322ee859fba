"""How long a short command takes to start, beside the interpreter's own floors.

An analyst runs dozens of short commands (``sites list``, ``ledger verify``...); each pays
for the imports of the command line before doing any work. Measured here, each as a fresh
process, wall-clock, median of ``RUNS`` runs interleaved so that a change in the machine's
load hits every command alike:

- floors: ``python -c pass`` (the interpreter alone) and ``python -c "import rasterio"``
  (one library of the field, which most commands need anyway);
- ``sitewatch --version`` and ``sitewatch --help`` (targets: under 0.3 s);
- ``sitewatch sites list`` on a workspace holding the packaged DPRK reference sites
  (target: under 0.6 s; it opens the database and reads 48 sites).

Bytecode: sitewatch's modules are byte-compiled before the runs, as ``pip install``
does for a user; without that (an editable checkout run with PYTHONDONTWRITEBYTECODE set,
as on the development machine) every command recompiles the ~25 modules it loads from
source, about 0.06 s more per command.

Also counted: the modules each command imports (``python -X importtime`` would give the
same tree), a figure that does not depend on the machine's speed or load.

Run: .venv/bin/python benchmarks/cli_startup.py   (about a minute)
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sitewatch
from measure import machine, save_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "cli_startup.json"
RUNS = 15
SITEWATCH = str(Path(sys.executable).parent / "sitewatch")
TARGETS_S = {"sitewatch --version": 0.3, "sitewatch --help": 0.3, "sitewatch sites list": 0.6}


def commands(workspace: Path) -> dict[str, list[str]]:
    """Name -> argv of every command timed (floors first)."""
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import rasterio'": [sys.executable, "-c", "import rasterio"],
        "sitewatch --version": [SITEWATCH, "--version"],
        "sitewatch --help": [SITEWATCH, "--help"],
        "sitewatch sites list": [SITEWATCH, "--workspace", str(workspace), "sites", "list"],
    }


def modules_loaded(argv: list[str]) -> int:
    """How many modules a sitewatch command imports (run in-process under a counter)."""
    probe = (
        "import sys\n"
        "from sitewatch.cli.main import app\n"
        "from typer.testing import CliRunner\n"
        f"CliRunner().invoke(app, {argv!r})\n"
        "print(len(sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    compileall.compile_dir(Path(sitewatch.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "ws"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_")}
        subprocess.run(
            [SITEWATCH, "init", str(workspace)], env=env, check=True, capture_output=True
        )
        subprocess.run(
            [SITEWATCH, "--workspace", str(workspace), "sites", "import", "--reference", "dprk"],
            env=env,
            check=True,
            capture_output=True,
        )
        timed = commands(workspace)
        seconds: dict[str, list[float]] = {name: [] for name in timed}
        for _ in range(RUNS):
            for name, argv in timed.items():
                start = time.perf_counter()
                subprocess.run(argv, env=env, check=True, capture_output=True)
                seconds[name].append(time.perf_counter() - start)
        module_counts = {
            name: modules_loaded(argv[1:])
            for name, argv in timed.items()
            if name.startswith("sitewatch")
        }

    rows = []
    print(f"{'command':32} {'median s':>9} {'min s':>7} {'target s':>9} {'modules':>8}")
    for name, values in seconds.items():
        row = {
            "command": name,
            "median_s": round(statistics.median(values), 4),
            "min_s": round(min(values), 4),
            "target_s": TARGETS_S.get(name),
            "modules": module_counts.get(name),
        }
        rows.append(row)
        target = f"{row['target_s']:.1f}" if row["target_s"] else "floor"
        print(
            f"{name:32} {row['median_s']:9.3f} {row['min_s']:7.3f} {target:>9} "
            f"{row['modules'] or '':>8}"
        )
    save_results(
        RESULTS,
        {
            "benchmark": "cli_startup",
            "date": datetime.now(UTC).date().isoformat(),
            "machine": machine(runs=RUNS),
            "bytecode": "sitewatch byte-compiled before timing (compileall), as pip install does",
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
