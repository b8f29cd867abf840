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


def ocr_page(page: Any, lang: str, deadline: float) -> tuple[str | None, str]:
    """(text, status) of one pypdf page: status "ok", "no_image", "timeout" or "failed"."""
    try:
        images = [img for img in page.images if img.image is not None]
    except Exception:  # noqa: BLE001 - undecodable images: nothing to read
        return None, "failed"
    images = [img for img in images if img.image.width * img.image.height >= MIN_SCAN_PIXELS]
    if not images:
        return None, "no_image"
    largest = max(images, key=lambda img: img.image.width * img.image.height)
    remaining = deadline - time.monotonic()
    if remaining < 1:
        return None, "timeout"
    with tempfile.TemporaryDirectory(prefix="lotse-ocr-") as tmp:
        png = os.path.join(tmp, "page.png")
        largest.image.convert("L").save(png)
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
