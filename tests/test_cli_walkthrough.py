"""The README's walkthrough runs as written: every line, in a scratch folder, through the shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    return readme.split("### Walkthrough", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]


def test_readme_walkthrough_runs_as_written(tmp_path):
    (tmp_path / "seeds").symlink_to(ROOT / "seeds")
    script = tmp_path / "walkthrough.sh"
    script.write_text(walkthrough(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    result = subprocess.run(["bash", "-e", "-o", "pipefail", str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "copy cluster 2" not in out or "article 3 detached from copy cluster 2" in out
    assert "copies?" in out and "Nearest archived articles" in out
    assert "a reworked version, not a reprint" in out
    assert "no change: the clusters already match" in out
    assert "refused by the database, archive unchanged" in out
    assert "attempt to write a readonly database" in result.stderr
    assert len((tmp_path / "clusters.csv").read_text("utf-8").splitlines()) == 5  # header + 4 clusters
    assert (tmp_path / "walkthrough" / "archive.db").exists()
