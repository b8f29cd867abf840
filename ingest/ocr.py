"""Optical character recognition for PDF pages without a text layer, with Tesseract (optional).

Runs inside the isolated PDF child (ingest.isolation), so the child's memory and time limits hold for it too: the
page's largest embedded image (a scanned page is one picture) goes to the ``tesseract`` command with what is left
of the OCR budget as its timeout. Without Tesseract the pages stay flagged as having no text, with an install
hint. Debian: ``apt-get install tesseract-ocr tesseract-ocr-deu`` (``make setup`` does it when run as root).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any

INSTALL_HINT_DE = (
    "Mit Tesseract würden solche Seiten per Texterkennung gelesen: sudo apt-get install tesseract-ocr "
    "tesseract-ocr-deu (oder make setup als root)."
)
INSTALL_HINT_EN = "Install Tesseract to OCR such pages: sudo apt-get install tesseract-ocr tesseract-ocr-deu."

#: Images smaller than this (pixels) are logos or icons, not scanned pages.
MIN_SCAN_PIXELS = 200 * 200


@functools.cache
def tesseract_languages() -> str:
    """ "deu+eng" (or what is installed of them) when Tesseract can run, "" otherwise."""
    exe = shutil.which("tesseract")
    if exe is None:
        return ""
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    langs = [lang for lang in ("deu", "eng") if lang in out.split()]
    return "+".join(langs)


def _drawn_images(page: Any) -> list[tuple[int, str]]:
    """(pixels, name) of the images the page's content stream draws, largest first. Only drawn ones: exports
    often list every image of the document in each page's resources, and OCR must read this page's picture."""
    from pypdf.generic import ContentStream

    content = page.get_contents()
    if content is None:
        return []
    names = {ops[0] for ops, op in ContentStream(content, page.pdf).operations if op == b"Do" and ops}
    xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
    out = []
    for name in names:
        ref = xobjects.get(name)
        obj = ref.get_object() if ref is not None else None
        if obj is not None and obj.get("/Subtype") == "/Image":
            out.append((int(obj.get("/Width", 0)) * int(obj.get("/Height", 0)), str(name)))
    return sorted(out, reverse=True)


def ocr_page(page: Any, lang: str, deadline: float) -> tuple[str | None, str]:
    """(text, status) of one pypdf page: status "ok", "no_image", "timeout" or "failed"."""
    try:
        drawn = _drawn_images(page)
        if not drawn or drawn[0][0] < MIN_SCAN_PIXELS:
            return None, "no_image"
        image = page.images[drawn[0][1]].image
    except Exception:  # noqa: BLE001 - undecodable images: nothing to read
        return None, "failed"
    if image is None:
        return None, "failed"
    remaining = deadline - time.monotonic()
    if remaining < 1:
        return None, "timeout"
    with tempfile.TemporaryDirectory(prefix="lotse-ocr-") as tmp:
        png = os.path.join(tmp, "page.png")
        image.convert("L").save(png)
        try:
            done = subprocess.run(
                ["tesseract", png, "-", "-l", lang, "--psm", "3"],
                capture_output=True,
                timeout=remaining,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # two cores are shared with answers
            )
        except subprocess.TimeoutExpired:
            return None, "timeout"
        except OSError:
            return None, "failed"
    if done.returncode != 0:
        return None, "failed"
    return done.stdout.decode("utf-8", "replace"), "ok"
