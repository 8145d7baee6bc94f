"""The HTML handout: its structure, what it never does (fetch, run script, let the network write
markup), the contrast of every colour it uses, and how it prints in a real Chromium (A4 and
Letter). AUTHCLI_REQUIRE_BROWSER turns the print tests' skip (no Chromium, no Playwright) into
a failure, as in tests/test_browser.py."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from html import unescape
from html.parser import HTMLParser

import pytest

from authcli.http import Exchange, HttpRequest, HttpResponse
from authcli.render.html import CSS, HtmlRenderer
from authcli.render.svg import ROWS, sequence_svgs
from authcli.sources import SOURCES
from authcli.tokens.signing import make_signing_key
from authcli.walkthroughs.jwt import INFO as JWT_INFO
from authcli.walkthroughs.jwt import jwt_walkthrough
from authcli.walkthroughs.model import (ExchangeBlock, Narration, NotesBlock, Note, Sequence, Step, TableBlock,
                                        Table, WalkthroughInfo, Warnings)
from conftest import FakeClock


def render(info: WalkthroughInfo, steps: list[Step]) -> str:
    out = io.StringIO()
    renderer = HtmlRenderer(out)
    renderer.start(info)
    for step in steps:
        renderer.step(step)
    renderer.end()
    return out.getvalue()


@pytest.fixture(scope="module")
def jwt_steps() -> list[Step]:
    clock = FakeClock()
    return list(jwt_walkthrough(make_signing_key("HS256"), 3, clock=clock, sleep=clock.advance))


@pytest.fixture(scope="module")
def page(jwt_steps) -> str:
    return render(JWT_INFO, jwt_steps)


@pytest.fixture(scope="module")
def session_page() -> str:
    """The other kinds of block: a store, a cookie jar, notes, a store lane in the diagram."""
    from authcli.stores.memory import MemoryStore
    from authcli.walkthroughs.session import INFO, session_walkthrough

    clock = FakeClock()
    return render(INFO, list(session_walkthrough(3, make_store=lambda: MemoryStore(clock=clock), clock=clock,
                                                 sleep=clock.advance)))


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each h1/h2."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: dict[str, list[str]] = {"h1": [], "h2": []}
        self._in: str | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in self.headings:
            self._in = tag
            self.headings[tag].append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.headings[self._in][-1] += data


def test_a_heading_per_step_and_the_sources_at_the_end(page, jwt_steps):
    tags = Tags(page)
    assert tags.headings["h1"] == [JWT_INFO.heading]
    titles = [f"Step {s.number}. {s.title}" if s.number is not None else s.title for s in jwt_steps]
    assert tags.headings["h2"] == titles + ["Sources"]
    assert [a["id"] for t, a in tags.tags if t == "section" and "id" in a] == [
        f"step-{s.number}" for s in jwt_steps if s.number is not None]
    # Each footnote number links to an entry of the closing list, and each entry is cited.
    refs = {a["href"][len("#src-"):] for t, a in tags.tags if t == "a" and a["href"].startswith("#")}
    listed = [a["id"][len("src-"):] for t, a in tags.tags if t == "li" and a.get("id", "").startswith("src-")]
    assert refs and refs == set(listed) and all(key in SOURCES for key in listed)
    assert page.index("<h2>Sources</h2>") > page.index("<svg")
    assert re.search(r'<sup class="ref"><a href="#src-rfc8725-3.1">\d+</a></sup>', page)
    # The semantic pieces: HTTP in <pre> with curl's marks, checks, a table, defences, the diagram.
    assert '<span class="mark-sent">&gt;</span> <span class="start-line">POST /login HTTP/1.1' in page
    assert '<span class="mark-received">&lt;</span> <span class="status-bad">HTTP/1.1 401 Unauthorized' in page
    assert '<span class="fail">FAIL</span> <strong>signature</strong>' in page
    assert '<span class="protects">Protects:</span>' in page and '<span class="does-not">Does not:</span>' in page
    assert "<caption>Registered claims</caption>" in page and 'class="jwt-payload"' in page


def test_nothing_is_fetched_and_nothing_runs(page):
    tags = Tags(page)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not [t for t, _ in tags.tags if t in ("script", "link", "img", "iframe", "object", "embed", "base")]
    for tag, attrs in tags.tags:
        assert "src" not in attrs and "style" not in attrs and not any(a.startswith("on") for a in attrs), tag
    external = [a["href"] for t, a in tags.tags if t == "a" and not a["href"].startswith("#")]
    assert external and all(url in {s.url for s in SOURCES.values()} for url in external)
    assert "url(" not in CSS and "@import" not in CSS
    # The page's own policy allows exactly its stylesheet, by hash, and no script.
    policy = next(a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert len(styles) == 1 and f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_the_network_cannot_write_markup_or_control_characters():
    evil = '<script>alert(1)</script>\x1b[2J\x07"&'
    request = HttpRequest("GET", "http://127.0.0.1/", "/p" + evil, "HTTP/1.1", [("X-Evil", evil)], evil)
    response = HttpResponse(200, "OK" + evil, "HTTP/1.1", [("Set-Cookie", "a=" + evil)], evil)
    steps = [Step(1, "title " + evil, [
        Narration(["text " + evil]), Warnings([evil]), ExchangeBlock(Exchange(request, response, [])),
        NotesBlock([Note(evil, evil)]), TableBlock(Table(evil, [evil], [[evil]])),
        Sequence(["Client", "Server" + evil], [("Client", "Server" + evil, evil, False),
                                               ("Server" + evil, "Server" + evil, evil, False)]),
    ])]
    page = render(WalkthroughInfo("x", evil), steps)
    assert "<script" not in page and "\x1b" not in page and "\x07" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[2J\\x07") >= 10
    assert not [t for t, _ in Tags(page).tags if t == "script"]


def test_a_long_diagram_prints_in_pieces_each_with_its_lanes_named():
    messages = [m for i in range(30) for m in (("Client", "Server", f"GET /{i}", False),
                                               ("Server", "Client", "200 OK", True))]
    svgs = sequence_svgs(Sequence(["Client", "Server"], messages), "traffic")
    assert len(svgs) == 3 and all(svg.count('class="lane-name"') == 2 for svg in svgs)
    assert len({tuple(re.findall(r'class="lifeline" x1="([\d.]+)"', svg)) for svg in svgs}) == 1  # lanes line up
    drawn = [re.findall(r"<text x=[^>]*>([^<]*)</text>", svg) for svg in svgs]
    assert [label for piece in drawn for label in piece] == [m[2] for m in messages]  # all, in order, once
    assert all(len(piece) <= ROWS and piece[0].startswith("GET") for piece in drawn)  # cut before a request
    assert "<title>traffic, part 2 of 3</title>" in svgs[1]
    # A lane the list left out still gets drawn: the handout is never lost to it.
    (svg,) = sequence_svgs(Sequence(["Client"], [("Client", "Store", "GET x", False)]), "t")
    assert svg.count('class="lane-name"') == 2


# --- colours: WCAG AA for every one the stylesheet uses -----------------------------------------

COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(")
BACKGROUND_PROPS = {"background", "background-color"}


def _declarations(css: str) -> list[tuple[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [(p.strip().lower(), v.strip()) for p, v in re.findall(r"([-\w]+)\s*:\s*([^;{}]+)", css)]


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def palette(css: str) -> tuple[set[str], set[str]]:
    """(backgrounds, foregrounds): each colour the stylesheet uses, by the property using it."""
    variables = {p: v.lower() for p, v in _declarations(css) if p.startswith("--")}
    backgrounds, foregrounds = set(), set()
    for prop, value in _declarations(css):
        if prop.startswith("--"):
            continue
        used = [variables[name] for name in re.findall(r"var\((--[-\w]+)\)", value)]
        assert not COLOUR.search(value), f"{prop}: {value}: name the colour once, in :root"
        (backgrounds if prop in BACKGROUND_PROPS else foregrounds).update(used)
    return backgrounds, foregrounds


def test_contrast_helpers_agree_with_wcag():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the lightest grey that passes on white
    assert contrast("#777777", "#ffffff") < 4.5


def test_every_colour_used_has_aa_contrast_on_every_background():
    backgrounds, foregrounds = palette(CSS)
    assert backgrounds == {"#ffffff", "#f4f5f7"} and len(foregrounds) >= 8
    # Text, rules and drawing alike: the issue asks 4.5:1 for every colour, not 3:1 for lines.
    failing = [(fg, bg, round(contrast(fg, bg), 2)) for fg in foregrounds for bg in backgrounds
               if contrast(fg, bg) < 4.5]
    assert not failing


def test_the_page_uses_no_colour_outside_the_stylesheet(page):
    outside = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    markup = re.sub(r">[^<]*<", "><", outside)  # tags only: the text may quote a colour
    assert not COLOUR.search(markup) and "fill=" not in markup and "stroke=" not in markup
    # And everything the diagram draws takes its colour from a class the stylesheet colours.
    classes = set(re.findall(r'<(?:line|path|rect|text)[^>]*class="([\w-]+)"', page))
    assert classes == {"lifeline", "lane", "lane-name", "call", "answer", "head"}
    assert all(f".sequence .{c} " in CSS for c in classes)


# --- printed in Chromium --------------------------------------------------------------------------

# The narrower content box of the two papers: A4 210 mm less the stylesheet's 14 mm margins.
A4_CONTENT_PX = round((210 - 2 * 14) / 25.4 * 96)


@pytest.fixture(scope="module")
def tab(browser):
    tab = browser.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(m.text))
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    yield tab
    tab.close()


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_the_handout_prints_on_a_sane_number_of_pages(tab, page, jwt_steps, paper):
    tab.set_content(page)
    count = pages(tab.pdf(format=paper))
    steps = sum(1 for s in jwt_steps if s.number is not None)
    # A page per step at least (each starts one), and no runaway: 9 steps, a few long ones.
    assert steps <= count <= 40, count
    assert tab.problems == []  # a CSP refusal of the stylesheet would be reported here


@pytest.mark.parametrize("demo", ["jwt", "session"])
def test_in_print_nothing_is_wider_than_the_page(tab, request, demo):
    page = request.getfixturevalue("page" if demo == "jwt" else "session_page")
    tab.set_viewport_size({"width": A4_CONTENT_PX, "height": 1000})
    tab.set_content(page)
    tab.emulate_media(media="print")
    try:
        styles = tab.evaluate("""() => ({
            pre: getComputedStyle(document.querySelector('pre')).whiteSpace,
            breaks: [...document.querySelectorAll('section.step')].map(s => getComputedStyle(s).breakBefore),
        })""")
        assert styles["pre"] == "pre-wrap"  # the stylesheet applied: the CSP hash is right
        assert styles["breaks"][:2] == ["auto", "auto"] and set(styles["breaks"][2:]) == {"page"}
        wide = tab.evaluate("""(limit) => [...document.querySelectorAll('body *')]
            .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== 'inline'
                         || e.getBoundingClientRect().right > limit + 0.5)
            .map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)""", A4_CONTENT_PX)
        assert wide == []
        assert tab.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT_PX
        # The longest unbroken line of the run, the token in a header, wrapped inside the page.
        assert tab.evaluate("Math.max(...[...document.querySelectorAll('pre')].map(p => p.offsetHeight))") > 60
        # The diagram's labels, measured in the real font, inside the drawing and names inside their boxes.
        outside = tab.evaluate("""() => [...document.querySelectorAll('svg text')].filter(e => {
            const b = e.getBBox(), box = e.previousElementSibling;
            return b.x < 0 || b.x + b.width > e.ownerSVGElement.viewBox.baseVal.width
                || e.classList.contains('lane-name') && b.width > box.width.baseVal.value - 4;
        }).map(e => e.textContent)""")
        assert tab.evaluate("document.querySelectorAll('svg text').length") > 20 and outside == []
    finally:
        tab.emulate_media(media="screen")


def test_the_sources_print_with_their_addresses(tab, page):
    tab.set_content(page)
    text = tab.evaluate("document.querySelector('ol.sources').innerText")
    assert all(unescape(url) in text for url in re.findall(r'<a href="(http[^"]+)"', page))
