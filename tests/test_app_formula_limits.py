"""AppTest: a formula that asks for unbounded work (issue 20 item 10) is refused in one sentence wherever the app takes
one — typed in the formula box, carried by a share link, inside a model JSON opened on Results — with no exception
on the page and nothing of the session's work lost. The limits themselves are tested in tests/test_formula_limits.py;
a second session and the health check, watched while these are refused, in tests/test_browser_formula_limits.py."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from app_support import goto, plain, shared_app, start, texts, train_clicked

from linreg_core import build_formula_design, fit_exact_design, model_json

# On the tutorial's columns (x, y): one of each kind, with a phrase of its refusal (the browser test uses them too).
HOSTILE = {
    "y ~ I(9**9**9)": "at most 1,000 bits",
    "y ~ I('a'*10**9)": "builds text",
    "y ~ bs(x, df=10**6)": "bs()'s df must be a whole number from 1 to 100",
    "y ~ (x + I(x**2) + I(x**3) + I(x**4) + I(x**5) + I(x**6) + I(x**7))**7": "over the limit of 20,000 products",
    "y ~ x | I(x)": "several parts separated by '|'",
}


def one_sentence(message: str) -> bool:
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", "''", message)
    return bare.endswith(".") and not re.search(r"[.!?]\s+[A-Z]", bare)


def test_the_formula_box_refuses_each_in_one_sentence_and_keeps_the_run_and_the_data():
    at = start()
    run = train_clicked(at)  # work a person would not want to lose
    assert run.status == "completed"
    goto(at, "data")
    for formula, phrase in HOSTILE.items():
        at.text_input(key="_w_sel_formula").input(formula).run()
        assert not at.exception
        assert len(at.error) == 1, formula
        message = plain(at.error[0].value)
        assert phrase in message and one_sentence(message), message
        assert not at.success  # no "Ready" for a refused formula
    assert len(at.session_state.runs) == 1 and at.session_state.runs[0] is run
    assert list(at.session_state.ds_df.columns) == ["x", "y"] and len(at.session_state.ds_df) == 4
    at.text_input(key="_w_sel_formula").input("").run()  # clearing it brings the model back
    assert not at.error and texts(at.success) == ["Ready: 4 rows, model y ~ x."]
    goto(at, "train")
    assert not at.exception and not at.error


@pytest.mark.parametrize("formula", list(HOSTILE))
def test_a_share_link_with_a_hostile_formula_opens_with_one_sentence(formula):
    at = shared_app({"f": formula})  # lands on Train, as a link does
    assert at.session_state.sel_formula == formula
    train_errors = [plain(e.value) for e in at.error]
    goto(at, "data")
    errors = [plain(e.value) for e in at.error]
    assert len(errors) == 1 and HOSTILE[formula] in errors[0] and one_sentence(errors[0]), errors
    assert train_errors == [f"The current data can't be trained on: {errors[0]}"]
    at.text_input(key="_w_sel_formula").input("y ~ x").run()  # the visitor can go on from there
    assert not at.error and texts(at.success) == ["Ready: 4 rows, model y ~ x."]


def test_results_refuses_a_hostile_model_file_and_keeps_the_fit_and_its_predictions():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.uniform(1, 5, 40), "day": rng.choice(["a", "b"], 40)})
    df["y"] = 2 * df.x + rng.normal(size=40)
    design = build_formula_design(df, "y ~ x + C(day)")
    good = json.loads(model_json(design, None, fit_exact_design(design)))
    rows = df.drop(columns="y").iloc[:5].to_csv(index=False).encode()

    at = start()
    run = train_clicked(at)
    goto(at, "results")
    at.radio(key="pred_source").set_value("A saved model (JSON)").run()
    at.file_uploader(key="pred_rows").set_value(("rows.csv", rows, "text/csv")).run()
    for formula, phrase in HOSTILE.items():
        doc = json.loads(json.dumps(good))
        doc["formula_state"]["rhs"] = formula.split("~", 1)[1]
        at.file_uploader(key="pred_model_file").set_value(("m.json", json.dumps(doc).encode(), "application/json"))
        at.run()
        assert not at.exception
        assert len(at.error) == 1, formula
        message = plain(at.error[0].value)
        assert message.startswith("Could not open **m.json**: ") and phrase in message, message
        assert one_sentence(message.split(": ", 1)[1]), message
        assert not at.success  # nothing was predicted with it
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    at.file_uploader(key="pred_model_file").set_value(("deep.json", deep, "application/json")).run()
    assert not at.exception and "nests lists or objects deeper" in plain(at.error[0].value)
    # the same page goes on working: a good model file predicts, and the session's run is still there
    at.file_uploader(key="pred_model_file").set_value(("good.json", json.dumps(good).encode(),
                                                       "application/json")).run()
    assert not at.exception and not at.error
    assert "Predicted 5 rows of **rows.csv** with 95% prediction intervals." in texts(at.success)
    assert at.session_state.runs == [run]
