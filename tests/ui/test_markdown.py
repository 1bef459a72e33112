"""The markdown renderer, run in the browser against a battery of hostile inputs."""

from __future__ import annotations

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    '[x](https://ok.example/" onmouseover="alert(1))',
    "[x](https://ok.example/'onmouseover='alert(1))",
    "[<img src=x onerror=alert(1)>](https://ok.example/)",
    "**<b onclick=alert(1)>bold</b>**",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "# <iframe src=javascript:alert(1)>",
    "- <style>*{display:none}</style>",
    "> <form action=javascript:alert(1)><button>go</button></form>",
    "https://ok.example/<script>",
    "<details open ontoggle=alert(1)>",
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    "_<img src=x onerror=alert(1)>_",
]

ALLOWED = {"P", "BR", "STRONG", "EM", "CODE", "PRE", "UL", "OL", "LI", "A", "H3", "H4", "H5", "H6",
           "BLOCKQUOTE", "SPAN"}


def test_hostile_markdown_never_yields_active_content(page, server):
    page.goto("/")
    page.wait_for_selector('#board[aria-busy="false"]')
    found = page.evaluate(
        """async (payloads) => {
        const m = await import('/static/js/markdown.js');
        const out = [];
        for (const src of payloads) {
          const host = document.createElement('div');
          m.renderMarkdown(host, src);
          const els = [...host.querySelectorAll('*')];
          out.push({
            src,
            tags: [...new Set(els.map(e => e.tagName))],
            attrs: [...new Set(els.flatMap(e => [...e.attributes].map(a => a.name)))],
            hrefs: els.filter(e => e.hasAttribute('href')).map(e => e.getAttribute('href')),
          });
        }
        return {out, pwned: window.__pwned || 0};
    }""",
        PAYLOADS,
    )
    assert found["pwned"] == 0
    for r in found["out"]:
        assert set(r["tags"]) <= ALLOWED, r
        assert not [a for a in r["attrs"] if a.startswith("on") or a in {"style", "src", "action"}], r
        assert all(h.startswith(("https://", "http://", "mailto:")) for h in r["hrefs"]), r
        assert all('"' not in h and "'" not in h and " " not in h for h in r["hrefs"]), r


def test_markdown_features_render(page, server):
    page.goto("/")
    page.wait_for_selector('#board[aria-busy="false"]')
    html = page.evaluate(
        """async () => {
        const m = await import('/static/js/markdown.js');
        return m.markdownToHtml('# Title\\n\\nSome **bold**, *it*, `code` and [a link](https://example.com).'
          + '\\n\\n- one\\n- two\\n\\n1. first\\n2. second\\n\\n```\\nfenced <b>\\n```\\n\\nmail [me](mailto:a@b.example)');
    }"""
    )
    assert "<h3>Title</h3>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>code</code>" in html
    assert '<a href="https://example.com" target="_blank" rel="noopener noreferrer">a link</a>' in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<pre><code>fenced &lt;b&gt;</code></pre>" in html
    assert 'href="mailto:a@b.example"' in html
