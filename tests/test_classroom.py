"""The Train page for a class (studio/classroom.py): the first visitor's card and presentation mode."""

from __future__ import annotations

from app_support import address, chart_specs, start, texts

from studio import classroom


def test_the_first_visit_card_shows_until_the_visitor_trains_or_closes_it():
    at = start()
    assert any(t.startswith("**New here?**") for t in texts(at.markdown))
    at.button(key="btn_welcome_close").click().run()
    assert not any(t.startswith("**New here?**") for t in texts(at.markdown))
    other = start()
    other.button(key="btn_train").click().run()  # training is the other way to say "got it"
    assert not any(t.startswith("**New here?**") for t in texts(other.markdown))


def test_presentation_mode_draws_the_charts_tall_with_large_text_and_exits():
    at = start()
    at.sidebar.button(key="btn_present").click().run()
    assert at.session_state.ui_present and not at.title  # no title, no card: the charts and the controls
    specs = chart_specs(at)
    assert len(specs) == 3 and all(s["layout"]["height"] == classroom.HEIGHT for s in specs)
    assert all(s["layout"]["font"]["size"] == classroom.FONT for s in specs)
    assert address(at).get("present") == "1"  # a reload stays in it
    at.button(key="btn_present_exit").click().run()
    assert not at.session_state.ui_present and at.title[0].value == "Train"
    assert all(s["layout"]["height"] != classroom.HEIGHT for s in chart_specs(at))
