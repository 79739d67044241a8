"""Executed notebooks as a reader meets them: each progress bar reduced to its final line.

A tqdm bar redraws its line with carriage returns; a notebook executed by papermill stores every redraw as its own
stream output, so the executed copy of a study notebook carried hundreds of ``step 37/300 [00:16<01:51, ...`` lines
before its table. :func:`clean_notebook_file` keeps what a terminal would show at the end; the study runner
(``magvit.study``) applies it to every executed copy. The bars' own policy is ``magvit.infra.progress``; this module
is apart from it so that the training path never imports ``nbformat`` (a bare GPU image lacks it).

    python -m magvit.infra.notebooks NB.ipynb ...   # clean executed notebooks in place
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from magvit.infra.atomic import atomic_write_text

# A tqdm line: "n/total [elapsed<remaining" (fit: "step 120/500 [01:10<03:40, ...]"; the default format:
# "sampling FP:  50%|#####     | 1/2 [00:05<00:05, ...]").
PROGRESS_LINE = re.compile(r"\d+/\d+ \[\d")


def final_text(text: str) -> str:
    """What a terminal shows of ``text`` at the end: each carriage return moves back to the line's start, and what
    follows overwrites the line character by character (tqdm pads a shorter redraw with spaces). A line left blank
    that way (a bar cleared by ``leave=False``) disappears; a redrawn line loses its trailing padding."""
    lines = []
    for line in text.split("\n"):
        if "\r" not in line:
            lines.append(line)
            continue
        screen = ""
        for segment in line.split("\r"):
            screen = segment + screen[len(segment):]
        if screen.strip():
            lines.append(screen.rstrip())
    return "\n".join(lines)


def clean_outputs(outputs: list[dict]) -> list[dict]:
    """One cell's outputs as a terminal would leave them: a stream output that starts with a carriage return
    overwrites the unfinished last line of the previous output of the same stream (stdout / stderr), and within
    an output only each line's final state stays. Other outputs (figures, tables, errors) are kept unchanged."""
    kept: list[dict] = []
    open_line: dict[str, int] = {}  # stream name -> index in ``kept`` of the output whose last line is unfinished
    for output in outputs:
        if output.get("output_type") != "stream":
            kept.append(output)
            continue
        name, text = output["name"], output["text"]
        if text.startswith("\r") and name in open_line:  # it redraws the previous output's unfinished line
            previous = kept[open_line.pop(name)]
            head, newline, tail = previous["text"].rpartition("\n")
            previous["text"] = head + newline
            text = tail + text
        output = dict(output, text=final_text(text))
        kept.append(output)
        if not text.endswith("\n"):
            open_line[name] = len(kept) - 1
        else:
            open_line.pop(name, None)
    kept = drop_stale_states(kept)
    return [nbformat.from_dict(o) for o in kept if not (o.get("output_type") == "stream" and not o["text"])]


# a bar's state: its description, then "n/total [" (the default format and fit's "step n/total [")
BAR_STATE = re.compile(r"^(?P<desc>.*?)(?P<n>\d+)/(?P<total>\d+) \[\d")


def drop_stale_states(outputs: list[dict]) -> list[dict]:
    """Remove a bar's unfinished state (n < total) when the same bar (its description, on the same stream) draws
    again later in the cell: a line printed between two redraws (a warning on stderr) leaves the earlier state on a
    line of its own, which a terminal's next redraw would not have overwritten either. A run that stopped keeps its
    last state."""
    seen: dict[str, set[str]] = {}  # stream name -> descriptions of the bars drawn after this point
    for output in reversed(outputs):
        if output.get("output_type") != "stream":
            continue
        later = seen.setdefault(output["name"], set())
        lines = output["text"].split("\n")
        for i in range(len(lines) - 1, -1, -1):
            if not (m := BAR_STATE.search(lines[i])):
                continue
            if int(m["n"]) < int(m["total"]) and m["desc"] in later:
                del lines[i]
            later.add(m["desc"])
        output["text"] = "\n".join(lines)
    return outputs


def count_progress_lines(nb: nbformat.NotebookNode) -> int:
    """Lines of a notebook's stream outputs that are progress-bar states (what a reader scrolls past)."""
    return sum(bool(PROGRESS_LINE.search(segment))
               for cell in nb.cells for output in cell.get("outputs", []) if output.get("output_type") == "stream"
               for segment in re.split(r"[\r\n]", output["text"]))


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with every code cell's outputs passed through :func:`clean_outputs` (in place; returned)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = clean_outputs(cell.outputs)
    return nb


def clean_notebook_file(path: Path | str) -> int:
    """Rewrite an executed notebook with its progress bars reduced to their final lines (atomically); return how
    many progress lines it had before."""
    path = Path(path)
    original = path.read_text()
    nb = nbformat.reads(original, as_version=4)
    before = count_progress_lines(nb)
    text = nbformat.writes(clean_notebook(nb))
    if original.endswith("\n") and not text.endswith("\n"):  # keep the writer's convention (papermill: none)
        text += "\n"
    if text != original:
        atomic_write_text(path, text)
    return before


if __name__ == "__main__":  # python -m magvit.infra.notebooks NB.ipynb ...: clean executed notebooks in place
    for arg in sys.argv[1:]:
        print(f"{arg}: {clean_notebook_file(arg)} progress lines before, "
              f"{count_progress_lines(nbformat.read(arg, as_version=4))} after")
