"""What a re-sync of an unchanged 100-page website costs (issue 14): time, HTTP requests, parsed and embedded
documents. The site is served on loopback; the index lives in a temporary folder.

    .venv/bin/python -m benchmarks.web_resync [--pages 100] [--delay 0]

Three runs: the first sync, a re-sync where the server answers ETags with 304, and a re-sync against a server
without validators (every page downloaded again; the content hash skips parsing and embedding).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from assistant.config import Settings
from assistant.services import build_services
from ingest.pipeline import IngestReport
from ingest.web.fetch import WebLimits
from ingest.web.sync import WebSources, sync_source
from tests.web_sources.site import Route, TestSite, page


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds between requests (setting web_delay_s)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, TestSite() as site:
        n = args.pages
        urls = "".join(f"<url><loc>{site.url}/p{i}.html</loc></url>" for i in range(n))
        site.routes["/sitemap.xml"] = Route(
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode(),
            content_type="application/xml",
        )
        for i in range(n):
            body = "".join(
                f"<p>Seite {i}, Absatz {j}: Die Kommune {i} verstetigt ihr Pilotprojekt {j} mit einem "
                "Betreibermodell, einer Haushaltsstelle und einem Beschluss des Gemeinderats.</p>"
                for j in range(4)
            )
            site.routes[f"/p{i}.html"] = Route(page(f"Praxisbeispiel {i}", body))
        services = build_services(Settings(index_dir=Path(tmp), web_allow_private=True))
        limits = WebLimits(allow_private=True, delay_s=args.delay)
        results = {}
        for label in ("first_sync", "resync_304", "resync_no_etag"):
            if label == "resync_no_etag":
                site.etags = False
            report = IngestReport()
            start = time.perf_counter()
            outcome = sync_source(
                services.pipeline(), WebSources(Path(tmp)), site.url + "/sitemap.xml", limits, report
            )
            results[label] = {
                "seconds": round(time.perf_counter() - start, 2),
                "requests": outcome.requests,
                "downloaded_documents": outcome.fetched,
                "not_modified_304": outcome.not_modified,
                "parsed_and_embedded_documents": len(report.added) + len(report.updated),
                "embedded_chunks": report.embedded_chunks,
                "unchanged": len(report.unchanged),
            }
        print(json.dumps({"pages": n, "delay_s": args.delay, **results}, indent=1))


if __name__ == "__main__":
    main()
