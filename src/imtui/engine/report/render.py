"""HTML (Jinja2, autoescaped) → PDF (WeasyPrint).  Both steps are blocking: call them from a
worker thread.  The template and its CSS are files in ``templates/`` so a site can read them and
we can change the layout without touching code."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from imtui.engine.report.model import ReportModel

TEMPLATES = Path(__file__).parent / "templates"
THUMB_WIDTH = 320  # pixels; printed about 6 cm wide


def thumbnail_uri(frame: np.ndarray) -> str:
    """A BGR frame as a small JPEG data URI (the PDF embeds it; nothing refers to the media store)."""
    h, w = frame.shape[:2]
    if w > THUMB_WIDTH:
        frame = cv2.resize(frame, (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")


def css_string(text: str) -> str:
    """``text`` as a CSS string literal (for the running page footer)."""
    escaped = "".join(ch if ch.isalnum() or ch in " .,:-+()/" else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'


def render_html(model: ReportModel, labels: dict[str, str]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["css_string"] = css_string
    return env.get_template("report.html").render(r=model, t=labels)


def write_pdf(html: str, target: Path) -> int:
    """Render ``html`` and write it to ``target`` atomically (a temporary file in the same folder,
    then a rename: a crash or a full disk never leaves half a PDF under the chosen name).
    Returns the number of pages."""
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render(
        stylesheets=[weasyprint.CSS(filename=str(TEMPLATES / "report.css"))])
    fd, tmp = tempfile.mkstemp(prefix=".imtui-report-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            document.write_pdf(out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(document.pages)
