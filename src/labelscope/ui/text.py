"""User text shown literally by Streamlit: ``md_escape`` for markdown, ``plain`` for messages."""
from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$:])")


def md_escape(text: object) -> str:
    """Text shown literally by Streamlit's markdown (labels such as ``wear_female_<30``)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


_PLAIN_SPECIAL = re.compile(r"([\\`*_\[\]<>!~$:|])")


def plain(text: object) -> str:
    """A message shown literally by ``st.success``/``st.error``/``st.caption``: no link, image, HTML,
    colour directive, emphasis or autolink can come out of a user's string (a note, a label, a
    path). Lighter than ``md_escape``: parentheses, dots and dashes inside a sentence stay as
    they are, so messages read (and compare) naturally."""
    s = _PLAIN_SPECIAL.sub(r"\\\1", str(text)).replace("www.", "www\\.")
    return "\\" + s if s[:1] in ("-", "+", "#", "=") or re.match(r"\d+[.)] ", s) else s
