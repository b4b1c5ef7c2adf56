"""studio/settings.py: one record per training setting, read by the trainer, the sidebar, share links and re-open.

The tests go over every setting the record has, so a setting added there is checked here without a new test.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from app_support import goto, plain, shared_app, start, train_clicked

from linreg_core import TrainConfig
from studio import settings
from studio.settings import Settings


def other_value(name: str):
    """A value of setting ``name`` that is not its default and that its widget can show."""
    spec, default = settings.spec(name), getattr(Settings(), name)
    if isinstance(default, bool):
        return not default
    if spec.choices:
        return next(c for c in spec.choices if c != default)
    f = spec.field
    if f.integer:
        return int(default + 1 if default + 1 <= f.hi else default - 1)
    if f.on_steps:
        return round(f.lo + f.step * (2 if abs(default - (f.lo + f.step)) < 1e-12 else 1), 10)
    value = f.snap(default / 2 if default else (f.lo + f.hi) / 4)
    assert f.problem(value) is None and value != default
    return value


def changed() -> Settings:
    """Every setting at another value than its default (the device stays: the page lists what this server has)."""
    return Settings(**{name: other_value(name) for name in settings.names() if name != "device"})


def test_the_defaults_are_the_tutorials_training_configuration():
    assert Settings().to_config() == TrainConfig()
    assert TrainConfig().to_dict() | {"lr": 0.01, "epochs": 100, "optimizer": "sgd", "batch_size": 0} == \
        TrainConfig().to_dict()


@pytest.mark.parametrize("name", [n for n in settings.names() if settings.spec(n).field is not None])
def test_every_numbers_default_is_one_its_widget_can_show(name):
    assert settings.spec(name).field.problem(getattr(Settings(), name)) is None


def test_every_setting_the_trainer_has_goes_to_it_and_comes_back_from_a_run():
    s = changed()
    config = s.to_config()
    trained = {f.name for f in dataclasses.fields(TrainConfig)} & set(settings.names())
    assert trained and all(getattr(config, name) == getattr(s, name) for name in trained - {"tol"})
    assert config.tol == s.tol > 0
    assert Settings().with_config(config) == dataclasses.replace(s, **{n: getattr(Settings(), n)
                                                                      for n in set(settings.names()) - trained})
    assert Settings().to_config().tol is None  # a tolerance of 0 is none


def test_every_setting_has_its_widget_in_the_sidebar_and_a_change_there_reaches_the_run():
    at = start()
    s = changed()
    for name in settings.names():
        if name == "device":
            continue
        keyed = {getattr(w, "key", None): w for w in at.sidebar}
        widget = keyed.get(f"_w_{name}")
        assert widget is not None, f"no widget for the setting {name!r} in the sidebar"
        assert widget.label == settings.spec(name).label
        widget.set_value(getattr(s, name)).run()
        assert not at.exception
    assert at.session_state.settings == dataclasses.replace(s, device=at.session_state.settings.device)
    s = at.session_state.settings
    s.batch_size, s.engine = 0, "autograd"  # (a mini-batch run cannot use the statistics engine: a valid mix to train)
    assert train_clicked(at).config == s.to_config()


def test_a_share_link_carries_every_shared_setting_to_a_new_session():
    at = start()
    sent = changed()
    at.session_state["settings"] = sent
    goto(at, "results")  # its share link is built by the page's own code
    url = next(c.value for c in at.code if "?" in c.value and "lr=" in c.value)
    query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    got = shared_app(query).session_state.settings
    shared = {n for n in settings.names() if settings.spec(n).share}
    assert {n: getattr(got, n) for n in shared} == {n: getattr(sent, n) for n in shared}
    assert {n: getattr(got, n) for n in set(settings.names()) - shared} == \
        {n: getattr(Settings(), n) for n in set(settings.names()) - shared}  # the rest: the defaults


def test_a_share_link_value_the_widget_cannot_show_is_refused_by_name_and_the_default_stays():
    at = shared_app({"engine": "tensorflow", "lr": "0.1234567", "vseed": "-3", "val": "1"})
    notes = " ".join(plain(w.value) for w in at.warning)
    assert "Ignored the shared setting engine='tensorflow': choose one of auto, stats, autograd." in notes
    assert "lr='0.1234567': Learning rate: the box shows it as 0.123457" in notes
    assert "vseed='-3': Split seed: it must be a whole number from 0 to 2,147,483,647." in notes
    s = at.session_state.settings
    assert (s.engine, s.lr, s.val_seed, s.validation) == ("auto", 0.01, 0, True)
