"""Input edge cases that used to slip through (classroom issue, item 3), in the library, the CLI and the app alike:
UTF-16 and compressed CSVs are read, damaged ones are one sentence; decimal commas agree everywhere; out-of-range
starting weights, penalties and log intervals are refused with exit code 2."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile

import numpy as np
import pandas as pd
import pytest
from app_support import goto, start, texts, upload

from linreg_core import DataError, build_design, fit_exact_design, read_csv
from linreg_core._cli import main

CSV = "x,y\n1,2.1\n2,3.9\n3,6.2\n4,7.8\n5,10.1\n"
EXPECTED = pd.read_csv(io.StringIO(CSV))


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


ENCODED = {
    "utf-16 (Excel's Unicode text)": CSV.encode("utf-16"),
    "utf-16 big-endian": b"\xfe\xff" + CSV.encode("utf-16-be"),
    "gzip": gzip.compress(CSV.encode()),
    "bz2": bz2.compress(CSV.encode()),
    "xz": lzma.compress(CSV.encode()),
    "zip of one csv": _zip({"data.csv": CSV.encode()}),
    "gzip of utf-16": gzip.compress(CSV.encode("utf-16")),
}


@pytest.mark.parametrize("kind", list(ENCODED))
def test_utf16_and_compressed_csvs_read_like_the_plain_file(kind, tmp_path, capsys):
    data = ENCODED[kind]
    pd.testing.assert_frame_equal(read_csv(data), EXPECTED)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    assert main(["fit", str(path), "--y", "y", "--method", "exact", "--json"]) == 0
    assert '"intercept": ' in capsys.readouterr().out


@pytest.mark.parametrize(("data", "message"), [
    (gzip.compress(CSV.encode(), mtime=0)[:20], "The gzip file is damaged or incomplete"),
    (_zip({"a.csv": CSV.encode(), "b.csv": CSV.encode()}), "The zip file holds 2 files ('a.csv', 'b.csv'); put exactly one"),
    (_zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<w/>"}), "This looks like an Excel workbook"),
    (b"PK\x03\x04" + bytes(200), "This looks like an Excel workbook or a zip file, but it cannot be opened"),
    (b"\xff\xfe" + "x,y\n1,2\n".encode("utf-16-le")[:-1], "starts as UTF-16 text but byte"),
])
def test_damaged_or_ambiguous_files_are_one_sentence(data, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        read_csv(data)
    assert "\n" not in str(info.value)


def test_decompressed_size_is_capped_like_an_upload():
    big = gzip.compress(b"x,y\n" + b"1,2\n" * 400_000)  # 1.6 MB of CSV in ~2 KB
    with pytest.raises(DataError, match="decompresses to more than the 1 MB limit"):
        read_csv(big, max_bytes=2**20)


def test_out_of_core_says_it_needs_plain_text(tmp_path, capsys):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(ENCODED["gzip"])
    assert main(["fit", str(path), "--y", "y", "--out-of-core"]) == 2
    assert "--out-of-core streams plain CSV text, and this file is gzip-compressed" in capsys.readouterr().err


def test_decimal_commas_agree_in_the_library_and_the_cli(tmp_path, capsys):
    path = tmp_path / "comma.csv"
    path.write_text("x;y\n1,5;2,5\n2,5;4,5\n3,0;6,1\n4,5;9,0\n")
    df = read_csv(path)
    assert df.x.tolist() == [1.5, 2.5, 3.0, 4.5]
    assert main(["fit", str(path), "--y", "y", "--method", "exact", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose([out["intercept"], *out["coef"]], fit_exact_design(build_design(df, "y", ["x"])).params)


@pytest.mark.parametrize(("args", "message"), [
    (["--init-weight", "1e300"], "The 'init_weight' parameter must be a finite float with |value| <= 1e+150. Got 1e+300"),
    (["--init-bias=-1e200"], "The 'init_bias' parameter must be a finite float with |value| <= 1e+150"),
    (["--l2", "inf"], "The 'l2' parameter must be a float in [0, inf). Got inf instead."),
    (["--log-every", "0"], "The 'log_every' parameter must be an int >= 1. Got 0 instead."),
    (["--log-every", "-5"], "The 'log_every' parameter must be an int >= 1. Got -5 instead."),
])
def test_out_of_range_settings_exit_2_with_one_sentence(tmp_path, capsys, args, message):
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    assert main(["fit", str(path), "--y", "y", *args]) == 2
    err = capsys.readouterr()
    assert message in err.err and err.err.count("\n") == 1 and "RuntimeWarning" not in err.err
    assert err.out == ""


@pytest.mark.parametrize("kind", ["utf-16 (Excel's Unicode text)", "gzip", "zip of one csv"])
def test_the_app_loads_them_too(kind):
    at = upload(goto(start(), "data"), "data.csv", ENCODED[kind])
    assert texts(at.success)[0].startswith("Loaded **data.csv**: 5 rows")
    pd.testing.assert_frame_equal(at.session_state.ds_df, EXPECTED)
