"""Linear Regression Studio: ``streamlit run app.py``.

Streamlit reads this file in two roles. ``streamlit run app.py`` first imports it as the module ``app`` and
finds ``app``, an ASGI application (``st.App``) that adds the studio's security headers and serves the live
charts' plotly.js (studio/server.py). Then every browser session runs it as its script, under the name
``__main__``: shared state, navigation, the page.
"""

import streamlit as st

if __name__ != "__main__":  # imported by `streamlit run` (or an ASGI server) to find the app
    from studio import server, warmup

    warmup.page_imports()  # what the first page needs, paid before the server listens (studio/warmup.py)
    warmup.preload_in_background()  # torch, once the first page has been shown
    app = st.App(__file__, routes=server.routes(), middleware=server.middleware(), on_script_error=server.on_script_error)
else:
    from studio import layout, memory, share, state, warmup

    st.set_page_config(page_title="Linear Regression Studio", page_icon="📈", layout="wide")
    layout.theme_menu()  # the ⋮ menu, whose System / Light / Dark items choose the theme
    with st.sidebar:
        layout.load_live_charts_early()
    warmup.warm_up()  # the preload under way (AppTest runs this script without `streamlit run`'s import of it)
    state.init()
    memory.session_token()  # its release at session end gives the memory back
    layout.page_styles()
    share.apply_once()
    train_page = st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", default=True)
    pages = [  # the guided path second: a first visitor finds it at once
        train_page,
        st.Page("app_pages/lessons.py", title="Lessons", icon=":material/menu_book:"),
        st.Page("app_pages/step.py", title="Step", icon=":material/step:"),
        st.Page("app_pages/race.py", title="Race", icon=":material/sports_score:"),
        st.Page("app_pages/data.py", title="Data", icon=":material/table:"),
        st.Page("app_pages/results.py", title="Results", icon=":material/analytics:"),
        st.Page("app_pages/how_it_works.py", title="How it works", icon=":material/school:"),
    ]
    page = st.navigation(pages)
    # The address follows the session (settings, data), so a reload keeps them; the Lessons page's, its lesson too.
    with st.sidebar:  # (a zero-height element: in the sidebar it moves nothing on the page)
        share.keep_in_url(lesson=st.session_state.lesson if page.url_path == "lessons" else None)
    state.leave_pages(on_train_page=page is train_page)
    with st.sidebar:
        layout.fold_sidebar_on_phones(page.title)
    try:
        page.run()
    finally:
        warmup.page_shown()  # torch's import waits for the first page (studio/warmup.py)
