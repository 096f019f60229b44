"""Reader for web pages (.html, .htm): the article text (trafilatura), else all visible text; the <title>."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from .clean import clean_text
from .results import LoadError


class _TextAndTitle(HTMLParser):
    """A fallback extractor and <title> reader that needs nothing but the standard library."""

    _SKIP = {"script", "style", "noscript", "template", "head", "nav", "footer", "svg"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: str | None = None
        self._in_title = False
        self._skip = 0
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self._parts.append("\n\n")
            if tag == "li":
                self._parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag in self._BLOCK:
            self._parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = ((self.title or "") + data).strip() or None
        elif not self._skip:
            self._parts.append(data.replace("\n", " "))

    def text(self) -> str:
        return "".join(self._parts)


def read(data: bytes) -> tuple[str, str | None]:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary content")
    html = _decode_html(data)
    parser = _TextAndTitle()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; a crash means garbage, extraction may still work
        pass
    extracted = None
    try:
        import trafilatura

        extracted = trafilatura.extract(
            html, include_comments=False, include_tables=True, favor_recall=True, output_format="txt"
        )
    except Exception:
        extracted = None
    # trafilatura drops pages it deems too short to be an article; then keep the plain text.
    text = extracted if extracted and extracted.strip() else parser.text()
    # trafilatura puts one paragraph per line: make each a paragraph before reflowing.
    if extracted:
        text = re.sub(r"\n+", "\n\n", text)
    return clean_text(text), parser.title


def _decode_html(data: bytes) -> str:
    head = data[:4096].decode("ascii", errors="ignore")
    m = re.search(r"""charset=["']?([\w-]+)""", head, re.IGNORECASE)
    if m:
        try:
            return data.decode(m.group(1), errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
