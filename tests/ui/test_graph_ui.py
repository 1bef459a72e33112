"""The dependency view: the drawer's Dependencies button draws the task's parents above it and its
children below, each box with its status; a click on a box opens that task's drawer."""

from __future__ import annotations

import re

from .conftest import card, open_board, require_playwright

expect = require_playwright()

# The contrast of a box's text on its box, from their computed SVG fills (WCAG's formula).
CONTRAST = """(g) => {
  const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, gg, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                       return 0.2126 * r + 0.7152 * gg + 0.0722 * b; };
  const pair = (sel) => { const a = lum(getComputedStyle(g.querySelector("rect")).fill);
                          const b = lum(getComputedStyle(g.querySelector(sel)).fill);
                          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  return [pair(".graph-title"), pair(".graph-status"), getComputedStyle(g.querySelector("rect")).fill];
}"""


def test_dependencies_are_drawn_and_a_node_opens_its_task(page, server):
    board = server.new_board("graph-ui")
    parent = server.create("Design <b>schema</b>", board=board)
    task = server.create("Build the API", board=board)
    kids = [server.create("Write docs", board=board), server.create("Ship it", board=board)]
    for p, c in ((parent, task), (task, kids[0]), (task, kids[1])):
        server.api("POST", "/api/links", board=board, json={"parent_id": p["id"], "child_id": c["id"]})
    server.api("PATCH", f"/api/tasks/{parent['id']}", board=board,
               json={"status": "blocked", "block_reason": "waiting on a person"})
    page.emulate_media(color_scheme="light")
    open_board(page, board)
    card(page, task["id"]).click()
    expect(page.locator("#drawer-title")).to_have_text("Build the API")
    page.locator('#drawer [data-key="graph"]').click()
    dialog = page.locator("#graph-dialog")
    expect(dialog).to_be_visible()
    nodes = dialog.locator(".graph-node")
    expect(nodes).to_have_count(4)
    expect(dialog.locator(".graph-edge")).to_have_count(3)

    def node(t):
        return dialog.locator(f'.graph-node[data-id="{t["id"]}"]')

    expect(node(task)).to_have_class(re.compile(r"\bgraph-root\b"))
    expect(node(parent)).to_have_attribute("data-status", "blocked")
    expect(node(parent).locator(".graph-status")).to_have_text("Blocked")
    expect(node(parent).locator(".graph-title")).to_have_text("Design <b>schema</b>")  # text, not markup
    for t, label in ((task, "Todo"), (kids[0], "Todo"), (kids[1], "Todo")):
        expect(node(t).locator(".graph-status")).to_have_text(label)
    expect(dialog.locator("#graph-note")).to_have_text(re.compile(r"^1 above .* 2 below "))
    # Parents in the row above, children in the row below, side by side.
    y = {t["id"]: node(t).bounding_box()["y"] for t in (parent, task, *kids)}
    assert y[parent["id"]] < y[task["id"]] < y[kids[0]["id"]] == y[kids[1]["id"]]
    # Readable in both themes: the box's colours follow the theme, its text stands out from it.
    light = node(parent).evaluate(CONTRAST)
    page.emulate_media(color_scheme="dark")
    dark = node(parent).evaluate(CONTRAST)
    assert light[2] != dark[2]
    assert min(light[:2] + dark[:2]) >= 4.5, (light, dark)
    assert min(node(task).evaluate(CONTRAST)[:2]) >= 4.5

    node(kids[0]).click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#drawer-title")).to_have_text("Write docs")
    assert page.evaluate("location.hash") == f"#{kids[0]['id']}"
    # The child's own view has the task above it, and opens from the keyboard too.
    page.locator('#drawer [data-key="graph"]').click()
    expect(nodes).to_have_count(3)
    expect(node(kids[0])).to_have_class(re.compile(r"\bgraph-root\b"))
    node(task).focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#drawer-title")).to_have_text("Build the API")


def test_a_long_chain_says_there_is_more_and_draws_more_levels(page, server):
    board = server.new_board("graph-chain")
    chain = [server.create(f"step {i}", board=board) for i in range(6)]
    for p, c in zip(chain, chain[1:], strict=False):
        server.api("POST", "/api/links", board=board, json={"parent_id": p["id"], "child_id": c["id"]})
    open_board(page, board)
    card(page, chain[-1]["id"]).click()
    page.locator('#drawer [data-key="graph"]').click()
    dialog = page.locator("#graph-dialog")
    nodes = dialog.locator(".graph-node")
    expect(nodes).to_have_count(4)  # three levels up, and the task
    expect(dialog.locator("#graph-truncated")).to_be_visible()
    dialog.locator("#graph-more").click()
    expect(nodes).to_have_count(6)
    expect(dialog.locator("#graph-truncated")).to_be_hidden()
    expect(dialog.locator("#graph-more")).to_be_hidden()
    tops = [dialog.locator(f'.graph-node[data-id="{t["id"]}"]').bounding_box()["y"] for t in chain]
    assert tops == sorted(tops) and len(set(tops)) == 6  # one row per level, the first on top
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#drawer-title")).to_have_text("step 5")  # Esc closed the dialog only
