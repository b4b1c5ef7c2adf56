"""Moving a point by dragging it (studio/points.py): the drop's place, at the chart's resolution, and nothing for a
drag that says nothing sane."""

from __future__ import annotations

import math

import pandas as pd

from studio.points import _moved


def test_a_drop_moves_that_row_to_the_chart_resolution_and_says_so():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 7.0]})
    new, msg = _moved(df, {"row": 3, "x": 3.5000001, "y": 2.8585458}, "x", "y")
    assert new.to_dict("list") == {"x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 2.859]}
    assert msg == "Moved point 4 to (x = 3.5, y = 2.859)."
    assert df.y.iloc[3] == 7.0  # the session's frame is not changed in place


def test_a_drag_that_says_nothing_sane_is_ignored():
    df = pd.DataFrame({"x": [1.0, 2.0], "y": [2.0, 4.0]})
    for drag in ({"row": 9, "x": 1, "y": 1}, {"row": 0, "x": math.inf, "y": 1}, {"row": "a", "x": 1, "y": 1}, {}):
        assert _moved(df, drag, "x", "y") is None
