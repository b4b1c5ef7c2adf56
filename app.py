"""Linear Regression Studio — entry point: shared state, navigation."""

import streamlit as st

from studio import layout, memory, share, state

st.set_page_config(page_title="Linear Regression Studio", page_icon="📈", layout="wide")
state.init()
memory.session_token()  # its release at session end gives the memory back
layout.page_styles()
share.apply_once()
train_page = st.Page("pages/train.py", title="Train", icon=":material/model_training:", default=True)
pages = [
    train_page,
    st.Page("pages/step.py", title="Step", icon=":material/step:"),
    st.Page("pages/race.py", title="Race", icon=":material/sports_score:"),
    st.Page("pages/data.py", title="Data", icon=":material/table:"),
    st.Page("pages/results.py", title="Results", icon=":material/analytics:"),
    st.Page("pages/how_it_works.py", title="How it works", icon=":material/school:"),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/menu_book:"),
]
page = st.navigation(pages)
state.leave_pages(on_train_page=page is train_page)
with st.sidebar:
    layout.fold_sidebar_on_phones(page.title)
page.run()
