"""What a figure measures: the short noun phrase before it, cleaned with the genre's vocabulary.

"基本支出预算 828.69 万元，实际支出 959.98 万元" — the second figure's clause says only 实际支出, so the
subject (基本支出) is carried over from the clause before.  "占14.61%" is a share of the figure before
it, "比上年增长33%" that figure's growth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from pipeline.vocabulary import alternation, vocab

from .figures import Found

_DELIM = set("，,。；;：:、！？!?（(\n")
_DATE_PREFIX = re.compile(r"^(?:截至|截止|至)?\s*\d{2,4}\s*年(?:度)?(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?(?:底|末|初)?")
_CN_DATE_PREFIX = re.compile(r"^(?:截至|截止)\s*[\d年月日底末]+")


@cache
def _cfg() -> dict:
    lab = vocab()["labels"]
    return {
        "prefix": re.compile(rf"^(?:{alternation(lab['strip_prefix'])})"),
        "suffix": re.compile(rf"(?:{alternation(lab['strip_suffix'])})$"),
        "measures": set(lab["measures"]),
        "measure_suffix": re.compile(rf"(?:{alternation(lab['measures'])})$"),
        "up": re.compile(rf"^(?:{alternation(lab['growth_up'])})$"),
        "down": re.compile(rf"^(?:{alternation(lab['growth_down'])})$"),
        "scope": re.compile(rf"[(（]\s*(?:{alternation(lab['scope_paren'])})[^()（）]*[)）]"),
        "unit_decl": re.compile(r"[(（]\s*(?:单位\s*[:：]\s*)?(?:亿元|万元|千元|元|%|人|个)\s*[)）]"),
        "quals": re.compile(rf"(?:{alternation(vocab()['qualifiers']['before'])})$"),
    }


def _segment(norm: str, left_limit: int, end: int) -> tuple[int, int]:
    """The clause before `end`: back to a delimiter or `left_limit`."""
    i = end
    while i > left_limit:
        ch = norm[i - 1]
        # a parenthesis closed before the figure is part of its label: 本级资金(包括结转结余) 73.25
        if ch in _DELIM and not (ch in "(（" and re.search(r"[)）]", norm[i:end])):
            break
        i -= 1
    return i, end


def _whole_word_prefix(s: str, n: int, words: Callable[[str], list[str]] | None) -> bool:
    if words is None:
        return True
    total = 0
    for w in words(s):
        total += len(w)
        if total >= n:
            return total == n
    return False


def _whole_word_suffix(s: str, n: int, words: Callable[[str], list[str]] | None) -> bool:
    if words is None:
        return True
    total = 0
    for w in reversed(words(s)):
        total += len(w)
        if total >= n:
            return total == n
    return False


def clean(label: str, words: Callable[[str], list[str]] | None = None) -> str:
    """Strip what introduces or follows a label but is not what it measures."""
    cfg = _cfg()
    s = re.sub(r"\s+", "", label)
    s = cfg["unit_decl"].sub("", s)
    s = cfg["scope"].sub("", s)
    m = re.search(r"[(（]([^()（）]{2,})[)）]$", s)
    if m:  # 其他人员(临聘人员) names the thing in its parenthesis
        s = m.group(1)
    s = s.strip("()（）[]【】“”\"'《》·-—~")
    for _ in range(4):
        before = s
        s = _DATE_PREFIX.sub("", s)
        s = _CN_DATE_PREFIX.sub("", s)
        m = cfg["prefix"].match(s)
        # (what is left must still name something: 本年支出 keeps its 本年)
        if m and len(s) - m.end() >= 3 and _whole_word_prefix(s, m.end(), words):
            s = s[m.end():]
        m = cfg["suffix"].search(s)
        if m and m.start() >= 3 and _whole_word_suffix(s, len(s) - m.start(), words):
            s = s[: m.start()]
        m = cfg["quals"].search(s)
        if m and m.start() >= 2:
            s = s[: m.start()]
        s = s.strip("()（）“”\"'·-—~ ")
        if s == before:
            break
    if s.count("“") != s.count("”"):  # a quote opened before the clause: “三公”经费
        s = s.replace("“", "").replace("”", "")
    return s


def subject_of(label: str | None) -> str | None:
    """基本支出预算 → 基本支出: the thing a measure word was said of."""
    if not label:
        return None
    m = _cfg()["measure_suffix"].search(label)
    if m and m.start() > 0:
        return label[: m.start()]
    return label


def label_figures(norm: str, found: list[Found], body_start: int = 0,
                  words: Callable[[str], list[str]] | None = None) -> list[str | None]:
    """A label for each figure of one paragraph, in order.

    `words` segments a phrase into words (jieba, through the spaCy pipeline); with it, leading and
    trailing function words are stripped only where they are whole words (为民 is not 为 + 民).
    """
    cfg = _cfg()
    labels: list[str | None] = []
    for i, f in enumerate(found):
        prev_end = found[i - 1].end if i else body_start
        left = max(prev_end, body_start)
        s, e = _segment(norm, left, f.start)
        raw = norm[s:e]
        if not clean(raw) and s > body_start:
            # "共计 10 个 579.15 万元" or "总额): 1084.25": the words stand one clause further left
            s2 = s - 1 if s > left and norm[s - 1] in _DELIM else s
            if s2 == s and i and found[i - 1].end == s:
                s2 = found[i - 1].start
                left = found[i - 2].end if i >= 2 else body_start
            else:
                left = body_start
            s3, _ = _segment(norm, max(left, body_start), s2)
            raw = norm[s3:s2]
        label = clean(raw, words)
        bare = re.sub(r"^(?:比上年|较上年|比去年|较去年|同比|与上年相比|比|较)", "", label)
        prev = next((labels[j] for j in range(i - 1, -1, -1) if found[j].kind != "percent" and labels[j]), None)
        prev_any = labels[i - 1] if i else None
        share_at = norm.rfind("占", max(body_start, f.start - 30), f.start)
        if f.kind == "percent" and share_at >= 0 and (not label or label.startswith("占") or len(label) <= 1
                                                        or share_at > (found[i - 1].start if i else -1)):
            # 占…的 x%: the share of the figure before it
            subject = _share_subject(norm, found, i, labels)
            label = f"{subject}占比" if subject else label
        elif f.kind == "percent" and (cfg["up"].match(bare) or cfg["down"].match(bare)) and prev:
            suffix = "增长率" if cfg["up"].match(bare) else "下降率"
            label = f"{subject_of(prev) or prev}{suffix}"
        elif label in cfg["measures"] and (prev_any or prev) and _adjacent(norm, found, i, s):
            # carried only from the clause right before: "截至…日，实际支出 X" starts afresh
            subject = subject_of(prev if f.kind == "amount" else prev_any)
            if subject and subject != label:
                label = subject + label
        labels.append(label or None)
    return labels


def _adjacent(norm: str, found: list[Found], i: int, segment_start: int) -> bool:
    """Is the clause of figure i the next clause after the previous figure's?"""
    if i == 0:
        return False
    between = norm[found[i - 1].end:segment_start]
    return not re.sub(r"[\s，,、；;：:。（）()]", "", between)


def _share_subject(norm: str, found: list[Found], i: int, labels: list[str | None]) -> str | None:
    """The figure a 占 clause is said of: the last non-percent figure before the word 占."""
    at = norm.rfind("占", 0, found[i].start)
    for j in range(i - 1, -1, -1):
        if found[j].kind != "percent" and found[j].end <= at and labels[j]:
            return labels[j]
    for j in range(i - 1, -1, -1):
        if found[j].kind != "percent" and labels[j]:
            return labels[j]
    return None
