"""Text from filings and from URLs shown as plain text in Streamlit's markdown elements.

Streamlit renders titles, captions, alerts and markdown as Markdown (plus its own `:color[...]`, `:icon:` and
`$math$` syntax), so a filer's name or a `?title=` value could show an image from any host, a link, or restyle the
page. `plain()` backslash-escapes every character that could start such markup (and a block marker at the start of
the line), which renders as the character itself.
"""

from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*_\[\]<>!$:~|{}&])")
_BLOCK = re.compile(r"^([#+\-=])")
_LIST = re.compile(r"^(\d+)([.)])")


def plain(text: object) -> str:
    """`text` on one line, escaped so that st.markdown/st.caption/st.title show it literally (no images, links,
    HTML, icons, colours or math)."""
    flat = " ".join(str(text if text is not None else "").split())
    flat = _INLINE.sub(r"\\\1", flat)
    return _LIST.sub(r"\1\\\2", _BLOCK.sub(r"\\\1", flat))
