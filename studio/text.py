"""User-controlled text shown as text: dataset, column and file names, and messages that quote them.

Streamlit renders Markdown almost everywhere (captions, alerts, tooltips, ``st.write``), with links,
images, autolinks, colour directives, icons and ``$…$`` LaTeX; Plotly labels take a subset of HTML
(``<a href>``, ``<b>``, ``<br>``); KaTeX takes commands. A name that reaches any of them unescaped can put
a phishing link, a remote image or a page-covering box into another person's page (through a share link).
Every string that did not come from our own code goes through one of these functions before it is shown.
"""

from __future__ import annotations

import re

MAX_NAME = 120  # a 50,000-character column name would otherwise fill the page

# Control characters break Markdown blocks (a newline can start a heading or a table); bidirectional
# overrides can make a name read as something else ("trojan source").
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# CommonMark lets a backslash make ASCII punctuation literal: escaped are the characters that start a link,
# image, emphasis, code, HTML, list, table or heading, '$' (LaTeX) and '&' (entities). Some patterns are found
# later, in the parsed text, where escapes are already undone: GFM's autolinks (https://…, www.…, a@b.c) and
# Streamlit's :color[…], :material/…: and emoji shortcodes. An invisible word joiner (U+2060) breaks those: after
# a ':' that touches the next character, before an '@' that touches the previous one, and inside 'www.'.
# Ordinary text ("Tutorial: 4 points", quotes, commas, periods) is left exactly as it was.
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]<>#+\-!|~$&])")
JOINER = "\u2060"
_COLON = re.compile(r":(?=\S)")
_AT = re.compile(r"(?<=\S)@")
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
_LIST = re.compile(r"^(\s*\d+)([.)])")  # "1. " at the start would open a numbered list
_TEX_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "%": r"\%", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_TEX_SPECIAL = re.compile(r"[\\{}$&#%_~^]")


def clip(text: object, limit: int = MAX_NAME) -> str:
    """``text`` on one line, without control or bidi characters, at most ``limit`` characters."""
    s = _INVISIBLE.sub(" ", str(text))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def md(text: object, limit: int = MAX_NAME) -> str:
    """``text`` as literal Markdown: no link, image, emphasis, directive or formula can come out of it."""
    out = _MD_PUNCT.sub(r"\\\1", clip(text, limit))
    out = _AT.sub(JOINER + "@", _COLON.sub(":" + JOINER, out))
    return _LIST.sub(r"\1\\\2", _WWW.sub("\\1" + JOINER + ".", out))


def md_list(names, limit: int = MAX_NAME) -> str:
    """Several names, each escaped, joined with commas."""
    return ", ".join(md(n, limit) for n in names)


def tex(text: object, limit: int = 60) -> str:
    """``text`` as upright KaTeX text: every command character escaped, so nothing but the text renders."""
    return r"\text{" + _TEX_SPECIAL.sub(lambda m: _TEX_ESCAPES[m.group()], clip(text, limit)) + "}"


def plot(text: object, limit: int = MAX_NAME) -> str:
    """``text`` for a Plotly label (axis title, legend, hover): its HTML-like tags shown, not obeyed."""
    return clip(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
