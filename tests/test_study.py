"""The study runner: order, logging, the failure path, progress; where each profile's results go."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest

from magvit import study
from magvit.infra import paths, results
from magvit.infra.paths import REPO_ROOT

nbformat = pytest.importorskip("nbformat")  # running notebooks needs the Jupyter stack; the GPU image lacks it


def write_notebook(path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("profile = None\nseed = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_failing_notebook_stops_with_its_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path / "results"))
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "01_fine.ipynb", "print('profile', profile, 'seed', seed)")
    write_notebook(nbs / "02_broken.ipynb", "raise RuntimeError('the tokenizer exploded')")
    write_notebook(nbs / "03_never.ipynb", "print('unreachable')")
    code = study.main(["--profile", "smoke", "--seed", "3", "--notebooks-dir", str(nbs)])
    err = capsys.readouterr().err
    assert code == 1
    assert "02_broken.ipynb" in err and "the tokenizer exploded" in err
    assert str(tmp_path / "results" / "notebooks" / "02_broken.ipynb") in err
    log = pd.read_csv(tmp_path / "results" / "study_log.csv")
    assert list(log["notebook"]) == ["01_fine.ipynb", "02_broken.ipynb"]
    assert list(log["status"]) == ["ok", "failed"] and set(log["seed"]) == {3}
    executed = nbformat.read(tmp_path / "results" / "notebooks" / "01_fine.ipynb", as_version=4)
    assert "profile smoke seed 3" in executed.cells[-1].outputs[0]["text"]


def test_unknown_profile_and_notebook_number(tmp_path, capsys):
    assert study.main(["--profile", "laptop"]) == 1
    assert "unknown profile 'laptop'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no notebook numbered"):
        study.find_notebooks(["99"])


def test_status_line_shows_notebook_cell_and_training_progress_without_tcp_warning(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(study, "LOG_EVERY_S", 0.0)  # a piped log line for every update
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "01_train.ipynb", "from tqdm import tqdm\nimport time\n"
                   "bar = tqdm(range(3), desc='toy', mininterval=0, bar_format=" + repr(BAR) + ")\n"
                   "for i in bar:\n    bar.set_postfix(loss=0.5 / (i + 1))\n    time.sleep(0.05)")
    log = io.StringIO()  # not a terminal: whole lines, as in CI or `make reproduce > log`
    study.run_study("smoke", 0, notebooks_dir=nbs, stream=log)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("[1/1] 01_train.ipynb cell 0/3")
    progress = [line for line in lines if "toy: step 3/3" in line]
    assert progress and progress[-1].startswith("[1/1] 01_train.ipynb cell 3/3 "), lines
    assert "loss=0.167" in progress[-1]
    assert lines[-1].startswith("[1/1] 01_train.ipynb ok in ")
    captured = capfd.readouterr()  # the kernel's own stderr reaches the terminal through this fd
    assert "eavesdropping" not in captured.err + captured.out


BAR = "{desc}: step {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"  # as magvit.infra.train.fit


def test_a_smoke_run_by_hand_leaves_the_committed_results_alone(tmp_path):
    """The README's `papermill notebooks/NN.ipynb out.ipynb -p profile smoke`, without $MAGVIT_RESULTS:
    its results go to results/smoke/ and no tracked file under results/ changes."""
    results = REPO_ROOT / "results"
    tracked = tracked_files(results)
    assert tracked, "no tracked files under results/ to protect"
    before = {path: path.read_bytes() for path in tracked}
    smoke = results / "smoke"
    had_smoke = smoke.exists()
    env = {k: v for k, v in os.environ.items() if k not in ("MAGVIT_RESULTS", "MAGVIT_PROFILE")}
    env["MAGVIT_CACHE"] = str(tmp_path / "cache")
    try:
        started = time.time()
        subprocess.run([sys.executable, "-m", "papermill", str(REPO_ROOT / "notebooks" / "00_overview.ipynb"),
                        str(tmp_path / "out.ipynb"), "-p", "profile", "smoke"], env=env, check=True,
                       capture_output=True, cwd=tmp_path)
        machine = pd.read_csv(smoke / "machine.csv")
        assert set(machine["profile"]) == {"smoke"}
        assert (smoke / "figures" / "00_matmul_peak.png").stat().st_mtime >= started
        changed = [str(p.relative_to(REPO_ROOT)) for p in tracked if not p.exists() or p.read_bytes() != before[p]]
        assert not changed, f"a smoke run changed tracked results: {changed}"
    finally:
        if not had_smoke:
            shutil.rmtree(smoke, ignore_errors=True)


def tracked_files(folder):
    """The files git tracks under ``folder`` (every file there outside a profile's folder without git)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--", str(folder)], cwd=REPO_ROOT, check=True,
                             capture_output=True).stdout.decode()
        return [REPO_ROOT / name for name in out.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        own = {folder / name for name in ("smoke", "gpu", "paper_run")}
        return [p for p in folder.rglob("*") if p.is_file() and not any(d in p.parents for d in own)]


@pytest.mark.parametrize(("profile", "where"), [("cpu", "results"), ("smoke", "results/smoke"),
                                                 ("gpu", "results/gpu"), ("paper", "results/paper_run")])
def test_results_layout(profile, where, monkeypatch, tmp_path):
    monkeypatch.delenv("MAGVIT_RESULTS", raising=False)
    assert paths.results_dir(profile) == REPO_ROOT / where
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path))
    assert paths.results_dir(profile) == tmp_path


@pytest.mark.parametrize("bad", ["", None, "../cpu", "a/b", ".hidden"])
def test_results_dir_refuses_names_that_are_no_folder(bad):
    with pytest.raises(ValueError, match="profile name"):
        paths.results_dir(bad)


def test_checked_output_has_no_signed_zero_and_no_noise():
    df = pd.DataFrame({"name": ["a", "b"], "value": [-1e-17, 0.1 + 0.2], "n": [1, 2], "ok": [True, False]})
    printed = results.checked(df, 6).to_string(index=False)
    assert "-0.0" not in printed and "0.3 " in printed + " " and "0.30000000000000004" not in printed
    assert list(results.checked(df, 6)["n"]) == [1, 2]  # integers and booleans untouched


def test_status_keeps_the_progress_bar_over_a_later_warning(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    status = study.Status(2, term)
    status.notebook_start(2, tmp_path / "05_decoding.ipynb", code_cells=4)
    status.cell_start()
    status.kernel_output("\rtransformer: step 20/300 [00:40<09:20, 2.00s/it, loss=4.17]")
    status.kernel_output("/x/frechet.py:51: LinAlgWarning: singular\n  covmean = sqrtm(s)\n")
    assert status.line().startswith("[2/2] 05_decoding.ipynb cell 1/4 ")
    assert status.line().endswith("| transformer: step 20/300 [00:40<09:20, 2.00s/it, loss=4.17]")
    status.cell_start()  # a new cell forgets the old bar, shows plain output
    status.kernel_output("wrote table6_decoding.csv\n")
    assert status.line().endswith("cell 2/4 00:00:00 | wrote table6_decoding.csv")
    status.finish("[2/2] 05_decoding.ipynb ok in 0.1 min")
    assert term.getvalue().endswith("\r[2/2] 05_decoding.ipynb ok in 0.1 min\n")


def test_without_curvezmq_the_runner_says_once_why_the_tcp_warning_is_harmless(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path / "results"))
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb"):
        write_notebook(nbs / name, "pass")
    monkeypatch.setattr(study.zmq, "has", lambda feature: False)
    monkeypatch.setattr(study, "run_notebook", lambda notebook, *args: notebook)
    assert study.EncryptedKernelManager().curve_secretkey is None
    log = io.StringIO()
    study.run_study("smoke", 0, notebooks_dir=nbs, stream=log)
    assert log.getvalue().count("127.0.0.1 only") == 1
