"""A run's sequence diagram as inline SVG: lanes, arrows, dashed replies, drawn here in Python.

No script and no external file: the handout's stylesheet colours it through the class names,
so every colour it uses is one the contrast test checks. Labels came over the network (a
request target): escaped, as all such text is.
"""

from __future__ import annotations

from html import escape

from authcli.render.escape import printable
from authcli.walkthroughs.model import Sequence

CHAR = 7.0       # the widest average 12px sans-serif character, for layout only: never too narrow
ROW = 30         # one message per row
BOX = 28         # the lane name boxes' height
TOP = BOX + 26   # the first message's row
LOOP = 22        # how far a message to itself goes right of its lane
MIN_GAP = 110


def _width(text: str) -> float:
    return len(text) * CHAR


def _arrowhead(x: float, y: float, leftward: bool) -> str:
    d = 8 if leftward else -8
    return f'<path class="head" d="M{x:.1f} {y:.1f} l{d} -4 v8 z"/>'


def sequence_svg(block: Sequence, title: str) -> str:
    """The diagram, as wide as its labels need (the page scales it down to fit, never wider)."""
    index = {lane: i for i, lane in enumerate(block.lanes)}
    lanes = [printable(lane) for lane in block.lanes]
    messages = [(index[src], index[dst], printable(text), reply) for src, dst, text, reply in block.messages]
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
    width = xs[-1] + right
    height = TOP + ROW * len(messages) + 8

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}"><title>{escape(title)}</title>']
    for x, lane, box in zip(xs, lanes, boxes):
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
