"""AppTest tests for the security issue: share links and files must never put someone else's content into a
page, and a link may only set what the sidebar can show.

What the browser finally draws from these strings (no link, image or box; no outside request) is checked in
tests/test_browser_security.py; here the source each element is given is checked, page by page.
"""

from __future__ import annotations

import base64
import re
import zlib

import pandas as pd
import pytest
from app_support import (
    chart_specs,
    goto,
    plain,
    shared_app,
    start,
    texts,
    train_clicked,
    upload,
)

PHISH = "**URGENT** [Log in again](https://evil.example/login)"
IMAGE = "![x](http://evil.example/pixel.png)"
LATEX = r"x}\rule{2000px}{2000px}\mathrm{"
HTML = '<b>bold</b><a href="https://evil.example">a</a><img src=http://evil.example/i.png>'
DIRECTIVES = ":red[alert] :material/home: $\\rule{900px}{900px}$ www.evil.example a@evil.example"
HOSTILE_TARGET = f"{LATEX} {HTML}"
HOSTILE_FEATURE = f"{IMAGE} {DIRECTIVES}"


def data_link(df: pd.DataFrame, **params: str) -> dict[str, str]:
    raw = df.to_csv(index=False).encode()
    return {"data": base64.urlsafe_b64encode(zlib.compress(raw)).decode(), **params}


def hostile_app() -> tuple:
    df = pd.DataFrame({HOSTILE_FEATURE: [1.0, 2.0, 3.0, 3.5], HOSTILE_TARGET: [2.0, 4.0, 6.0, 7.0]})
    at = shared_app(data_link(df, name=PHISH, y=HOSTILE_TARGET, x=HOSTILE_FEATURE))
    return at, df


# Pieces of the names that would turn into a link, an image, emphasis, a directive, a formula, an autolink or
# HTML if they reached the Markdown renderer as they are (escaped, each contains a backslash).
LIVE = ["**URGENT**", "[Log in again](", "![x](", ":red[", ":material/home:", "$\\rule", "www.evil", "a@evil",
        "<b>", "<img", "<a href", "https://"]


def live_pieces(source: str) -> list[str]:
    return [piece for piece in LIVE if re.search(r"(?<!\\)" + re.escape(piece), source)]


def markdown_sources(at) -> list[str]:
    return [e.value for kind in ("markdown", "caption", "success", "info", "warning", "error") for e in getattr(at, kind)]


@pytest.mark.parametrize("page", ["train", "step", "race", "data", "results", "how_it_works"])
def test_hostile_names_from_a_share_link_reach_every_page_as_text(page):
    at, _ = hostile_app()
    assert at.session_state.ds_name == PHISH and at.session_state.sel_target == HOSTILE_TARGET
    if page == "train":
        train_clicked(at)
    goto(at, page)
    sources = markdown_sources(at)
    shown = "\n".join(plain(s) for s in sources)
    for s in sources:  # every user string went through studio.text.md: nothing live is left in the source
        assert not live_pieces(s), s
    if page in ("train", "step", "race", "data", "how_it_works"):
        assert PHISH in shown  # ... and the reader sees the name exactly as it was given
    for latex in at.latex:
        assert r"\rule" not in latex.value.replace(r"\textbackslash{}rule", "")
        assert "$" not in latex.value.replace(r"\$", "").strip("$\n")
    for spec in chart_specs(at):  # Plotly labels: tags shown as text (&lt;b&gt;), never obeyed
        titles = [spec["layout"].get(a, {}).get("title", {}).get("text", "") for a in ("xaxis", "yaxis")]
        for title in titles:
            assert "<" not in title and ">" not in title, title
        if page in ("train", "step") and any("bold" in t for t in titles):
            assert any("&lt;b&gt;bold&lt;/b&gt;" in t for t in titles)


def test_hostile_file_name_and_column_names_in_an_upload_are_shown_as_text():
    at = goto(start(), "data")
    upload(at, f"{PHISH}.csv", pd.DataFrame({HTML: [1, 2, 3], "y": [2, 4, 7]}).to_csv(index=False).encode())
    message = at.success[0].value
    assert not live_pieces(message), message
    assert plain(message) == f"Loaded **{PHISH}.csv**: 3 rows, columns {HTML}, y."


def test_hostile_names_in_error_messages_are_escaped():
    # A text column is a category now; one that takes a single value cannot be estimated, and says so by name.
    df = pd.DataFrame({PHISH: ["a", "a", "a"], "y": [1.0, 2.0, 3.0]})
    at = shared_app(data_link(df, y="y", x=PHISH))
    goto(at, "train")
    errors = [e.value for e in at.error]
    assert errors and all(not live_pieces(e) for e in errors), errors
    assert f"'{PHISH}' has one level ('a') in the rows used" in plain(errors[0])


@pytest.mark.parametrize("key,value,label", [
    ("epochs", "10000000", "Epochs"),
    ("epochs", "0", "Epochs"),
    ("epochs", "1.5", "Epochs"),
    ("lr", "1e6", "Learning rate"),
    ("lr", "1e-12", "Learning rate"),
    ("lr", "nan", "Learning rate"),
    ("lr", "0.1234567891", "Learning rate"),
    ("seed", str(2**40), "Seed"),
    ("seed", "-1", "Seed"),
    ("mom", "0.9999", "Momentum"),
    ("mom", "0.95001", "Momentum"),
    ("l2", "1e9", "L2 penalty"),
    ("batch", "1e3", "Batch size"),
    ("vfrac", "0.123", "Validation share"),
    ("vfrac", "0.9", "Validation share"),
    ("vseed", "99999999999", "Split seed"),
    ("deg", "21", "Polynomial degree"),
    ("std", "yes", None),
    ("dtype", "float16", None),
])
def test_a_share_link_may_only_set_what_the_sidebar_can_show(key, value, label):
    at = shared_app({key: value, "val": "1"} if key.startswith("v") else {key: value})
    warnings = texts(at.warning)
    assert any(w.startswith(f"Ignored the shared setting {key}={value!r}") for w in warnings), warnings
    if label is not None:
        assert any(label in w for w in warnings), warnings
    run = train_clicked(at)
    assert run.status == "completed"
    # What ran is what the sidebar shows.
    cfg, shown = run.config, {w.key: w.value for w in at.sidebar if getattr(w, "key", None)}
    assert (cfg.lr, cfg.epochs, cfg.seed, cfg.momentum, cfg.l2, cfg.batch_size) == (
        shown["_w_lr"], shown["_w_epochs"], shown["_w_seed"], shown["_w_momentum"], shown["_w_l2"],
        shown["_w_batch_size"])
    assert (cfg.epochs, cfg.lr) == (100, 0.01)  # the refused value did not run


def test_a_share_link_with_values_the_sidebar_can_show_is_applied_exactly():
    at = shared_app({"epochs": "250", "lr": "0.05", "seed": "7", "mom": "0.85", "l2": "0.25", "batch": "2",
                     "opt": "momentum", "dtype": "float64", "std": "1", "val": "0", "deg": "1"})
    assert not at.warning
    run = train_clicked(at)
    cfg = run.config
    assert (cfg.epochs, cfg.lr, cfg.seed, cfg.momentum, cfg.l2, cfg.batch_size, cfg.optimizer, cfg.dtype,
            cfg.standardize) == (250, 0.05, 7, 0.85, 0.25, 2, "momentum", "float64", True)
    shown = {w.key: w.value for w in at.sidebar if getattr(w, "key", None)}
    assert (shown["_w_epochs"], shown["_w_lr"], shown["_w_momentum"]) == (250, 0.05, 0.85)


def test_a_typed_learning_rate_runs_as_the_box_shows_it():
    at = start()
    at.number_input(key="_w_lr").set_value(0.1234567891).run()
    assert at.session_state.settings.lr == 0.123457  # the box displays 6 significant digits
    assert train_clicked(at).config.lr == 0.123457


def test_share_link_columns_must_exist_in_its_data():
    df = pd.DataFrame({"a, b": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 4.0]})
    at = shared_app(data_link(df, y="y", x="a, b"))  # a column name with a comma survives the link
    assert at.session_state.sel_features == ["a, b"] and not at.warning
    at = shared_app(data_link(df, y="y", x="nope"))
    assert any("is not a column of the shared data" in w for w in texts(at.warning))
    assert at.session_state.sel_features == ["a, b"]


def test_share_link_round_trip_keeps_repeated_features():
    df = pd.DataFrame({"a,1": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 0.0, 2.0], "y": [1.0, 2.0, 4.0, 5.0]})
    at = shared_app(data_link(df, y="y"))
    assert at.session_state.sel_features == ["a,1", "b"]
    goto(at, "results")
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(at.code[-1].value).query)
    assert query["x"] == ["a,1", "b"]
    again = shared_app({k: v if k == "x" else v[0] for k, v in query.items()})
    assert again.session_state.sel_features == ["a,1", "b"] and not again.warning



def test_a_formula_over_twenty_thousand_category_levels_is_one_sentence_before_it_is_built():
    """Once an unhandled-error box after the server grew by 3.5 GB: the levels are counted before the design."""
    import numpy as np

    rng = np.random.default_rng(0)
    n = 25_000
    df = pd.DataFrame({"g": [f"L{i}" for i in range(n)], "x": rng.normal(size=n), "y": rng.normal(size=n)})
    at = upload(goto(start(), "data"), "levels.csv", df.to_csv(index=False).encode())
    at.text_input(key="_w_sel_formula").input("y ~ x + g").run()
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1 and "over the limit of 1,000 columns" in errors[0], errors
