"""Share a setup as a URL: the settings and, when small, the data itself in the query string.

Everything read back is treated as untrusted input: the data goes through linreg_core.read_csv with a
size cap, numbers are parsed (never evaluated) and checked by TrainConfig.validate.
"""

from __future__ import annotations

import base64
import dataclasses
import zlib
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from linreg_core import OPTIMIZERS, LinregError, numeric_columns, read_csv

from . import fields, presets, settings, state
from .lessons import LESSONS
from .settings import Settings
from .text import clip, md

MAX_SHARED_ROWS = 500
MAX_SHARED_BYTES = 64 * 1024  # decompressed CSV
# The data and model choice; the training settings' parameters are in their record (studio/settings.py, ``share``).
NUMBERS = {"deg": "sel_degree"}
SWITCHES = {"icpt": "sel_intercept", "na": "sel_na", "present": "ui_present"}  # "1" or "0"
MAX_FORMULA_CHARS = 500  # a typed model formula; checked like any typed one (linreg_core/_formula_limits.py) when used
# The race: its lane count, epochs and tolerance, and each used lane's optimizer (r1o…) and learning rate (r1lr…).
RACE_NUMBERS = {"repochs": "race_epochs", **{f"r{i + 1}lr": f"race_lr_{i}" for i in range(state.RACE_LANES)},
                **{f"r{i + 1}b": f"race_batch_{i}" for i in range(state.RACE_LANES)}}  # (r1b: lane 1's batch size)
RACE_CHOICES = {f"r{i + 1}o": (f"race_opt_{i}", OPTIMIZERS) for i in range(state.RACE_LANES)}


def _shared_settings(current: Settings) -> dict[str, str]:
    """The settings a link carries: each with a ``share`` parameter, unless the setting it depends on is off."""
    q = {}
    for name in settings.names():
        spec = settings.spec(name)
        if spec.share is None or (spec.shown_if and not getattr(current, spec.shown_if)):
            continue
        value = getattr(current, name)
        if isinstance(value, bool):
            if value or not any(settings.spec(n).shown_if == name for n in settings.names()):
                q[spec.share] = "1" if value else "0"  # (a split that is off says nothing of its share and seed)
        elif spec.field is not None:
            q[spec.share] = str(int(value)) if spec.field.integer else repr(float(value))
        else:
            q[spec.share] = str(value)
    return q


def share_query() -> dict[str, str | list[str]]:
    """The current settings and column choice, plus the data if it has at most MAX_SHARED_ROWS rows.
    Features go as repeated ``x`` parameters: a column name may contain a comma."""
    ss = st.session_state
    q: dict[str, str | list[str]] = _shared_settings(ss.settings)
    for key, name in NUMBERS.items():
        q[key] = str(int(ss[name]))
    for key, name in SWITCHES.items():
        q[key] = "1" if ss[name] else "0"
    q.update(y=ss.sel_target, x=list(ss.sel_features))
    formula = state.typed_formula()
    if formula:
        q["f"] = formula
    if ss.get("sel_weights"):
        q["w"] = ss.sel_weights
    q.update(race=str(int(ss.race_n)), repochs=str(int(ss.race_epochs)), rtol=f"{ss.race_tol:g}")
    for i in range(int(ss.race_n)):
        q[f"r{i + 1}o"], q[f"r{i + 1}lr"] = ss[f"race_opt_{i}"], repr(float(ss[f"race_lr_{i}"]))
        q[f"r{i + 1}b"] = str(int(ss[f"race_batch_{i}"]))
    df: pd.DataFrame = ss.ds_df
    source = ss.get("ds_source")
    if source is not None and source[0] == "preset":  # a few characters instead of the rows
        q["preset"] = source[1]
    elif source is not None and source[0] == "server":  # a dataset of the server's data folder, by its name
        q["srv"] = source[1]
    elif source is not None:  # the generator's values: it makes the same rows again
        q["gen"] = ",".join(_short_number(v) for v in source[1])
    elif len(df) <= MAX_SHARED_ROWS:
        cols = [c for c in [*ss.sel_features, ss.sel_target] if c in df.columns]
        if formula:  # the columns the formula names (a name inside it is enough: an extra column is harmless)
            cols = [str(c) for c in df.columns if str(c) in formula]
        if ss.get("sel_weights") and ss.sel_weights not in cols:
            cols.append(ss.sel_weights)
        raw = df[cols].to_csv(index=False).encode()
        q["data"] = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
        q["name"] = ss.ds_name[:80]
    return q


PAGE_SLUGS = ("data", "results", "how_it_works", "train", "step", "race", "lessons")


def _app_root() -> str:
    base = (st.context.url or "").split("?")[0].rstrip("/")
    head, _, last = base.rpartition("/")
    if last in PAGE_SLUGS and "//" in head:
        base = head
    return base


def _short_number(v: float) -> str:
    """2.0 as "2", 0.25 as "0.25": what a person would type."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _without_defaults(q: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
    """``q`` less what a new session has already (its settings' and data's defaults): a link a class can type. Another
    dataset brings its column choice even where it matches the default's names."""
    default = st.session_state.get("_default_query", {})
    other_data = any(q.get(k) != default.get(k) for k in DATA_KEYS)
    return {k: v for k, v in q.items() if default.get(k) != v or (other_data and k in ("y", "x"))}


def _query_text(q: dict[str, str | list[str]]) -> str:
    return urlencode(q, doseq=True, safe=",")  # (commas as they are: gen=40,2,1,1,0,3)


def share_url() -> str:
    """The app's root URL (not this page's) with the share query, less what a new session has already (and less
    presentation mode: the teacher's screen, not the class's)."""
    q = {k: v for k, v in _without_defaults(share_query()).items() if k != "present"}
    return f"{_app_root()}/" + (f"?{_query_text(q)}" if q else "")


def lesson_url(index: int) -> str:
    """A link that opens the Lessons page at lesson ``index`` (0-based; the link counts from 1)."""
    return f"{_app_root()}/lessons?lesson={index + 1}"


DATA_KEYS = {"preset", "gen", "srv", "data"}  # the ways a link names its data
MAX_URL_DATA = 600  # characters of encoded rows the page's own address carries (a share link carries up to 64 kB)
LOST = "lost"  # in the address: the session's data could not go in it (an upload, a large edit)


def keep_in_url(lesson: int | None = None, key: str = "address") -> None:
    """Keep this page's address in step with the session, as TensorFlow Playground does: a reload, or a phone browser
    restoring a background tab, opens a new session from it with the same settings and data. Only what differs from
    a new session's defaults goes in; data by its short form (a preset, the generator's values) or, when small, its
    rows; otherwise a mark that says the data could not be kept. ``lesson``: the Lessons page's lesson (0-based).
    ``key``: one per place that calls it in a script run (app.py, the settings fragment on its own reruns)."""
    ss = st.session_state
    q = share_query()
    if "data" in q and len(q["data"]) > MAX_URL_DATA:
        del q["data"], q["name"]
    if not DATA_KEYS & q.keys() and ss.get("ds_source") is None:
        q[LOST] = "1"  # an upload or an edit too large for the address: a reload says so instead of losing it quietly
    q = _without_defaults(q)
    if lesson is not None:
        q["lesson"] = str(lesson + 1)
    from .layout import set_address

    set_address(_query_text(q), key)


def qr_svg(url: str) -> str | None:
    """A QR code of ``url`` as SVG — a class scans the projector's screen instead of typing the link — or None when
    the link is longer than a QR code holds (rows of data: a few hundred of them fill one)."""
    import segno
    from segno.encoder import DataOverflowError

    try:
        code = segno.make(url, error="l" if len(url) > 1000 else "m")  # a long link: less redundancy, more room
    except DataOverflowError:
        return None
    return code.svg_inline(scale=6, border=2, dark="#000000", light="#ffffff")


def show_notice() -> None:
    """After a share link was applied: say so, or say what in it was refused (on whichever page opened)."""
    ss = st.session_state
    if not ss.pop("_share_applied", False):
        return
    problems = ss.pop("_share_problems", [])
    for text in problems:
        st.warning(text)
    if not problems:
        # (a reload, too: the page's own address carries its settings and data)
        st.success("Loaded the setup in this page's link: its settings and data are in place. Press Train.")


def _decode_data(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    d = zlib.decompressobj()
    out = d.decompress(raw, MAX_SHARED_BYTES + 1)
    if len(out) > MAX_SHARED_BYTES or d.unconsumed_tail:
        raise ValueError("the shared data is larger than a share link may carry")
    return out


def _refused(key: str, value: str, why: str) -> str:
    return f"Ignored the shared setting {md(key)}={md(repr(value), 60)}: {why}."


def apply_query(params: Mapping[str, str | list[str]]) -> list[str]:
    """Restore settings and data from a share link; return problems as plain sentences (nothing raises).

    A link may only set what the sidebar can show: a number outside its widget's bounds or finer than it
    displays, an unknown choice or column is refused with a message naming the field, and the default stays.
    """
    ss = st.session_state
    problems: list[str] = []

    def one(key: str) -> str:
        value = params[key]
        return value[-1] if isinstance(value, list) else str(value)

    if "srv" in params:
        from . import bigdata

        try:
            if one("srv") not in bigdata.datasets():  # only what the Data page lists: no hidden file, no wildcard
                raise LinregError("it is not one of the datasets in the server's data folder")
            state.load_server_dataset(one("srv"))
        except LinregError as exc:
            problems.append(f"The shared server dataset could not be loaded ({md(exc, 300)}); the tutorial data is "
                            "loaded instead.")
        else:
            _choose_columns(params, one, problems)
    elif "preset" in params or "gen" in params:
        _apply_source(one("preset") if "preset" in params else None, one("gen") if "gen" in params else None,
                      problems)
        if not problems:
            _choose_columns(params, one, problems)
    elif "data" in params:
        try:
            df = read_csv(_decode_data(one("data")), max_bytes=MAX_SHARED_BYTES)
        except (ValueError, zlib.error, LinregError) as exc:
            problems.append(f"The shared data could not be read ({md(exc, 300)}); the tutorial data is loaded instead.")
        else:
            target, xs = _linked_columns(params, one, [str(c) for c in df.columns], problems)
            name = one("name") if "name" in params else "Shared data"
            state.set_dataset(df, clip(name, 80), target, xs or None)
    ss.settings = _apply_settings(params, one, ss.settings, problems)
    for key, (name, options) in RACE_CHOICES.items():
        if key in params:
            value = one(key)
            if value in options:
                ss[name] = value
            else:
                problems.append(_refused(key, value, f"choose one of {', '.join(options)}"))
    for key, name in SWITCHES.items():
        if key in params:
            value = one(key)
            if value in ("0", "1"):
                ss[name] = value == "1"
            else:
                problems.append(_refused(key, value, "it must be 1 (on) or 0 (off)"))
    if "f" in params:
        text = one("f")
        if len(text) <= MAX_FORMULA_CHARS and "\n" not in text:
            ss.sel_formula = text
        else:
            problems.append(_refused("f", text, f"a model formula is one line of at most {MAX_FORMULA_CHARS} "
                                     "characters"))
    if "w" in params:
        text = one("w")
        if text == "" or text in numeric_columns(ss.ds_df):
            ss.sel_weights = text
        else:
            problems.append(_refused("w", text, "Weights must name a numeric column of the data"))
    if "race" in params:
        text = one("race")
        if text in {str(n) for n in range(1, state.RACE_LANES + 1)}:
            ss.race_n = int(text)
        else:
            problems.append(_refused("race", text, f"Lanes must be a whole number from 1 to {state.RACE_LANES}"))
    if "rtol" in params:
        text = one("rtol")
        tol = next((t for t in state.RACE_TOLERANCES if f"{t:g}" == text), None)
        if tol is not None:
            ss.race_tol = tol
        else:
            problems.append(_refused("rtol", text, "Tolerance must be one of "
                                     + ", ".join(f"{t:g}" for t in state.RACE_TOLERANCES)))
    for key, name in {**NUMBERS, **RACE_NUMBERS}.items():
        if key not in params:
            continue
        value = _number(fields.field(name), key, one(key), problems)
        if value is not None:
            ss[name] = value
    try:
        state.train_config().validate()
    except LinregError as exc:
        problems.append(f"The shared settings are not valid ({md(exc, 300)}); the defaults are restored.")
        ss.settings = Settings()
    return problems


def _apply_source(preset: str | None, gen: str | None, problems: list[str]) -> None:
    """Load the data a short link names: a preset, or the noisy-line generator's values (each checked as its box)."""
    if preset is not None:
        if preset in presets.PRESETS:
            state.load_preset(preset)
        else:
            problems.append(_refused("preset", preset, f"choose one of {', '.join(presets.PRESETS)}"))
        return
    parts = gen.split(",")
    if len(parts) != len(presets.GENERATOR):
        problems.append(_refused("gen", gen, f"it must be {len(presets.GENERATOR)} numbers separated by commas "
                                 "(points, slope, intercept, noise, outliers %, seed)"))
        return
    values = [_number(fields.field(key), "gen", text, problems) for key, text in zip(presets.GENERATOR, parts)]
    if any(v is None for v in values):
        return
    ss = st.session_state
    for key, value in zip(presets.GENERATOR, values):
        ss[key] = value  # the Data page's boxes show what made the data
    df, name = presets.generated(tuple(values))
    state.set_dataset(df, name, "y", ["x"], source=("gen", tuple(values)))


def _linked_columns(params: Mapping[str, str | list[str]], one: Callable[[str], str], cols: list[str],
                    problems: list[str], target: str | None = None,
                    features: list[str] | None = None) -> tuple[str | None, list[str] | None]:
    """The target and features a link names (``target``, ``features`` where it names none), if the data's columns
    ``cols`` have them; else (None, None) — the data's own choice — and why, in ``problems``."""
    xs = params.get("x", [])
    xs = [xs] if isinstance(xs, str) else list(xs)
    if len(xs) == 1 and xs[0] not in cols:  # links made before features were repeated parameters
        xs = [f for f in xs[0].split(",") if f]
    target = one("y") if "y" in params else target
    xs = xs or features
    missing = [c for c in [*([target] if target else []), *(xs or [])] if c not in cols]
    if missing:
        problems.append(f"Ignored the shared column choice: {md(', '.join(map(repr, missing)), 200)} is not a "
                        "column of the shared data; its own columns are chosen instead.")
        return None, None
    return target, xs


def _choose_columns(params: Mapping[str, str | list[str]], one: Callable[[str], str], problems: list[str]) -> None:
    """The target and features a link names for data it names by a short form (a preset, the generator's values, a
    server dataset), chosen as the Data page chooses them; else the data's own choice stays."""
    ss = st.session_state
    target, xs = _linked_columns(params, one, [str(c) for c in ss.ds_df.columns], problems, ss.sel_target,
                                 list(ss.sel_features))
    if target is not None:
        state.set_dataset(ss.ds_df, ss.ds_name, target, xs, keep_model=True, source=ss.ds_source)


def _apply_settings(params: Mapping[str, str | list[str]], one: Callable[[str], str], current: Settings,
                    problems: list[str]) -> Settings:
    """``current`` with each training setting a link carries and the sidebar can show; a refusal for each other."""
    values = {}
    for name in settings.names():
        spec = settings.spec(name)
        if spec.share is None or spec.share not in params:
            continue
        key, text = spec.share, one(spec.share)
        if isinstance(getattr(current, name), bool):
            if text in ("0", "1"):
                values[name] = text == "1"
            else:
                problems.append(_refused(key, text, "it must be 1 (on) or 0 (off)"))
        elif spec.choices:
            if text in spec.choices:
                values[name] = text
            else:
                problems.append(_refused(key, text, f"choose one of {', '.join(spec.choices)}"))
        elif spec.field is not None:
            value = _number(spec.field, key, text, problems)
            if value is not None:
                values[name] = value
    return dataclasses.replace(current, **values)


def _number(f: fields.Field, key: str, text: str, problems: list[str]) -> int | float | None:
    """The number a link gives for ``key`` if its widget can show it; else None, and why in ``problems``."""
    try:
        value = f.parse(text)
    except ValueError:
        problems.append(_refused(key, text, f"{f.label} must be {f.describe()}"))
        return None
    why = f.problem(value)
    if why is not None:
        problems.append(_refused(key, text, f"{f.label}: {why}"))
        return None
    return value


def apply_once() -> None:
    """On a session's first run, apply a share link's query parameters (if any)."""
    ss = st.session_state
    if ss.get("_share_checked"):
        return
    ss._share_checked = True
    ss._default_query = share_query()  # what a new session's address leaves out (studio/share.py keep_in_url)
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    lost = params.pop(LOST, None) is not None
    lesson = params.pop("lesson", None)
    if lesson is not None:  # a lesson link: which lesson to show, nothing else
        text = lesson[-1]
        if text in {str(i) for i in range(1, len(LESSONS) + 1)}:
            ss.lesson = int(text) - 1
        else:
            ss._share_problems = [_refused("lesson", text, f"Lesson must be a whole number from 1 to {len(LESSONS)}")]
            ss._share_applied = True
    if params:
        problems = apply_query(params)
        ss._share_problems = [*ss.get("_share_problems", []), *problems]
        # (a link that only opens presentation mode has nothing to announce)
        ss._share_applied = ss.get("_share_applied", False) or bool(problems) or bool(params.keys() - {"present"})
    if lost:
        ss._share_problems = [*ss.get("_share_problems", []), (
            "This page's data (an upload, or rows too many for its address) could not be kept when the page was "
            "reloaded: the tutorial data is loaded instead. Upload it again on the Data page; the settings are kept.")]
        ss._share_applied = True
