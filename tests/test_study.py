"""The study runner: order, logging, and the failure path."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from magvit import study


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
