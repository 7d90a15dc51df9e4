"""Fixture news sites for the crawl tests, built at test time from the seed texts and served by a
real threaded HTTP server on 127.0.0.1.

Site A (host 127.0.0.1) is a news site: every article wrapped in site chrome (navigation, footer,
a "recommended" list, share buttons), an index, RSS and Atom feeds, a news sitemap, a robots.txt
disallowing /private/, a redirect, a 404, a page failing with 500 once, a page over the size
limit, a non-HTML file and a GBK page. Site B (host "localhost", another port) reprints two of
A's articles, content-farm style. Every page has an ETag and a Last-Modified date, and the server
answers conditional requests with 304.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import html
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
WATERMARK = "5V5即热新闻——关注每天科技社会生活新变化gihot.com"
SITE_NAME = "每日样例报"
CHROME = ("首页", "关于我们", "分享到", "为你推荐", "版权所有", "京ICP备", "扫码下载客户端")
LAST_MODIFIED = email.utils.formatdate(1742198400, usegmt=True)  # 2025-03-17


@dataclasses.dataclass
class Page:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None  # a redirect target
    failures: int = 0  # answer 500 this many times first
    validators: bool = True  # ETag and Last-Modified, and 304 on a conditional request
    gate: threading.Event | None = None  # hold the answer until this is set


@dataclasses.dataclass
class Hit:
    path: str
    status: int
    conditional: bool


class FixtureServer:
    """A threaded HTTP server on 127.0.0.1; `host` is the name its URLs use."""

    def __init__(self, host: str = "127.0.0.1", delay: float = 0.0):
        self.host = host
        self.delay = delay
        self.pages: dict[str, Page] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a crawler hanging up is no error
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FixtureServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def count(self, path: str, status: int | None = None) -> int:
        return sum(1 for h in self.hits if h.path == path and (status is None or h.status == status))


def _handler(server: FixtureServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            page = server.pages.get(path)
            conditional = bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"))
            if page is None:
                return self._send(path, 404, b"<html><body>not found</body></html>", "text/html", conditional)
            if page.gate is not None:
                page.gate.wait(60)
            if server.delay:
                time.sleep(server.delay)
            if page.location:
                return self._send(path, 301, b"", "text/html", conditional, {"Location": page.location})
            if page.failures > 0:
                page.failures -= 1
                return self._send(path, 500, b"<html><body>try again</body></html>", "text/html", conditional)
            headers = {}
            if page.validators:
                etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
                headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
                if self.headers.get("If-None-Match") == etag or (
                        not self.headers.get("If-None-Match") and self.headers.get("If-Modified-Since") == LAST_MODIFIED):
                    return self._send(path, 304, b"", None, conditional, headers)
            return self._send(path, page.status, page.body, page.content_type, conditional, headers)

        def _send(self, path, status, body, content_type, conditional, headers=None) -> None:
            server.record(Hit(path, status, conditional))
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the crawler cancelled an oversized page
                pass

    return Handler


# -- the texts ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Story:
    slug: str
    title: str
    byline: str
    paragraphs: list[str]

    @property
    def path(self) -> str:
        return f"/news/2025/0317/{self.slug}.html"


def _lines(name: str) -> list[str]:
    return [line.strip() for line in (SEEDS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def stories() -> list[Story]:
    """Four articles from the two seeds: the first seed's 18 body paragraphs make three articles."""
    first = _lines("000_0cda88c30c92c3f2.txt")
    body = [line.removesuffix(WATERMARK) for line in first[3:21]]
    byline = first[2].removesuffix(WATERMARK)
    second = _lines("001_60d11f0826a252e5.txt")
    return [
        Story("gangguan-hezuo", first[0], byline, body[0:6]),
        Story("gangguan-renwen", "莞港两地经贸往来与人文交流持续深化", byline, body[6:12]),
        Story("gangguan-shengwu", "港莞两地共谋生物医药与生产性服务业合作", byline, body[12:18]),
        Story("liu-guangbin", second[0], second[1], second[2:9]),
    ]


def paragraphs() -> list[str]:
    """The first seed's body paragraphs, one page each for the shared-frontier test."""
    return [line.removesuffix(WATERMARK) for line in _lines("000_0cda88c30c92c3f2.txt")[3:21]]


# -- the pages ------------------------------------------------------------------------------------


def _chrome_page(title: str, article_html: str, recommended: list[tuple[str, str]], charset: str = "utf-8") -> str:
    links = "".join(f'<li><a href="{html.escape(href)}">{html.escape(text)}</a> <span>03-16</span></li>'
                    for href, text in recommended)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{charset}"><title>{html.escape(title)}_{SITE_NAME}</title></head>
<body>
<nav class="top"><a href="/">首页</a> | <a href="/about.html">关于我们</a> | <a href="/private/inside.html">内参</a></nav>
<header><div class="logo">{SITE_NAME} 扫码下载客户端</div></header>
<main>{article_html}</main>
<div class="share">分享到: <a href="#wx">微信</a> <a href="#wb">微博</a> <a href="#qq">QQ空间</a></div>
<aside class="recommended"><h3>为你推荐</h3><ul>{links}</ul></aside>
<footer><p>2025 {SITE_NAME} 版权所有 京ICP备00000000号</p><p><a href="/about.html">联系我们</a></p></footer>
</body></html>"""


def _article_html(story: Story, lines: list[str] | None = None, source_line: str | None = None) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in (lines or story.paragraphs))
    extra = f"<p>{html.escape(source_line)}</p>" if source_line else ""
    return (f'<article><h1>{html.escape(story.title)}</h1><div class="meta"><time datetime="2025-03-17T10:00:00+08:00">'
            f"2025-03-17 10:00</time> <span>{html.escape(story.byline)}</span></div>{extra}{body}</article>")


def news_site(server: FixtureServer) -> dict[str, Story]:
    """Site A. Returns the stories by role: each is archived from its canonical URL."""
    s1, s2, s3, s4 = stories()
    recommended = [(s.path, s.title) for s in (s1, s2, s3, s4)]
    pages = server.pages
    for story in (s1, s2, s4):
        pages[story.path] = Page(_chrome_page(story.title, _article_html(story), recommended).encode())
    # s2 fails once with a 500; s3 is a GBK page (no charset in the header) reached through a redirect.
    pages[s2.path].failures = 1
    pages[s3.path] = Page(_chrome_page(s3.title, _article_html(s3), recommended, "gbk").encode("gbk"),
                          content_type="text/html")
    pages["/go/shengwu"] = Page(location=server.url(s3.path) + "?utm_source=redirect#top")
    hidden = Story("hidden", "只有转载站链接的页面", "本报记者", ["这一页只被另一个网站链接，同站爬虫不应跟随离站链接到达这里。"])
    pages[hidden.path] = Page(_chrome_page(hidden.title, _article_html(hidden), []).encode())
    pages["/private/inside.html"] = Page(_chrome_page("内参", _article_html(hidden), []).encode())
    pages["/news/2025/0317/huge.html"] = Page(
        _chrome_page("超大页面", _article_html(s1) + "<!--" + "x" * 300_000 + "-->", []).encode())
    pages["/news/2025/0317/report"] = Page(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" * 20,
                                           content_type="application/pdf")
    index_links = [
        (s1.path, s1.title), (s1.path + "?utm_medium=nav&spm=a1.b2#comments", s1.title + "（评论）"),
        (s2.path, s2.title), ("/go/shengwu", s3.title), (s4.path, s4.title),
        ("/private/inside.html", "内参"), ("/news/2025/0317/missing.html", "已删除的稿件"),
        ("/news/2025/0317/huge.html", "超大页面"), ("/news/2025/0317/report", "年度报告"),
    ]
    index = "<h1>要闻</h1><ul>" + "".join(f'<li><a href="{html.escape(h)}">{html.escape(t)}</a></li>'
                                          for h, t in index_links) + "</ul>"
    pages["/"] = Page(_chrome_page(SITE_NAME, index, []).encode())
    pages["/about.html"] = Page(_chrome_page("关于我们", "<p>联系我们: 电话 010-00000000</p>", []).encode())
    pages["/robots.txt"] = Page(f"User-agent: *\nDisallow: /private/\nSitemap: {server.url('/sitemap.xml')}\n".encode(),
                                content_type="text/plain")
    pages["/rss.xml"] = Page(_rss(server, [s1, s2, s4]).encode(), content_type="application/rss+xml")
    pages["/atom.xml"] = Page(_atom(server, [s3, s4]).encode(), content_type="application/atom+xml")
    pages["/sitemap.xml"] = Page(_sitemap(server, [s.path for s in (s1, s2, s3, s4)] + ["/news/2025/0317/report"]).encode(),
                                 content_type="application/xml")
    return {"hezuo": s1, "renwen": s2, "shengwu": s3, "liu": s4, "hidden": hidden}


def reprint_site(server: FixtureServer, news: FixtureServer, originals: dict[str, Story]) -> dict[str, str]:
    """Site B: two reprints of site A's articles (watermarked, credited, one trimmed)."""
    s1, s4 = originals["hezuo"], originals["liu"]
    farm = [p + WATERMARK for p in s1.paragraphs]
    pages = server.pages
    pages["/reprint/1.html"] = Page(_chrome_page(s1.title, _article_html(s1, farm, f"来源: {SITE_NAME}"), []).encode())
    pages["/reprint/2.html"] = Page(_chrome_page(s4.title, _article_html(s4, s4.paragraphs[:-1], "转自: 21世纪经济报道"),
                                                 []).encode())
    index = ('<ul><li><a href="/reprint/1.html">转载一</a></li><li><a href="/reprint/2.html">转载二</a></li>'
             f'<li><a href="{news.url(originals["hidden"].path)}">离站链接</a></li></ul>')
    pages["/"] = Page(_chrome_page("转载网", index, []).encode())
    pages["/robots.txt"] = Page(b"User-agent: *\nAllow: /\n", content_type="text/plain")
    return {"/reprint/1.html": s1.path, "/reprint/2.html": s4.path}


def paragraph_site(server: FixtureServer, gate: threading.Event) -> list[str]:
    """One short article per seed paragraph; answers wait for `gate` (both workers started)."""
    paths = []
    for i, text in enumerate(paragraphs()):
        story = Story(f"p{i:02d}", text[:20], "本报记者", [text])
        server.pages[story.path] = Page(_chrome_page(story.title, _article_html(story), []).encode(), gate=gate)
        paths.append(story.path)
    index = "<ul>" + "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths) + "</ul>"
    server.pages["/"] = Page(_chrome_page(SITE_NAME, index, []).encode())
    server.pages["/robots.txt"] = Page(b"User-agent: *\nAllow: /\n", content_type="text/plain")
    return paths


def _rss(server: FixtureServer, items: list[Story]) -> str:
    entries = "".join(
        f"<item><title>{html.escape(s.title)}</title><link>{server.url(s.path)}?utm_source=rss&amp;utm_medium=feed</link>"
        f"<pubDate>Mon, 17 Mar 2025 10:00:00 +0800</pubDate></item>" for s in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{SITE_NAME}</title>{entries}</channel></rss>'


def _atom(server: FixtureServer, items: list[Story]) -> str:
    entries = "".join(
        f'<entry><title>{html.escape(s.title)}</title><link rel="alternate" href="{server.url(s.path)}#comments"/>'
        f"<id>{server.url(s.path)}</id><updated>2025-03-17T10:00:00+08:00</updated></entry>" for s in items)
    return f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{SITE_NAME}</title>{entries}</feed>'


def _sitemap(server: FixtureServer, paths: list[str]) -> str:
    urls = "".join(
        f"<url><loc>{server.url(p)}</loc><news:news><news:publication><news:name>{SITE_NAME}</news:name>"
        f"<news:language>zh</news:language></news:publication><news:publication_date>2025-03-17</news:publication_date>"
        f"<news:title>t</news:title></news:news></url>" for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>')


# -- configuration --------------------------------------------------------------------------------

FAST = {  # polite defaults, tuned down for a server on this machine
    "download_delay": 0,
    "scrapy": {"AUTOTHROTTLE_START_DELAY": 0, "AUTOTHROTTLE_MAX_DELAY": 0.2, "RETRY_BACKOFF_BASE": 0.05,
               "DOWNLOAD_MAXSIZE": 200_000},
}


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_config(path: Path, sources: list[dict]) -> Path:
    """An archive.toml declaring `sources`, each with the FAST settings unless it says otherwise."""
    lines = []
    for source in sources:
        source = {**FAST, **source, "scrapy": {**FAST["scrapy"], **source.get("scrapy", {})}}
        lines.append("[[sources]]")
        lines += [f"{key} = {_toml(value)}" for key, value in source.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> None:
    """Serve both fixture sites and write a configuration declaring them (the path given, else
    `fixture.toml`), for trying `archive crawl` by hand: `python -m tests.crawl_site [PATH]`."""
    import sys

    with FixtureServer() as news, FixtureServer("localhost") as reprints:
        stories = news_site(news)
        reprint_site(reprints, news, stories)
        config = write_config(Path(sys.argv[1] if len(sys.argv) > 1 else "fixture.toml"), [
            {"name": "fixture-news", "kind": "site", "urls": [news.url("/")], "articles": [r"/news/\d{4}/"]},
            {"name": "fixture-reprints", "kind": "site", "urls": [reprints.url("/")], "articles": ["/reprint/"]},
            {"name": "fixture-feed", "kind": "feed", "urls": [news.url("/rss.xml"), news.url("/atom.xml")]},
            {"name": "fixture-sitemap", "kind": "sitemap", "urls": [news.url("/robots.txt")]},
        ])
        print(f"serving {news.url('/')} and {reprints.url('/')}; sources in {config.resolve()} (Ctrl-C stops)",
              file=sys.stderr)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
