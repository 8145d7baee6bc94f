"""What the class learned, from the results file: each student's and the class's normalized gain
(post - pre) / (100 - pre) (Hake 1998), the items most missed, the misconceptions the wrong
answers point at, and how the room predicted. Data only: render/classreport.py shows it."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from authcli.classroom.bank import BY_KEY


@dataclass(frozen=True)
class StudentGain:
    name: str
    pre: float | None    # percent right, None: did not take it
    post: float | None
    gain: float | None   # None: a check missing, or a perfect pre (no room to gain)


@dataclass(frozen=True)
class Missed:
    key: str
    prompt: str
    wrong: int
    answered: int
    source: str


@dataclass(frozen=True)
class Belief:
    misconception: str
    students: int
    item: str


@dataclass(frozen=True)
class Prediction:
    prompt: str
    right: int
    answered: int
    histogram: dict[str, int]
    answer: str


@dataclass
class Report:
    students: list[StudentGain] = field(default_factory=list)
    class_pre: float | None = None
    class_post: float | None = None
    class_gain: float | None = None
    missed: list[Missed] = field(default_factory=list)
    beliefs: list[Belief] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)
    check: str = ""  # which check the missed items and beliefs come from: post, else pre


def gain(pre: float | None, post: float | None) -> float | None:
    if pre is None or post is None or pre >= 100:
        return None
    return (post - pre) / (100 - pre)


def _latest_check(db: sqlite3.Connection, kind: str) -> dict[str, dict[str, str]]:
    """student -> item -> choice, from each student's latest run of this check."""
    rows = db.execute("SELECT a.student, a.key, a.choice, a.run FROM answers a JOIN questions q "
                      "ON q.run = a.run AND q.key = a.key WHERE q.kind = ? ORDER BY a.run", (kind,)).fetchall()
    latest: dict[str, int] = {}
    for student, _, _, run in rows:
        latest[student] = run
    out: dict[str, dict[str, str]] = {}
    for student, key, choice, run in rows:
        key = key.partition(":")[2] or key  # "pre:httponly": the room keeps pre and post apart
        if run == latest[student] and key in BY_KEY:
            out.setdefault(student, {})[key] = choice
    return out


def _score(answers: dict[str, str], asked: int) -> float:
    right = sum(BY_KEY[k].answer == c for k, c in answers.items())
    return 100.0 * right / asked


def _asked(db: sqlite3.Connection, kind: str) -> int:
    """Items in one run of the check (unanswered items count as wrong)."""
    row = db.execute("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM questions WHERE kind = ? GROUP BY run)",
                     (kind,)).fetchone()
    return row[0] or 0


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def build(db: sqlite3.Connection) -> Report:
    names = dict(db.execute("SELECT student, shown FROM students"))
    pre, post = _latest_check(db, "pre"), _latest_check(db, "post")
    pre_n, post_n = _asked(db, "pre"), _asked(db, "post")
    report = Report()
    for student in sorted(set(pre) | set(post), key=lambda s: names.get(s, s).casefold()):
        a = _score(pre[student], pre_n) if student in pre else None
        b = _score(post[student], post_n) if student in post else None
        report.students.append(StudentGain(names.get(student, student), a, b, gain(a, b)))
    both = [s for s in report.students if s.pre is not None and s.post is not None]
    report.class_pre = _mean([s.pre for s in both])
    report.class_post = _mean([s.post for s in both])
    report.class_gain = gain(report.class_pre, report.class_post)
    report.check, chosen = ("post", post) if post else ("pre", pre)
    _misses(report, chosen)
    report.predictions = _predictions(db)
    return report


def _misses(report: Report, answers: dict[str, dict[str, str]], top: int = 5) -> None:
    wrong: Counter = Counter()
    seen: Counter = Counter()
    beliefs: Counter = Counter()
    for by_item in answers.values():
        for key, choice in by_item.items():
            item = BY_KEY[key]
            seen[key] += 1
            if choice != item.answer:
                wrong[key] += 1
                if choice in item.misconceptions:
                    beliefs[(item.misconceptions[choice], key)] += 1
    report.missed = [Missed(k, BY_KEY[k].prompt, n, seen[k], BY_KEY[k].source)
                     for k, n in sorted(wrong.items(), key=lambda kv: (-kv[1] / seen[kv[0]], kv[0]))[:top]]
    report.beliefs = [Belief(text, n, key) for (text, key), n in beliefs.most_common(top)]


def _predictions(db: sqlite3.Connection) -> list[Prediction]:
    import json

    out = []
    for run, key, prompt, choices, answer in db.execute(
            "SELECT run, key, prompt, choices, answer FROM questions WHERE kind = 'predict' ORDER BY run, closed"):
        counts = {c: 0 for c in json.loads(choices)}
        for (choice,) in db.execute("SELECT choice FROM answers WHERE run = ? AND key = ?", (run, key)):
            counts[choice] = counts.get(choice, 0) + 1
        out.append(Prediction(prompt, counts.get(answer, 0), sum(counts.values()), counts, answer))
    return out
