"""script.json across the Segment -> Block rename: old files still read, new ones say blocks."""

from __future__ import annotations

import json
from pathlib import Path

from radio.artifacts import DataRoot
from radio.shows.script import Script, load_script, save_script
from radio.webdata import script_lines

OLD = Path(__file__).parents[2] / "docs" / "examples" / "daily-script.json"  # "segments"


def test_old_scripts_read_and_new_ones_are_written_with_blocks(tmp_path: Path) -> None:
    stored = json.loads(OLD.read_text())
    assert "segments" in stored and "blocks" not in stored
    script = Script.model_validate(stored)
    assert [len(b.lines) for b in script.blocks] == [len(s["lines"]) for s in stored["segments"]]

    data = DataRoot(tmp_path)
    saved = json.loads(save_script(data, script).read_text())
    assert "blocks" in saved and "segments" not in saved
    assert load_script(data, script.show_id) == script
    assert [li["text"] for li in script_lines(data, script.show_id)] == \
        [li.text for li in script.lines]


def test_the_web_reads_lines_of_old_scripts(tmp_path: Path) -> None:
    data = DataRoot(tmp_path)
    stored = json.loads(OLD.read_text())
    path = data.show_dir(stored["show_id"]) / "script.json"
    path.parent.mkdir(parents=True)
    path.write_text(OLD.read_text())
    assert len(script_lines(data, stored["show_id"])) == \
        sum(len(s["lines"]) for s in stored["segments"]) > 0
