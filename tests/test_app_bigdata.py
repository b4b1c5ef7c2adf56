"""AppTest: a server data folder (LINREG_DATA_DIR) — datasets listed, fitted over every row on a Dask cluster, only a
uniform sample in the session; paths outside the folder refused; off by default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from app_support import address, goto, start, texts, train_clicked

from linreg_core import DataError, build_design, build_formula_design, fit_exact_design


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    n = 24_000
    df = pd.DataFrame({"x": rng.uniform(0, 10, n), "z": rng.normal(size=n),
                       "group": rng.choice(["a", "b", "c"], n)})
    df["y"] = 1.5 * df.x - 2.0 * df.z + df.group.map({"a": 0.0, "b": 1.0, "c": -1.0}) + rng.normal(size=n)
    folder = tmp_path / "data"
    (folder / "sales").mkdir(parents=True)
    for i, chunk in enumerate(np.array_split(df, 4)):
        chunk.to_parquet(folder / "sales" / f"part-{i}.parquet")
    df.iloc[:100].to_csv(folder / "small.csv", index=False)
    (tmp_path / "secret.csv").write_text("x,y\n1,2\n2,3\n")
    monkeypatch.setenv("LINREG_DATA_DIR", str(folder))
    return folder, df


def test_server_datasets_fit_every_row_and_send_only_a_sample(data_dir):
    folder, df = data_dir
    at = goto(start(), "data")
    assert at.selectbox(key="server_pick").options == ["sales/", "small.csv"]
    at.selectbox(key="server_pick").set_value("sales/")
    at.button(key="btn_server_load").click().run()
    assert not at.exception
    assert "Loaded **sales/**: 24,000 rows on the server, 5,000 sampled for the charts." in texts(at.success)
    assert len(at.session_state.ds_df) == 5_000  # the browser never receives more
    at.multiselect(key="_w_sel_features").set_value(["x", "z", "group"]).run()
    assert "Ready: 24,000 rows" in texts(at.success)[-1]
    exact = at.session_state._problem[1].exact
    ref = fit_exact_design(build_formula_design(df, "y ~ x + z + group"))
    np.testing.assert_allclose(exact.params, ref.params, rtol=1e-10)
    goto(at, "train")
    at.toggle(key="_w_standardize").set_value(True).run()
    run = train_clicked(at)
    assert run.status == "completed"
    for page in ("results", "step", "race", "how_it_works", "data"):
        goto(at, page)
        assert not at.exception


def test_a_column_model_on_server_data_equals_the_in_memory_fit(data_dir):
    folder, df = data_dir
    at = goto(start(), "data")
    at.selectbox(key="server_pick").set_value("sales/")
    at.button(key="btn_server_load").click().run()
    at.selectbox(key="_w_sel_target").set_value("y").run()
    at.multiselect(key="_w_sel_features").set_value(["x"]).run()
    at.number_input(key="_w_sel_degree").set_value(3).run()
    exact = at.session_state._problem[1].exact
    np.testing.assert_allclose(exact.params, fit_exact_design(build_design(df, "y", ["x"], 3)).params, rtol=1e-9)


def test_paths_outside_the_data_folder_are_refused(data_dir):
    from studio import bigdata

    for name in ("../secret.csv", "/etc/passwd", "..", "sales/../../secret.csv"):
        with pytest.raises(DataError, match="not a dataset of this server's data folder"):
            bigdata.files_of(name)
    assert [f.rsplit("/", 1)[1] for f in bigdata.files_of("sales/")] == [f"part-{i}.parquet" for i in range(4)]


def test_without_a_data_folder_there_is_no_server_tab(monkeypatch):
    monkeypatch.delenv("LINREG_DATA_DIR", raising=False)
    at = goto(start(), "data")
    assert [t.label for t in at.tabs] == ["Presets", "Upload CSV", "Noisy line generator"]


def test_a_pipe_or_a_bad_file_in_the_data_folder_is_named_without_the_servers_path(data_dir):
    """A named pipe once held the page until its wait ran out and then named the server's absolute path; a bad
    file's message named it too. Messages name files relative to the data folder."""
    import os

    folder, _ = data_dir
    (folder / "piped").mkdir()
    os.mkfifo(folder / "piped" / "live.csv")
    (folder / "broken").mkdir()
    (folder / "broken" / "part.csv").write_text("x,y\n1,2\n2,oops\n3,4\n")
    at = goto(start(), "data")
    at.selectbox(key="server_pick").set_value("piped/")
    at.button(key="btn_server_load").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1 and "'piped/live.csv' is not a regular file" in errors[0], errors
    assert str(folder) not in errors[0], errors
    assert at.session_state.ds_server is None  # the preset stays loaded
    at.selectbox(key="server_pick").set_value("broken/")  # loads (a sample); its fit names the bad cell
    at.button(key="btn_server_load").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert errors and "'oops'" in errors[-1] and str(folder) not in " ".join(errors), errors


def test_a_server_dataset_is_kept_in_the_address_by_its_name_and_a_reload_loads_it_again(data_dir):
    from app_support import shared_app

    at = goto(start(), "data")
    at.selectbox(key="server_pick").set_value("small.csv")
    at.button(key="btn_server_load").click().run()
    q = address(at)
    assert q["srv"] == "small.csv" and "lost" not in q and "data" not in q  # its name, not its rows
    again = shared_app(q)
    assert again.session_state.ds_server == "small.csv" and len(again.session_state.ds_df) == 100
    outside = shared_app({"srv": "../secret.csv"})  # a name outside the folder: refused, in words
    assert any("could not be loaded" in t for t in texts(outside.warning))
    assert outside.session_state.ds_server is None


@pytest.mark.parametrize("name", ["*", "sales/*.parquet", ".hidden.csv", "notes.txt"])
def test_a_link_may_name_only_a_dataset_the_data_page_lists(data_dir, name):
    from app_support import shared_app

    folder, _ = data_dir
    (folder / ".hidden.csv").write_text("x,y\n1,2\n2,3\n")
    (folder / "notes.txt").write_text("x,y\n1,2\n2,3\n")
    at = shared_app({"srv": name})
    assert any("not one of the datasets in the server's data folder" in t for t in texts(at.warning))
    assert at.session_state.ds_server is None and at.session_state.ds_name.startswith("Tutorial")
