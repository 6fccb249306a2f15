"""Text from filings and from URLs shown as plain text in Streamlit's markdown elements.

Streamlit renders titles, captions, alerts and markdown as Markdown (plus its own `:color[...]`, `:icon:` and
`$math$` syntax), so a filer's name or a `?title=` value could show an image from any host or restyle the page.
`plain()` backslash-escapes every ASCII punctuation character Markdown or Streamlit could act on, which renders
as the characters themselves.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|:~$=&\"'])")


def plain(text: object) -> str:
    """`text` escaped so that st.markdown/st.caption/st.title show it literally (one line; no HTML, no links)."""
    flat = " ".join(str(text if text is not None else "").split())
    return _SPECIAL.sub(r"\\\1", flat)
