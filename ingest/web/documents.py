"""What a fetched response means for the index: a document's loader suffix and bytes (HTML in another charset
re-encoded as UTF-8), and the errors a crawl reports (an HTTP status, an unreadable sitemap, robots.txt)."""

from __future__ import annotations

from assistant.errors import WebFetchError
from ingest.web.fetch import WebResponse

_SUFFIX_BY_TYPE = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
}


def document_bytes(url: str, resp: WebResponse) -> tuple[str, bytes]:
    """The loader suffix and the bytes to index; HTML in another charset is re-encoded as UTF-8 (with BOM)."""
    media = resp.media_type
    body = resp.body
    if body.startswith(b"%PDF-"):
        return ".pdf", body
    suffix = _SUFFIX_BY_TYPE.get(media)
    if suffix == ".pdf":
        raise WebFetchError(
            f"{url}: als PDF ausgeliefert, aber keine PDF-Datei (Signatur %PDF- fehlt).",
            f"{url}: served as PDF but not a PDF file (the %PDF- signature is missing).",
        )
    if suffix is None:
        raise WebFetchError(
            f"{url}: Inhaltstyp „{media or '(keiner)'}“ wird nicht indexiert (nur HTML-Seiten, PDF, Text).",
            f"{url}: content type '{media or '(none)'}' is not indexed (only HTML pages, PDF, text).",
        )
    charset = resp.charset
    if charset and charset.replace("-", "").replace("_", "") not in ("utf8", "usascii", "ascii"):
        try:
            body = b"\xef\xbb\xbf" + body.decode(charset).encode("utf-8")
        except (LookupError, UnicodeDecodeError) as e:
            raise WebFetchError(
                f"{url}: Der Text passt nicht zur angegebenen Zeichenkodierung „{charset}“ ({e}).",
                f"{url}: the text does not match its declared character encoding '{charset}' ({e}).",
            ) from e
    return suffix, body


def status_error(url: str, status: int) -> WebFetchError:
    transient = status >= 500 or status in (408, 429)
    hint_de = " (vorübergehend; beim nächsten Abgleich erneut versucht)" if transient else ""
    hint_en = " (transient; tried again at the next sync)" if transient else ""
    return WebFetchError(
        f"{url}: Der Server antwortete mit HTTP {status}{hint_de}.",
        f"{url}: the server answered HTTP {status}{hint_en}.",
        transient=transient,
        status=status,
    )


def sitemap_error(url: str, why: str) -> WebFetchError:
    return WebFetchError(
        f"{url}: Die Sitemap ist nicht lesbar ({why}); nichts aus dieser Quelle wird entfernt.",
        f"{url}: the sitemap cannot be read ({why}); nothing of this source is removed.",
    )


def robots_error(url: str) -> WebFetchError:
    return WebFetchError(
        f"{url}: robots.txt der Website schließt diese Adresse für Crawler aus; nichts wird abgerufen.",
        f"{url}: the site's robots.txt disallows this address for crawlers; nothing is fetched.",
    )
