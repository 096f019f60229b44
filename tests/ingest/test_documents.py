"""Loading a documents folder: every format, catalog metadata, and bad files that must be
skipped with a reason while the rest still loads."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from qa.ingest import LoadError, load_file, load_folder, markdown_to_text
from qa.ingest.split import split_document
from tests import unprivileged

PAGE_ONE = (
    "Het recht op deconnectie geldt voor alle werknemers van de onderneming. "
    "De werkgever maakt afspraken over de bereikbaarheid buiten de werkuren. "
) * 4
PAGE_TWO = (
    "Telewerk wordt geregeld in de collectieve arbeidsovereenkomst nummer 85. "
    "De werknemer krijgt een vergoeding voor de kosten van het thuiswerk. "
) * 4


def make_pdf(path: Path, pages: list[str], header: str | None = None, footer_numbers: bool = False,
             user_password: str | None = None) -> Path:
    class Pdf(FPDF):
        def header(self) -> None:
            if header:
                self.set_font("Helvetica", size=9)
                self.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            if footer_numbers:
                self.set_y(-15)
                self.set_font("Helvetica", size=9)
                self.cell(0, 8, str(self.page_no()), align="C")

    pdf = Pdf()
    for text in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    if user_password:
        pdf.set_encryption(owner_password="owner-" + user_password, user_password=user_password)
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Thuiswerk in de praktijk", level=1)
    document.add_paragraph("Wie structureel thuiswerkt, heeft recht op een tussenkomst in de kosten.")
    document.add_paragraph("laptop en scherm", style="List Bullet")
    document.add_paragraph("internetverbinding", style="List Bullet")
    document.add_heading("Bereikbaarheid", level=2)
    document.add_paragraph("Na de werkuren hoeft de werknemer geen mails te beantwoorden.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Vergoeding"
    table.cell(0, 1).text = "150 euro per maand"
    table.cell(1, 0).text = "Sector"
    table.cell(1, 1).text = "Paritair comité 200"
    document.save(str(path))
    return path


HTML = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Le droit à la déconnexion</title>
<style>body { color: red; }</style><script>var tracking = "SECRET_SCRIPT_TEXT";</script></head>
<body><nav><a href="/">Accueil</a> | <a href="/contact">Contact</a></nav>
<article><h1>Le droit à la déconnexion</h1>
<p>Depuis le 1er avril 2023, les entreprises de vingt travailleurs ou plus doivent conclure une
convention collective sur le droit à la déconnexion.</p>
<p>À défaut de convention, les modalités figurent dans le règlement de travail de l'entreprise,
qui précise quand le travailleur peut ne pas répondre aux messages.</p>
<ul><li>les périodes de repos</li><li>les congés</li></ul>
</article></body></html>
"""

MARKDOWN = """# Thuiswerk

**Wat zegt de cao?** Lees de [cao nr. 85](https://example.org/cao85) over *structureel* telewerk.

## Kosten

- De werkgever betaalt een **forfaitaire** vergoeding.
* Het materiaal blijft eigendom van de werkgever.
"""


# --- Each format ---------------------------------------------------------------------------


def test_pdf_two_pages_keep_page_numbers_through_chunks(tmp_path: Path) -> None:
    make_pdf(tmp_path / "telewerk.pdf", [PAGE_ONE, PAGE_TWO])
    doc = load_file(tmp_path / "telewerk.pdf", tmp_path)
    assert [p.number for p in doc.pages] == [1, 2]
    first, second = doc.pages
    assert "deconnectie" in doc.text[first.start:first.end]
    assert "Telewerk" in doc.text[second.start:second.end]
    assert doc.text[first.end:second.start] == "\n\n"
    chunks = split_document(doc, chunk_size=200, chunk_overlap=20)
    pages = {c.page for c in chunks}
    assert pages == {1, 2}
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        expected = 1 if c.start < second.start else 2
        assert c.page == expected
    assert all(c.page == 2 for c in chunks if "thuiswerk" in c.text)


def test_pdf_running_header_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    header = "Nationale Arbeidsraad - Rapport 131"
    pages = [f"Paragraaf {n}. " + PAGE_ONE for n in range(1, 5)]
    make_pdf(tmp_path / "rapport.pdf", pages, header=header, footer_numbers=True)
    doc = load_file(tmp_path / "rapport.pdf", tmp_path)
    assert header not in doc.text
    assert [p.number for p in doc.pages] == [1, 2, 3, 4]
    for span, n in zip(doc.pages, range(1, 5)):
        page_text = doc.text[span.start:span.end]
        assert page_text.startswith(f"Paragraaf {n}.")
        assert not page_text.rstrip().endswith(str(n))  # the footer page number is gone


def test_pdf_word_broken_at_line_end_is_joined(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for line in ["De werkgever moet de digitali-", "sering bespreken met de vakbond en het", "e-", "mailverkeer regelen."]:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "a.pdf"))
    doc = load_file(tmp_path / "a.pdf", tmp_path)
    assert doc.text == "De werkgever moet de digitalisering bespreken met de vakbond en het e-mailverkeer regelen."


def test_docx_paragraphs_headings_lists_and_tables(tmp_path: Path) -> None:
    make_docx(tmp_path / "thuiswerk.docx")
    doc = load_file(tmp_path / "thuiswerk.docx", tmp_path)
    assert doc.title == "Thuiswerk in de praktijk"
    paragraphs = doc.text.split("\n\n")
    assert paragraphs[0] == "Thuiswerk in de praktijk"
    assert "Wie structureel thuiswerkt, heeft recht op een tussenkomst in de kosten." in paragraphs
    assert "- laptop en scherm\n- internetverbinding" in doc.text
    assert "Bereikbaarheid" in paragraphs
    assert "Vergoeding | 150 euro per maand" in doc.text
    assert doc.pages == []


def test_html_uses_article_text_and_title_tag(tmp_path: Path) -> None:
    (tmp_path / "deconnexion.html").write_text(HTML, encoding="utf-8")
    doc = load_file(tmp_path / "deconnexion.html", tmp_path)
    assert doc.title == "Le droit à la déconnexion"
    assert "les entreprises de vingt travailleurs ou plus doivent conclure une convention collective" in doc.text
    assert "règlement de travail" in doc.text
    assert "SECRET_SCRIPT_TEXT" not in doc.text
    assert "color: red" not in doc.text


def test_markdown_markers_removed_and_headings_kept_as_paragraphs(tmp_path: Path) -> None:
    (tmp_path / "thuiswerk.md").write_text(MARKDOWN, encoding="utf-8")
    doc = load_file(tmp_path / "thuiswerk.md", tmp_path)
    assert doc.title == "Thuiswerk"
    assert "*" not in doc.text and "#" not in doc.text and "](" not in doc.text
    paragraphs = doc.text.split("\n\n")
    assert paragraphs[0] == "Thuiswerk"
    assert "Wat zegt de cao? Lees de cao nr. 85 over structureel telewerk." in paragraphs
    assert "Kosten" in paragraphs
    assert (
        "- De werkgever betaalt een forfaitaire vergoeding.\n- Het materiaal blijft eigendom van de werkgever."
        in doc.text
    )


def test_markdown_picture_caption_from_a_converter_is_dropped(tmp_path: Path) -> None:
    md = (
        "A group of people is sitting on a grassy hill, looking out over a city at sunset.\n\n"
        "# Verslag\n\nDe deelnemers bespraken het recht op deconnectie en de afspraken over telewerk.\n"
    )
    (tmp_path / "verslag.md").write_text(md, encoding="utf-8")
    doc = load_file(tmp_path / "verslag.md", tmp_path)
    assert "grassy hill" not in doc.text
    assert doc.text.startswith("Verslag\n\n")


def test_markdown_to_text_handles_nested_emphasis() -> None:
    assert markdown_to_text("**Minister De Sutter was *special guest*** vandaag") == (
        "Minister De Sutter was special guest vandaag"
    )


def test_txt_with_catalog_metadata_and_hash(tmp_path: Path) -> None:
    raw = "Het recht op deconnectie\n\nDe werkgever maakt afspraken over bereikbaarheid.\n".encode()
    (tmp_path / "nota.txt").write_bytes(raw)
    (tmp_path / "catalog.json").write_text(
        json.dumps({"nota.txt": {"title": "Nota deconnectie", "publisher": "ACV", "date": "2023-05-30"}}),
        encoding="utf-8",
    )
    result = load_folder(tmp_path)
    assert result.skipped == []
    [doc] = result.documents  # catalog.json itself is not a document
    assert (doc.doc, doc.title, doc.publisher, doc.date) == ("nota.txt", "Nota deconnectie", "ACV", "2023-05-30")
    import hashlib

    assert doc.sha256 == hashlib.sha256(raw).hexdigest()


def test_title_falls_back_to_first_heading_then_first_line_then_file_name(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("3.1 Toekomstgerichte competenties\n\nTekst over opleiding.\n", encoding="utf-8")
    long_line = "Dit is een heel lange eerste regel zonder kop " * 5
    (tmp_path / "b.txt").write_text(long_line + "\n", encoding="utf-8")
    assert load_file(tmp_path / "a.txt", tmp_path).title == "3.1 Toekomstgerichte competenties"
    title_b = load_file(tmp_path / "b.txt", tmp_path).title
    assert len(title_b) <= 120 and title_b.startswith("Dit is een heel lange eerste regel")


def test_cp1252_text_is_decoded_when_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "oud.txt").write_bytes("Privé- en beroepsleven: één afspraak, geïnformeerd.".encode("cp1252"))
    doc = load_file(tmp_path / "oud.txt", tmp_path)
    assert doc.text == "Privé- en beroepsleven: één afspraak, geïnformeerd."


def test_folder_walk_is_recursive_sorted_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b.txt").write_text("Tweede document over telewerk en thuiswerk.", encoding="utf-8")
    (tmp_path / "sub" / "a.txt").write_text("Document in een submap over deconnectie.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Eerste document over opleiding.", encoding="utf-8")
    (tmp_path / ".verborgen.txt").write_text("verborgen", encoding="utf-8")
    (tmp_path / ".git" / "config.txt").write_text("git", encoding="utf-8")
    result = load_folder(tmp_path)
    assert [d.doc for d in result.documents] == ["a.txt", "b.txt", "sub/a.txt"]
    assert result.skipped == []


# --- Bad input -----------------------------------------------------------------------------


def _reasons(tmp_path: Path, **kwargs) -> tuple[list[str], dict[str, str]]:
    result = load_folder(tmp_path, **kwargs)
    return [d.doc for d in result.documents], {s.doc: s.reason for s in result.skipped}


def test_bad_files_are_skipped_with_reasons_and_the_rest_loads(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("Buiten de map: mag niet geladen worden.", encoding="utf-8")

    (folder / "goed.txt").write_text("Een goed document over het recht op deconnectie.", encoding="utf-8")
    make_pdf(folder / "goed.pdf", [PAGE_ONE])
    (folder / "kapot.pdf").write_bytes(os.urandom(2048))
    (folder / "half.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage without xref")
    make_pdf(folder / "geheim.pdf", [PAGE_ONE], user_password="secret")
    blank = FPDF()
    blank.add_page()
    blank.rect(10, 10, 50, 50)  # an image-like page: no text layer
    blank.output(str(folder / "scan.pdf"))
    (folder / "leeg.txt").write_bytes(b"")
    (folder / "spaties.txt").write_text("   \n\n \t \n", encoding="utf-8")
    (folder / "binair.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(200))
    (folder / "ongeldig.txt").write_bytes(b"Tekst met \x81\x8d\x8f\x90\x9d ongeldige bytes")
    (folder / "tabel.xlsx").write_bytes(b"PK\x03\x04 not really")
    (folder / "link.txt").symlink_to(outside)
    (folder / "dood.txt").symlink_to(tmp_path / "bestaat-niet.txt")
    (folder / "binnen.txt").symlink_to(folder / "goed.txt")

    loaded, skipped = _reasons(folder)
    assert loaded == ["binnen.txt", "goed.pdf", "goed.txt"]
    assert skipped["kapot.pdf"].startswith("corrupt PDF")
    assert skipped["half.pdf"].startswith("corrupt PDF")
    assert skipped["geheim.pdf"] == "encrypted PDF: needs a password"
    assert skipped["scan.pdf"] == "no text (scanned?)"
    assert skipped["leeg.txt"] == "empty"
    assert skipped["spaties.txt"] == "empty"
    assert skipped["binair.txt"] == "binary content"
    assert skipped["ongeldig.txt"] == "not valid UTF-8 or Windows-1252 text"
    assert skipped["tabel.xlsx"] == "unsupported type .xlsx"
    assert skipped["link.txt"] == "symlink points outside the folder"
    assert skipped["dood.txt"] == "broken symlink"
    assert set(skipped) == {
        "kapot.pdf", "half.pdf", "geheim.pdf", "scan.pdf", "leeg.txt", "spaties.txt", "binair.txt",
        "ongeldig.txt", "tabel.xlsx", "link.txt", "dood.txt",
    }


def test_symlinked_folder_outside_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    (elsewhere / "x.txt").write_text("Tekst buiten de map.", encoding="utf-8")
    (folder / "extern").symlink_to(elsewhere, target_is_directory=True)
    (folder / "a.txt").write_text("Tekst binnen de map.", encoding="utf-8")
    loaded, skipped = _reasons(folder)
    assert loaded == ["a.txt"]
    assert skipped == {"extern": "symlink points outside the folder"}


def test_file_over_the_size_limit_is_too_large(tmp_path: Path) -> None:
    (tmp_path / "groot.txt").write_text("telewerk " * 2000, encoding="utf-8")
    (tmp_path / "klein.txt").write_text("Een klein document over telewerk.", encoding="utf-8")
    loaded, skipped = _reasons(tmp_path, max_bytes=10_000)
    assert loaded == ["klein.txt"]
    assert skipped["groot.txt"].startswith("too large")


def test_broken_catalog_is_reported_and_documents_still_load(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Een document over telewerk.", encoding="utf-8")
    result = load_folder(tmp_path)
    assert [d.doc for d in result.documents] == ["a.txt"]
    assert result.documents[0].title == "Een document over telewerk."
    assert result.skipped[0].doc == "catalog.json"
    assert result.skipped[0].reason.startswith("unreadable catalog")


def test_unreadable_file_real_permissions(tmp_path: Path) -> None:
    # in a child process that file permissions bind even when the tests run as root (tests/unprivileged.py)
    (tmp_path / "a.txt").write_text("Leesbaar document over telewerk.", encoding="utf-8")
    locked = tmp_path / "slot.txt"
    locked.write_text("Niet leesbaar.", encoding="utf-8")
    locked.chmod(0)
    code = ("import json, sys; from pathlib import Path; from qa.ingest import load_folder; "
            "r = load_folder(Path(sys.argv[1])); "
            "print(json.dumps([[d.doc for d in r.documents], {s.doc: s.reason for s in r.skipped}]))")
    try:
        done = unprivileged.run([sys.executable, "-c", code, str(tmp_path)])
    finally:
        locked.chmod(0o644)
    assert done.returncode == 0, done.stderr
    loaded, skipped = json.loads(done.stdout.splitlines()[-1])
    assert loaded == ["a.txt"]
    assert skipped == {"slot.txt": "unreadable: permission denied"}


def test_missing_folder_is_an_error_not_an_empty_result(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        load_folder(tmp_path / "bestaat-niet")


def test_load_file_raises_load_error_with_reason(tmp_path: Path) -> None:
    (tmp_path / "x.odt").write_bytes(b"whatever")
    with pytest.raises(LoadError) as info:
        load_file(tmp_path / "x.odt", tmp_path)
    assert info.value.reason == "unsupported type .odt"
    assert str(info.value) == "unsupported type .odt"
