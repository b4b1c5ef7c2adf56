"""Lessons: a short path through what gradient descent does, one lesson at a time — predict, run, explain."""

import streamlit as st

from studio import controls, share, state, warmup
from studio.lessons import LESSONS
from studio.settings import Settings

ss = st.session_state


def _open_on_train(index: int) -> None:
    """Load the lesson's data and settings into the session (the sidebar shows them), then go to Train."""
    lesson = LESSONS[index]
    ss.settings = Settings(**lesson.settings)  # the lesson's, the defaults for the rest
    state.load_preset(lesson.preset)
    ss.sel_degree = lesson.degree
    ss._goto_train = True


def _choose(index: int) -> None:
    ss.lesson = index
    ss.pop("_lesson_outcome", None)


def _picked() -> None:
    ss.pop("_lesson_outcome", None)


st.title("Lessons", anchor=False)
st.caption("Six short lessons for a class: each sets up data and settings, asks what you expect, runs it, and "
           "explains what happened with that run's own numbers. Open any lesson on the Train page to watch it live.")
if ss.pop("_goto_train", False):
    st.switch_page("app_pages/train.py")

st.radio("Lesson", range(len(LESSONS)), format_func=lambda i: f"{i + 1}. {LESSONS[i].title}",
         **controls.bind("lesson", _picked), horizontal=True)
index = int(ss.lesson)
lesson = LESSONS[index]
st.subheader(f"{index + 1}. {lesson.title}", anchor=False)
st.markdown(f"**Set-up.** {lesson.setup}")
# The question as the radio group's own label, in plain words: a screen reader reads the label as typed.
st.markdown(f"**Predict.** {lesson.question}")
guess = st.radio(f"Predict: {lesson.question}", range(len(lesson.choices)), format_func=lesson.choices.__getitem__,
                 index=None, key=f"lesson_guess_{index}", label_visibility="collapsed")
row = st.container(horizontal=True)  # (columns cut "Open it on the Train page" short at 1024 px)
if row.button("Run it", type="primary", key="btn_lesson_run", disabled=guess is None,
             help="Make a prediction first: it is the point of the lesson."):
    with st.spinner("Running…"):
        warmup.torch_ready()  # a lesson trains: torch and its thread policy first
        ss._lesson_outcome = (index, lesson.run())
row.button("Open it on the Train page", key="btn_lesson_open", on_click=_open_on_train, args=(index,),
          help="Loads this lesson's data and settings, so you can watch it train and change things.")

shown = ss.get("_lesson_outcome")
if shown is not None and shown[0] == index:
    outcome = shown[1]
    if guess == lesson.answer:
        st.success(f"**You predicted it:** {lesson.choices[lesson.answer]}.")
    else:
        st.info(f"**Not quite — it was:** {lesson.choices[lesson.answer]}.")
    st.markdown(outcome.text)
    # No Plotly toolbar: on a phone it covered the chart's title, and a lesson's chart is for looking, not zooming.
    st.plotly_chart(outcome.figure, key=f"lesson_fig_{index}", width="stretch", config={"displayModeBar": False})
    if index + 1 < len(LESSONS):
        st.button(f"Next: {LESSONS[index + 1].title}", key="btn_lesson_next", on_click=_choose, args=(index + 1,))
st.caption("Link to this lesson, for a class:")
st.code(share.lesson_url(index), language=None, wrap_lines=True)
