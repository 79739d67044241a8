"""The progress-bar policy: live bars for a person; in an executed notebook one line per training run and one line
per table's sampling; no bar for a loop of one step (``magvit.infra.progress``, ``magvit.infra.notebooks``)."""

from __future__ import annotations

import io
import json
import re

import nbformat
import papermill
import pytest

from magvit import study
from magvit.infra import notebooks as executed_nb
from magvit.infra import progress as prog
from magvit.infra.paths import REPO_ROOT


def stream(text: str, name: str = "stderr") -> dict:
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_clean_outputs_keeps_what_a_terminal_shows_at_the_end():
    figure = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    outputs = [stream("hello\n", "stdout"), stream("\rrun a: step 0/3 [00:00<?]"),
               stream("\rrun a: step 2/3 [00:01<00:01]"),
               stream("a warning printed between two redraws\n", "stdout"), stream("\rrun a: step 3/3 [00:02<00:00]"),
               stream("\n"), figure, stream("\rrun b: 0/2 [00:00<?]"), stream("\r" + " " * 20 + "\r"),  # leave=False
               stream("done\n", "stdout")]
    cleaned = executed_nb.clean_outputs(outputs)
    texts = [(o.get("name"), o.get("text")) for o in cleaned]
    assert texts == [("stdout", "hello\n"), ("stdout", "a warning printed between two redraws\n"),
                     ("stderr", "run a: step 3/3 [00:02<00:00]"), ("stderr", "\n"), (None, None), ("stdout", "done\n")]
    assert cleaned[4] == figure
    # within one output (nbconvert may join redraws) only each line's final state stays
    assert executed_nb.final_text("x\rrun: 1/2 [0\rrun: 2/2 [1\nnext\n") == "run: 2/2 [1\nnext\n"
    assert executed_nb.final_text("\rrun: 10/10 [1\r1/10 \n") == "1/10 10/10 [1\n"  # overwritten, not replaced
    assert executed_nb.final_text("bar 3/3\r\n") == "bar 3/3\n"  # a return with nothing after it erases nothing


def test_summary_mode_prints_one_line_per_run_and_live_mode_is_tqdm(monkeypatch):
    out = io.StringIO()
    monkeypatch.setenv(prog.ENV, "summary")
    bar = prog.progress(range(5), desc="toy", summary_file=out, bar_format="{desc}: step {n_fmt}/{total_fmt}{postfix}")
    for i in bar:
        bar.set_postfix(loss=f"{1 / (i + 1):.3g}", refresh=True)
    bar.close()
    assert out.getvalue() == "toy: step 5/5, loss=0.2\n"
    monkeypatch.setenv(prog.ENV, "live")
    assert type(prog.progress(range(1), desc="x", disable=True)).__name__ == "tqdm"
    monkeypatch.setenv(prog.ENV, "quiet")
    with pytest.raises(ValueError, match=r"\$MAGVIT_PROGRESS must be one of live, summary, got 'quiet'"):
        prog.progress(range(1), desc="x")


@pytest.mark.parametrize("mode", ["live", "summary"])
def test_a_loop_of_one_step_draws_no_bar(monkeypatch, mode):
    monkeypatch.setenv(prog.ENV, mode)
    out = io.StringIO()
    kwargs = {"summary_file": out} if mode == "summary" else {"file": out}
    for steps in (0, 1):
        assert list(prog.progress(range(steps), desc="one", mininterval=0, **kwargs)) == list(range(steps))
        bar = prog.progress(desc="one", total=1, mininterval=0, **kwargs)
        bar.update()
        bar.close()
    assert out.getvalue() == ""
    list(prog.progress(range(2), desc="two", mininterval=0, **kwargs))  # two steps: a bar (its final line) again
    assert "two" in out.getvalue() and "2/2" in out.getvalue()


def sample_a_table(table):
    """Three (model, task) sampling runs (FP twice: 2 batches of 4 clips each; FI: 1 batch) and one from the cache."""
    for task, clips in (("FP", 8), ("FI", 4), ("FP", 8)):
        for _ in prog.sampling(range(0, clips, 4), task=task, clips=clips):
            pass
    prog.sampled_from_cache()


def test_a_tables_sampling_prints_one_line_with_its_counts(monkeypatch, capsys):
    monkeypatch.setenv(prog.ENV, "summary")
    monkeypatch.delenv(prog.RUNNER_ENV, raising=False)
    out = io.StringIO()
    with prog.sampling_table(file=out) as table:
        sample_a_table(table)
    assert (table.runs, list(table.tasks), table.clips, table.cached) == (3, ["FP", "FI"], 20, 1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert re.fullmatch(r"sampling: 3 \(model, task\) runs over 2 tasks \(FP, FI\), 20 clips in 00:0\d; "
                        r"1 more from the cache", lines[0]), lines[0]
    assert capsys.readouterr().err == ""  # no bar of any run
    # the study runner alone (bars live) reports the same way: its transient bars leave nothing in a saved copy
    monkeypatch.setenv(prog.ENV, "live")
    monkeypatch.setenv(prog.RUNNER_ENV, "1")
    out = io.StringIO()
    with prog.sampling_table(file=out) as table:
        sample_a_table(table)
    assert len(out.getvalue().splitlines()) == 1 and out.getvalue().startswith("sampling: 3 (model, task) runs")


def test_interactive_sampling_keeps_a_live_bar_per_run(monkeypatch, capsys):
    monkeypatch.setenv(prog.ENV, "live")
    monkeypatch.delenv(prog.RUNNER_ENV, raising=False)
    out = io.StringIO()
    with prog.sampling_table(file=out) as table:
        sample_a_table(table)
    assert out.getvalue() == "" and table.runs == 0  # nothing summed: a person sees each bar
    err = capsys.readouterr().err
    assert err.count("sampling FP") >= 2 and "sampling FI" not in err  # FI's one batch draws no bar


def test_summary_mode_outside_a_table_prints_one_line_per_run(monkeypatch, capsys):
    """A script (no notebook cell, no ``sampling_table``) in summary mode: each run is its own table."""
    monkeypatch.setenv(prog.ENV, "summary")
    for _ in prog.sampling(range(0, 8, 4), task="FP", clips=8):
        pass
    prog.sampled_from_cache()
    assert re.fullmatch(r"sampling: 1 \(model, task\) run over 1 task \(FP\), 8 clips in 00:00\n",
                        capsys.readouterr().err)


TRAINING_NOTEBOOK = """\
import time
import torch
from magvit.config import EvaluatorConfig
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.progress import progress
from magvit.infra.train import fit
store = ArtifactStore({cache!r})
for seed in (0, 1):  # two training runs through fit: each redraws its bar every 2 s
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    def step_fn(step):
        time.sleep(0.25)
        loss = model(torch.ones(1, 2)).pow(2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
        return {{"loss": loss.item()}}
    fit("toy", EvaluatorConfig(), seed, {{"m": model}}, {{"o": opt}}, step_fn, 20, store=store, desc=f"toy {{seed}}")
for _ in progress(range(30), desc="sampling toy", mininterval=0):  # a sampling run, redrawn at every step
    time.sleep(0.01)
print("table")
"""

TABLE_CELL = """\
import time
from magvit.infra.progress import sampled_from_cache, sampling
for task in ("FP", "FI", "OPH"):  # a table: three (model, task) runs of two batches each, one more from the cache
    for _ in sampling(range(0, 8, 4), task=task, clips=8):
        time.sleep(0.05)
sampled_from_cache()
print("table 4")
"""
TABLE_LINE = r"sampling: 3 \(model, task\) runs over 3 tasks \(FP, FI, OPH\), 24 clips in 00:0\d; 1 more from the cache"


def table_cell_lines(cell: nbformat.NotebookNode) -> list[str]:
    return [line for o in cell.outputs if o.get("output_type") == "stream" for line in o["text"].splitlines()]


def test_a_notebook_run_by_the_study_runner_keeps_one_progress_line_per_run(tmp_path, monkeypatch):
    """The runner's status line still sees the live bars; the executed copy keeps one line per run."""
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(study, "LOG_EVERY_S", 0.0)
    monkeypatch.delenv(prog.ENV, raising=False)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("profile = None\nseed = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(TRAINING_NOTEBOOK.format(cache=str(tmp_path / "cache"))),
                nbformat.v4.new_code_cell(TABLE_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nbs / "01_train.ipynb")
    log = io.StringIO()
    [executed] = study.run_study("smoke", 0, notebooks_dir=nbs, stream=log)
    live = [line for line in log.getvalue().splitlines() if "sampling toy" in line]
    assert len(live) > 3, "the status line no longer sees the live bar"
    out = nbformat.read(executed, as_version=4)
    lines = [s for c in out.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"
             for s in re.split(r"[\r\n]", o["text"]) if executed_nb.PROGRESS_LINE.search(s)]
    assert len(lines) == 3 == executed_nb.count_progress_lines(out), lines
    assert lines[0].startswith("toy 0: step 20/20 [") and "loss=" in lines[0]
    assert lines[1].startswith("toy 1: step 20/20 [") and lines[2].startswith("sampling toy: 100%")
    assert any(o.get("text") == "table\n" for o in out.cells[-2].outputs)
    # the table's sampling: its runs' bars fed the status line, the executed copy keeps one line for the table
    assert any("sampling FP" in line for line in log.getvalue().splitlines())
    table = table_cell_lines(out.cells[-1])  # the table's line is printed when its cell ends
    assert "table 4" in table and len(table) == 2 and sum(bool(re.fullmatch(TABLE_LINE, s)) for s in table) == 1, table


def test_committed_executed_notebooks_have_one_progress_line_per_run():
    """Every bar's lines share its description; a run leaves one line, so no description repeats within a run of
    consecutive progress lines for more than one state of the same run (a state's step count is at its end)."""
    for path in sorted((REPO_ROOT / "results").rglob("notebooks/*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                if output.get("output_type") != "stream":
                    continue
                text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
                assert "\r" not in text, f"{path.name}: a redrawn line is stored"
                for line in text.split("\n"):
                    if (m := re.search(r"(\d+)/(\d+) \[\d", line)):
                        assert m[1] == m[2] or "step 0/" not in line, f"{path.name}: a bar's first state: {line}"


def test_papermill_by_hand_with_summary_mode_prints_one_line_per_run(tmp_path, monkeypatch):
    """``MAGVIT_PROGRESS=summary papermill ...``: the kernel inherits the variable; no redraw is ever sent."""
    monkeypatch.setenv(prog.ENV, "summary")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TRAINING_NOTEBOOK.format(cache=str(tmp_path / "cache"))),
                nbformat.v4.new_code_cell(TABLE_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    papermill.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), kernel_name="python3",
                               progress_bar=False, kernel_manager_class=study.EncryptedKernelManager)
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    texts = [o["text"] for o in out.cells[0].outputs if o.get("output_type") == "stream"]
    assert not any("\r" in t for t in texts), texts
    assert executed_nb.count_progress_lines(out) == 3, texts
    assert any(t.startswith("toy 0: step 20/20 [") and "loss=" in t for t in texts)
    table = table_cell_lines(out.cells[1])
    assert "table 4" in table and len(table) == 2 and sum(bool(re.fullmatch(TABLE_LINE, s)) for s in table) == 1, table


def test_a_smoke_notebook_through_the_runner_leaves_one_final_line_per_run(tmp_path, monkeypatch):
    """Notebook 09 (Table 5) at ``smoke`` from an empty cache (~25 s on 2 cores; 10 training runs and 21 sampling
    runs when written): each training run leaves one line, its final state (n == total; without the cleaning each
    left its first state, ``step 0/6``, and its final state twice), and the table's sampling one line."""
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("MAGVIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(prog.ENV, raising=False)
    [executed] = study.run_study("smoke", 0, only=["09"], stream=io.StringIO())
    out = nbformat.read(executed, as_version=4)
    lines = [s for c in out.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"
             for s in o["text"].split("\n") if executed_nb.PROGRESS_LINE.search(s)]
    states = [re.search(r"(\d+)/(\d+) \[", s).groups() for s in lines]
    assert lines and all(n == total for n, total in states), lines
    assert any(s.startswith("transformer ") for s in lines) and not any(s.startswith("sampling ") for s in lines)
    tables = [s for c in out.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"
              for s in o["text"].split("\n") if s.startswith("sampling: ")]
    assert len(tables) == 1 and re.match(r"sampling: \d+ \(model, task\) runs over \d+ tasks \(FP, ", tables[0]), tables
    assert not any("\r" in o.get("text", "") for c in out.cells for o in c.get("outputs", []))


def test_a_bar_state_left_behind_by_a_warning_is_dropped():
    """GPU run: a warning on stderr between a bar's first state and its redraws left ``step 0/1000`` on its own line."""
    def stream(name: str, text: str) -> nbformat.NotebookNode:
        return nbformat.from_dict({"output_type": "stream", "name": name, "text": text})

    outputs = [stream("stderr", "evaluator: step 0/9 [00:00<?]"), stream("stderr", "UserWarning: not deterministic\n"),
               nbformat.from_dict({"output_type": "stream", "name": "stderr",
                                   "text": "\revaluator: step 5/9 [00:01<00:01]\revaluator: step 9/9 [00:02<00:00]\n"}),
               nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "sampling: 1/2 [00:01<00:01]\n"})]
    texts = [o["text"] for o in executed_nb.clean_outputs(outputs)]
    assert texts == ["UserWarning: not deterministic\n", "evaluator: step 9/9 [00:02<00:00]\n",
                     "sampling: 1/2 [00:01<00:01]\n"]  # a bar never drawn again keeps its last state
