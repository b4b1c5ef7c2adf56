"""Share a setup as a URL: the settings and, when small, the data itself in the query string.

Everything read back is treated as untrusted input: the data goes through linreg_core.read_csv with a
size cap, numbers are parsed (never evaluated) and checked by TrainConfig.validate.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from linreg_core import OPTIMIZERS, LinregError, read_csv

from . import state

MAX_SHARED_ROWS = 500
MAX_SHARED_BYTES = 64 * 1024  # decompressed CSV
SETTINGS = {  # query key -> (session key, parser)
    "opt": ("cfg_optimizer", str), "lr": ("cfg_lr", float), "epochs": ("cfg_epochs", int),
    "batch": ("cfg_batch", int), "std": ("cfg_standardize", lambda v: v == "1"), "seed": ("cfg_seed", int),
    "dtype": ("cfg_dtype", str), "mom": ("cfg_momentum", float), "l2": ("cfg_l2", float),
    "val": ("cfg_val", lambda v: v == "1"), "vfrac": ("cfg_val_frac", float), "vseed": ("cfg_val_seed", int),
}


def share_query() -> dict[str, str]:
    """The current settings and column choice, plus the data if it has at most MAX_SHARED_ROWS rows."""
    ss = st.session_state
    q = {"opt": ss.cfg_optimizer, "lr": repr(float(ss.cfg_lr)), "epochs": str(int(ss.cfg_epochs)),
         "batch": str(int(ss.cfg_batch)), "std": "1" if ss.cfg_standardize else "0", "seed": str(int(ss.cfg_seed)),
         "dtype": ss.cfg_dtype, "mom": repr(float(ss.cfg_momentum)), "l2": repr(float(ss.cfg_l2)),
         "y": ss.sel_target, "x": ",".join(ss.sel_features), "deg": str(int(ss.sel_degree)),
         "icpt": "1" if ss.sel_intercept else "0"}
    if ss.cfg_val:
        q.update(val="1", vfrac=repr(float(ss.cfg_val_frac)), vseed=str(int(ss.cfg_val_seed)))
    df: pd.DataFrame = ss.ds_df
    if len(df) <= MAX_SHARED_ROWS:
        cols = [c for c in [*ss.sel_features, ss.sel_target] if c in df.columns]
        raw = df[cols].to_csv(index=False).encode()
        q["data"] = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
        q["name"] = ss.ds_name[:80]
    return q


PAGE_SLUGS = ("data", "results", "how_it_works", "train", "step", "race")


def share_url() -> str:
    """The app's root URL (not this page's) with the share query."""
    base = (st.context.url or "").split("?")[0].rstrip("/")
    head, _, last = base.rpartition("/")
    if last in PAGE_SLUGS and "//" in head:
        base = head
    return f"{base}/?{urlencode(share_query())}"


def show_notice() -> None:
    """After a share link was applied: say so, or say what in it was refused (on whichever page opened)."""
    ss = st.session_state
    if not ss.pop("_share_applied", False):
        return
    problems = ss.pop("_share_problems", [])
    for text in problems:
        st.warning(text)
    if not problems:
        st.success("Loaded the shared setup: its settings and data are in place. Press Train.")


def _decode_data(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    d = zlib.decompressobj()
    out = d.decompress(raw, MAX_SHARED_BYTES + 1)
    if len(out) > MAX_SHARED_BYTES or d.unconsumed_tail:
        raise ValueError("the shared data is larger than a share link may carry")
    return out


def apply_query(params: Mapping[str, str]) -> list[str]:
    """Restore settings and data from a share link; return problems as plain sentences (nothing raises)."""
    ss = st.session_state
    problems: list[str] = []
    if "data" in params:
        try:
            df = read_csv(_decode_data(params["data"]), max_bytes=MAX_SHARED_BYTES)
        except (ValueError, zlib.error, LinregError) as exc:
            problems.append(f"The shared data could not be read ({exc}); the tutorial data is loaded instead.")
        else:
            features = [f for f in params.get("x", "").split(",") if f] or None
            state.set_dataset(df, str(params.get("name", "Shared data"))[:80], params.get("y"), features)
    for key, (name, parse) in SETTINGS.items():
        if key in params:
            try:
                value = parse(params[key])
            except ValueError:
                problems.append(f"Ignored the shared setting {key}={params[key]!r}: not a valid value.")
                continue
            if key == "opt" and value not in OPTIMIZERS:
                problems.append(f"Ignored the shared optimizer {value!r}: choose one of {', '.join(OPTIMIZERS)}.")
                continue
            ss[name] = value
    try:
        if "deg" in params:
            ss.sel_degree = max(1, min(20, int(params["deg"])))
        if "icpt" in params:
            ss.sel_intercept = params["icpt"] != "0"
    except ValueError:
        problems.append("Ignored the shared polynomial degree: not a whole number.")
    frac, vseed = ss.cfg_val_frac, ss.cfg_val_seed
    if not (0.05 <= frac <= 0.5 and 0 <= vseed <= 2**31 - 1):
        problems.append(f"Ignored the shared validation split (share {frac!r}, seed {vseed!r}): the share must be "
                        "between 0.05 and 0.5 and the seed a whole number ≥ 0.")
        ss.cfg_val_frac, ss.cfg_val_seed = state.DEFAULTS["cfg_val_frac"], state.DEFAULTS["cfg_val_seed"]
    try:
        state.train_config().validate()
    except LinregError as exc:
        problems.append(f"The shared settings are not valid ({exc}); the defaults are restored.")
        for name, default in state.DEFAULTS.items():
            if name.startswith("cfg_"):
                ss[name] = default
    ss.cfg_lr_slider = state.nearest_lr_step(ss.cfg_lr)
    return problems


def apply_once() -> None:
    """On a session's first run, apply a share link's query parameters (if any)."""
    ss = st.session_state
    if ss.get("_share_checked"):
        return
    ss._share_checked = True
    params = {k: st.query_params[k] for k in st.query_params}
    if params:
        ss._share_problems = apply_query(params)
        ss._share_applied = True
