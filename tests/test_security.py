"""Security posture, checked: server config, no unpickling or eval anywhere, JSON-only model files."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import tomllib

from linreg_core import build_design, fit_exact, model_json

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("linreg_core", "studio", "app_pages") for p in (ROOT / d).rglob("*.py")]
SOURCES += [ROOT / "app.py"]


def test_server_config_hides_error_details_and_keeps_protections_on():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"].get("enableCORS", True) is True
    assert 1 <= cfg["server"]["maxUploadSize"] <= 200  # MB: ~1M-row CSVs fit, nothing unbounded
    assert cfg["client"]["showErrorDetails"] in ("type", "none")  # users never see tracebacks; the log has them
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["server"]["fileWatcherType"] == "none"


def _calls(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            names.append(f.id if isinstance(f, ast.Name) else f"{getattr(f.value, 'id', '?')}.{f.attr}"
                         if isinstance(f, ast.Attribute) else "?")
    return names


def test_no_source_evaluates_strings_or_unpickles():
    forbidden = {"eval", "exec", "pickle.load", "pickle.loads", "torch.load", "marshal.loads", "__import__"}
    offenders = {str(p.relative_to(ROOT)): sorted(set(_calls(p)) & forbidden) for p in SOURCES}
    assert {k: v for k, v in offenders.items() if v} == {}
    imports = {str(p.relative_to(ROOT)) for p in SOURCES if "import pickle" in p.read_text()}
    assert imports == set()


def test_app_never_opens_user_supplied_paths():
    # Uploads arrive as bytes; the pages must not hand user text to open() or to path-taking readers.
    for page in [*(ROOT / "app_pages").glob("*.py"), ROOT / "app.py"]:
        calls = set(_calls(page))
        assert not calls & {"open", "os.remove", "os.open", "pd.read_csv", "stream_design"}, page.name


def test_model_export_is_plain_json():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.1, 5.9]})
    design = build_design(df, "y")
    doc = json.loads(model_json(design, None, fit_exact(design.X, design.y)))
    assert doc["format"].startswith("linreg-studio/model")
