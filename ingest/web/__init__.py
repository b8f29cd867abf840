"""Websites as sources: ``lotse ingest URL`` and ``lotse sync``.

* :mod:`ingest.web.fetch`: one guarded HTTP GET (SSRF policy, redirects on the same host, size, time and
  decompression limits, politeness per host);
* :mod:`ingest.web.discover`: robots.txt, sitemaps and links, as pure functions;
* :mod:`ingest.web.crawler`: one crawl of a source, with conditional requests;
* :mod:`ingest.web.sync`: the registry of web sources and one sync (crawl, then the incremental pipeline).

Main-content extraction is the HTML loader's (:mod:`ingest.loaders.html`). trafilatura was compared with it on
``realdocs/ogd-kanton-zh/publikationsleitlinien.html``: both drop the navigation and the header and keep the
same body text; the loader also keeps the heading structure (section paths of the citations), while
trafilatura flattens headings into the text, drops a caption and needs lxml, justext, dateparser and six other
packages (its fresh install did not even import without ``lxml_html_clean``). So it is not used.
"""
