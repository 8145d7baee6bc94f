"""A run's sequence diagram as inline SVG: lanes, arrows, dashed replies, drawn here in Python.

No script and no external file: the handout's stylesheet colours it through the class names,
so every colour it uses is one the contrast test checks. Labels came over the network (a
request target): escaped, as all such text is.
"""

from __future__ import annotations

from html import escape

from authcli.render.escape import printable
from authcli.walkthroughs.model import Sequence

CHAR = 8.0       # a 12px sans-serif character at its widest average (digits, capitals, bold names)
ROW = 30         # one message per row
BOX = 28         # the lane name boxes' height
TOP = BOX + 26   # the first message's row
LOOP = 22        # how far a message to itself goes right of its lane
MIN_GAP = 110
ROWS = 24        # messages per drawing: one fits a printed page, lane names and all


def _width(text: str) -> float:
    return len(text) * CHAR


def _arrowhead(x: float, y: float, leftward: bool) -> str:
    d = 8 if leftward else -8
    return f'<path class="head" d="M{x:.1f} {y:.1f} l{d} -4 v8 z"/>'


def _layout(lanes: list[str], messages: list[tuple[int, int, str, bool]]) -> tuple[list[float], float]:
    """Each lane's x and the whole width: as wide as the labels need (the page scales the
    drawing down to fit, never wider)."""
    boxes = [_width(lane) + 20 for lane in lanes]
    # Each gap between neighbouring lanes holds its lanes' half boxes, the labels of the messages
    # between them and of the loops on its left lane; a message across several lanes widens
    # them all evenly when its label needs more room.
    gaps = [max(MIN_GAP, (boxes[i] + boxes[i + 1]) / 2 + 12) for i in range(len(lanes) - 1)]
    right = boxes[-1] / 2 + 4
    for a, b, text, _ in messages:
        if a == b:
            need = LOOP + 8 + _width(text) + 12
            if a < len(gaps):
                gaps[a] = max(gaps[a], need)
            else:
                right = max(right, need)
            continue
        lo, hi = sorted((a, b))
        need = _width(text) + 24
        have = sum(gaps[lo:hi])
        if have < need:
            for i in range(lo, hi):
                gaps[i] += (need - have) / (hi - lo)
    xs = [boxes[0] / 2 + 4]
    for gap in gaps:
        xs.append(xs[-1] + gap)
    return xs, xs[-1] + right


def _chunks(messages: list[tuple[int, int, str, bool]], rows: int) -> list[list[tuple[int, int, str, bool]]]:
    """Runs of at most `rows` messages, each cut before a message from the first lane (a new
    request) where one falls in the run's second half."""
    out = []
    while len(messages) > rows:
        cut = next((i for i in range(rows, rows // 2, -1) if messages[i][0] == 0), rows)
        out.append(messages[:cut])
        messages = messages[cut:]
    return out + [messages]


def _draw(xs: list[float], width: float, lanes: list[str], messages: list[tuple[int, int, str, bool]],
          title: str) -> str:
    height = TOP + ROW * len(messages) + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}"><title>{escape(title)}</title>']
    for x, lane in zip(xs, lanes):
        box = _width(lane) + 20
        out.append(f'<line class="lifeline" x1="{x:.1f}" y1="{BOX + 2}" x2="{x:.1f}" y2="{height - 4}"/>')
        out.append(f'<rect class="lane" x="{x - box / 2:.1f}" y="1" width="{box:.1f}" height="{BOX}" rx="3"/>')
        out.append(f'<text class="lane-name" x="{x:.1f}" y="{BOX / 2 + 5:.1f}" text-anchor="middle">'
                   f'{escape(lane)}</text>')
    for row, (a, b, text, reply) in enumerate(messages):
        y = TOP + ROW * row
        kind = "answer" if reply else "call"
        label = escape(text)
        if a == b:
            x = xs[a]
            out.append(f'<path class="{kind}" d="M{x:.1f} {y - 6:.1f} h{LOOP} v12 h-{LOOP - 2}"/>')
            out.append(_arrowhead(x, y + 6, leftward=True))
            out.append(f'<text x="{x + LOOP + 8:.1f}" y="{y + 4:.1f}">{label}</text>')
            continue
        x1, x2 = xs[a], xs[b]
        leftward = x2 < x1
        end = x2 + (2 if leftward else -2)
        out.append(f'<line class="{kind}" x1="{x1:.1f}" y1="{y:.1f}" x2="{end:.1f}" y2="{y:.1f}"/>')
        out.append(_arrowhead(x2, y, leftward))
        out.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle">{label}</text>')
    out.append("</svg>")
    return "\n".join(out)


def sequence_svgs(block: Sequence, title: str, rows: int = ROWS) -> list[str]:
    """The diagram as one drawing per `rows` messages, every one with the lane names on top
    and the lanes in the same places: a long run prints as whole pieces, never cut across a
    page with its lanes unnamed."""
    # A message to a lane the list left out still gets its lane, rather than no handout at all.
    named = list(dict.fromkeys([*block.lanes, *(end for message in block.messages for end in message[:2])]))
    index = {lane: i for i, lane in enumerate(named)}
    lanes = [printable(lane) for lane in named]
    messages = [(index[src], index[dst], printable(text), reply) for src, dst, text, reply in block.messages]
    xs, width = _layout(lanes, messages)
    chunks = _chunks(messages, rows)
    return [_draw(xs, width, lanes, chunk, title if len(chunks) == 1 else f"{title}, part {i} of {len(chunks)}")
            for i, chunk in enumerate(chunks, 1)]
