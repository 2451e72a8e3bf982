"""What a figure measures: the short noun phrase before it, cleaned with the genre's vocabulary.

"基本支出预算 828.69 万元，实际支出 959.98 万元" — the second figure's clause says only 实际支出, so the
subject (基本支出) is carried over from the clause before.  "占14.61%" is a share of the figure before
it, "比上年增长33%" that figure's growth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache

from pipeline.vocabulary import alternation, vocab

from .figures import Found

_DELIM = set("，,。；;：:、！？!?（(\n")
_DATE_PREFIX = re.compile(
    r"^(?:截至|截止|至)?\s*\d{2,4}\s*年(?:度)?(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?(?:底|末|初)?"
)
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
        "classification_level": re.compile(lab["classification_level"]),
        "unit_decl": re.compile(r"[(（]\s*(?:单位\s*[:：]\s*)?(?:亿元|万元|千元|元|%|人|个)\s*[)）]"),
        "quals": re.compile(rf"(?:{alternation(vocab()['qualifiers']['before'])})$"),
        "not_quals": re.compile(rf"(?:{alternation(vocab()['qualifiers']['not_before'])})$"),
        "compare": re.compile(
            rf"^(?P<subject>.*?)(?P<base>{lab['compare_base']})(?P<change>{lab['compare_change']})$"
        ),
        "change_up": re.compile(rf"^(?:{alternation(lab['change_up'])})$"),
        "derived": re.compile(rf"(?:{alternation(lab['derived_suffix'])})$"),
        "lead": re.compile(lab["clause_lead"]),
        "cut_after": set(lab["cut_after"]),
        "nouns": re.compile(alternation(lab["nouns"])),
        "keep_verbs": set(lab["keep_verbs"]),
        "vague": re.compile(lab["vague"]),
        "after_strip": re.compile(rf"^(?:{alternation(lab['after_strip'])})+"),
        "topic_suffix": re.compile(rf"(?:{alternation(lab['topic_suffix'])})+$"),
        "marker": re.compile(lab["heading_marker"]),
        "change_names": lab["change_names"],
        "rate_size": set(lab["rate_size"]),
        "cause": re.compile(lab["cause"]),
        "subject_change": re.compile(lab["subject_change"]),
        "prior_base": re.compile(lab["prior_base"]),
        "respectively_share": re.compile(lab["respectively_share"]),
        "no_subject": re.compile(lab["no_subject"]),
        "this_period": re.compile(lab["this_period"]),
        "loose_suffix": set(lab["loose_suffix"]),
        "long_label": lab["long_label"],
        "respectively": re.compile(lab["respectively"]),
        "self": re.compile(alternation(lab["self_names"])),
        "wei_words": set(lab["wei_words"]),
        "indicator": re.compile(lab["indicator_prefix"]),
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
    s = cfg["marker"].sub("", s)
    m = cfg["indicator"].match(s)
    if m and len(s) - m.end() >= 2:
        s = s[m.end() :]
    after_name = re.sub(r"^(?:等|的)", "", s.rsplit("》", 1)[1]) if "》" in s else ""
    if len(after_name) >= 2:  # 《…的通知》等宣传资料: a document's name before the thing counted
        s = after_name
    s = cfg["unit_decl"].sub("", s)
    s = cfg["classification_level"].sub("", s)
    s = cfg["scope"].sub("", s)
    s = re.sub(r"[(（][A-Za-z\d/+\-*×÷%\s]{1,12}[)）]", "", s)  # 执行率(B/A): a formula, not a name
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
            s = s[m.end() :]
        m = cfg["suffix"].search(s)
        if (
            m
            and m.start() >= 3
            and not cfg["not_quals"].search(s)
            and (
                _whole_word_suffix(s, len(s) - m.start(), words)
                or m.group(0) in cfg["loose_suffix"]
                and s[m.start() - 1 :] not in cfg["wei_words"]
                and s[m.start() - 2 :] not in cfg["wei_words"]
            )
        ):
            # (得分为 95 分: jieba reads 分为 as one word, but 为 is still the copula before the figure)
            s = s[: m.start()]
        m = cfg["quals"].search(s)
        if m and m.start() >= 2 and not cfg["not_quals"].search(s):
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


Tagger = Callable[[str], list[tuple[str, str]]]


def label_figures(
    norm: str,
    found: list[Found],
    body_start: int = 0,
    words: Callable[[str], list[str]] | None = None,
    tags: Tagger | None = None,
    context: dict | None = None,
) -> list[str | None]:
    """A label for each figure of one paragraph, in order.

    `words` segments a phrase into words (jieba, through the spaCy pipeline); with it, leading and
    trailing function words are stripped only where they are whole words (为民 is not 为 + 民).
    `tags` gives (word, part of speech) pairs (jieba.posseg): with it, a clause is cut to the noun phrase
    that names the figure.  `context` carries what stands outside the paragraph: `lead_in`, the words of
    a sentence that began in the paragraph before; `prev_label`, the last subject stated before it;
    `topic`, the title of the section it stands in.
    """
    context = context or {}
    lead_in = context.get("lead_in") or ""
    if lead_in:
        # the sentence began in the paragraph before: read it whole, then give back this paragraph's labels
        shift = len(lead_in)
        norm = lead_in + norm
        found = [replace(f, start=f.start + shift, end=f.end + shift) for f in found]
        body_start = body_start + shift if body_start else 0
    cfg = _cfg()
    labels: list[str | None] = []
    based: dict[int, str] = {}  # figures labelled as a comparison's base → the subject they are the base of
    for i, f in enumerate(found):
        # a figure inside a heading's own title is labelled from the title
        floor = body_start if f.start >= body_start else 0
        prev_end = found[i - 1].end if i else floor
        left = max(prev_end, floor)
        s, e = _segment(norm, left, f.start)
        raw = norm[s:e]
        if not clean(raw) and s > floor:
            # "共计 10 个 579.15 万元" or "总额): 1084.25": the words stand one clause further left
            s2 = s - 1 if s > left and norm[s - 1] in _DELIM else s
            if s2 == s and i and found[i - 1].end == s:
                s2 = found[i - 1].start
                left = found[i - 2].end if i >= 2 else floor
            else:
                left = max(
                    prev_end, floor
                )  # (never back over the figure before: 总额：150万元 执行数：148万元)
            s3, _ = _segment(norm, max(left, floor), s2)
            raw = norm[s3:s2]
        if "=" in raw:  # 预算执行率=实际支出/预算数=96.5%: the quantity the formula defines
            raw = raw.split("=", 1)[0] or raw.replace("=", "")
        label = clean(raw, words)
        other_year = _other_year(raw, context.get("year"))
        # read on the clause as printed: cleaning would take 与2022年度 for a date before the label
        comparison = _comparison(re.sub(r"\s+", "", raw), words) or _comparison(label, words)
        if tags is not None and comparison is None:
            # a rate's words are often verbs themselves (完成年初预算, 支付进度达到): keep those
            label = noun_phrase(label, tags, verbs=f.kind != "percent")
        prev_at = next((j for j in range(i - 1, -1, -1) if _states_subject(found[j]) and labels[j]), None)
        prev = labels[prev_at] if prev_at is not None else context.get("prev_label")
        base = cfg["prior_base"].match(label or "") if f.kind in ("amount", "count") else None
        prev_subject = _subject(prev)
        prev_any = labels[i - 1] if i else None
        share_at = norm.rfind("占", max(body_start, f.start - 30), f.start)
        if (
            f.kind == "percent"
            and share_at >= 0
            and (
                not label
                or label.startswith("占")
                or len(label) <= 1
                or share_at > (found[i - 1].start if i else -1)
            )
        ):
            # 占…的 x%: the share of the figure before it, or of the subject named before 占 in its clause
            # (基本支出占总支出的 73.6%)
            own = clean(norm[s:share_at], words) if s < share_at else ""
            if cfg["respectively_share"].search(norm[max(0, share_at - 4) : share_at]):
                own = _respective_subject(norm, found, i, labels, share_at) or ""
            subject = own if len(own) >= 2 else _share_subject(norm, found, i, labels)
            label = f"{subject}占比" if subject else label
        elif base is not None and prev_subject and _comparison(prev, words) is None:
            # 支出 1.25 万元，比 2022 年 1.50 万元减少 0.25 万元: the 1.50 is 2022's 支出
            based[i] = cfg["this_period"].sub("", prev_subject) or prev_subject
            label = base.group("when") + based[i]
        elif comparison is not None and f.kind in ("amount", "percent", "count"):
            # 较上年减少 x 万元，下降 y%: the change of the subject named in the clause, or before it
            subject, up, printed = comparison
            # (a figure before that is itself a change without a subject names none; one that is the
            # comparison's base names the subject it was the base of)
            # (a head count's change keeps its subject: 在职人员比上年增加 4 人，增长 9.09%)
            prev_comparison = _comparison(prev, words)
            subject = (
                subject
                or based.get(prev_at)
                or (prev_subject if prev_comparison is None else prev_comparison[0] or None)
            )
            names = cfg["change_names"][f.kind]
            if f.kind == "count" and subject:
                label = subject + printed  # a head count's change reads as printed: 遗属较上年减少
            elif subject or f.kind == "percent":
                label = f"{subject or ''}{names[0] if up else names[1]}"
        elif f.kind == "percent" and label in cfg["rate_size"] and prev_subject:
            label = f"{prev_subject}{label}"
        elif (
            label in cfg["measures"]
            and (prev_any or prev)
            and _adjacent(norm, found, i, s)
            and (prev if f.kind == "amount" else prev_any) not in cfg["measures"]
            # (an adjustment names no subject: 年初预算 200，年中追加 50，全年预算 250)
            and not cfg["no_subject"].search((prev if f.kind == "amount" else prev_any) or "")
            and _same_sentence(norm, found, i)
        ):
            # (全年预算数 x，全年执行数 y: a measure after a measure has no subject to carry; nor does
            # a clause after ；/。, which starts afresh)
            # carried only from the clause right before: "截至…日，实际支出 X" starts afresh
            subject = subject_of(prev if f.kind == "amount" else prev_any)
            if subject and subject != label:
                label = subject + label
        if not label or cfg["vague"].match(label):
            # 该项目 603 万元 / 10441 万元资金全部拨付到位: the words after it, or the section's topic
            after = _after_words(norm, found, i, tags)
            topic = _topic(context.get("topic"))
            label = ((topic or after) if label else (after or topic)) or label
        elif tags is not None and f.kind == "amount" and _ends_with_verb(label, tags):
            # 本年新增 50 万元专项经费: the thing comes after the figure
            after = _after_words(norm, found, i, tags)
            if after and tags(after)[0][1] != "v":
                label = label + after
        if label and other_year and not label.startswith(other_year):
            label = other_year + label  # 2021年度三公经费支出 in a 2022 report is the prior year's
        labels.append(label or None)
    _respectively(norm, found, labels, body_start, words)
    return labels


def _respectively(
    norm: str,
    found: list[Found],
    labels: list[str | None],
    body_start: int,
    words: Callable[[str], list[str]] | None,
) -> None:
    """中央资金、省级资金分别为 600 万元和 423 万元: the names listed before 分别 go to the figures after it,
    in order, when there are as many figures as names."""
    cfg = _cfg()
    for i, f in enumerate(found):
        left = found[i - 1].end if i else body_start
        clause = re.split(r"[，,。；;：:！？!?（(]", norm[left : f.start])[-1]  # a list of names runs over 、
        m = cfg["respectively"].match(re.sub(r"\s+", "", clause))
        if not m:
            continue
        names = [clean(n, words) for n in re.split(r"[、和及与]", m.group("names")) if clean(n, words)]
        run = [i]
        while (
            run[-1] + 1 < len(found)
            and len(run) < len(names)
            and re.fullmatch(r"[\s、和及与,，]*", norm[found[run[-1]].end : found[run[-1] + 1].start])
        ):
            run.append(run[-1] + 1)
        if len(names) < 2 or len(run) != len(names):
            continue
        change = m.group("change")
        for j, name in zip(run, names):
            if change and (found[j].kind in cfg["change_names"]):
                up = bool(cfg["change_up"].match(change))
                name += cfg["change_names"][found[j].kind][0 if up else 1]
            labels[j] = name


def _other_year(raw: str, year: int | None) -> str | None:
    """The year a clause opens with (2021年度…), when it is not the year the report covers."""
    m = re.match(r"^\s*((?:19|20)\d{2})\s*年(度?)(?!\s*\d{1,2}\s*月)", raw)
    if not m or year is None or int(m.group(1)) == year:
        return None
    return f"{m.group(1)}年{m.group(2)}"


def _ends_with_verb(label: str | None, tags: Tagger) -> bool:
    toks = tags(label) if label else []
    return bool(toks) and toks[-1][1] == "v" and len(toks[-1][0]) >= 2


def _states_subject(f: Found) -> bool:
    """Can a later clause's measure or change be said of this figure? Not of a rate or of 个百分点."""
    return f.kind != "percent" and "百分点" not in f.unit


def _subject(label: str | None) -> str | None:
    """公务接待减少额 → 公务接待: what a derived label was said of (a measure stays: 基本支出预算 is what
    grew when 基本支出预算 x，较上年增加 y)."""
    if not label:
        return None
    m = _cfg()["derived"].search(label)
    if m and m.start() > 0:
        return label[: m.start()]
    return label


def _comparison(
    label: str | None, words: Callable[[str], list[str]] | None = None
) -> tuple[str, bool, str] | None:
    """(subject, rising, the comparison as printed) when the label is a comparison: 公务接待较上年同期减少,
    同比增长, 相比增加.  A subject that is a cause (因…, 由于…) is no subject."""
    if not label:
        return None
    cfg = _cfg()
    if cfg["up"].match(label) or cfg["down"].match(label):
        return "", bool(cfg["up"].match(label)), label
    m = cfg["compare"].match(label) or cfg["subject_change"].match(label)
    if not m:
        return None
    change = re.sub("了$", "", m.group("change"))
    base = m.group("base") if "base" in m.groupdict() else ""
    subject = clean(m.group("subject"), words)
    if cfg["cause"].match(subject):
        subject = ""
    return subject, bool(cfg["change_up"].match(change)), base + change


def noun_phrase(label: str, tags: Tagger, verbs: bool = True) -> str:
    """Cut a clause to the noun phrase naming the figure: what follows 是/为/了, what follows a year
    inside it, what follows a leading verb (下达中央资金 → 中央资金)."""
    cfg = _cfg()
    s = cfg["lead"].sub("", label)
    if len(s) < 3:
        return label
    pos = cut = 0
    for w, _ in tags(s):
        pos += len(w)
        if w in cfg["cut_after"] and len(s) - pos >= 2:
            cut = pos
    s = s[cut:]
    # the report's own name for itself ends a preamble: 县财政下达我局 | 项目资金
    selves = list(cfg["self"].finditer(s))
    if selves and len(s) - selves[-1].end() >= 2 and cfg["nouns"].search(s[selves[-1].end() :]):
        s = s[selves[-1].end() :]
    # a long clause names its figure in the noun phrase after its last 的 (…关于下达衔接资金的通知精神，
    # 县财政下达的 | 项目资金); a short one keeps it (对个人和家庭的补助)
    if len(s) > cfg["long_label"] and "的" in s:
        tail = s.rsplit("的", 1)[1]
        if len(tail) >= 2 and cfg["nouns"].search(tail):
            s = tail
    # a year inside the phrase ends its preamble: 下达某县2023年 | 中央水利发展资金
    years = [
        m
        for m in re.finditer(r"(?:19|20)\d{2}\s*年度?", s)
        if m.start() > 0 and not re.search(r"(?:较|比|与)$", s[: m.start()])
    ]
    if years and len(s) - years[-1].end() >= 2 and not cfg["vague"].match(s[years[-1].end() :]):
        s = s[years[-1].end() :]
    for _ in range(2 if verbs else 0):
        toks = tags(s)
        if len(toks) < 2:
            break
        w, flag = toks[0]
        rest = s[len(w) :]
        # (what is left must start as a noun phrase: 转移 | 支付预算数 is one term, not a verb and its object)
        if (
            flag[:1] in ("v", "d", "p")
            and flag != "vn"
            and w not in cfg["keep_verbs"]
            and not cfg["nouns"].search(w)
            and cfg["nouns"].search(rest)
            and len(rest) >= 2
            and not cfg["vague"].match(rest)
            and toks[1][1][:1] not in ("v", "d", "p", "u")
        ):
            s = rest
        else:
            break
    return clean(s, lambda phrase: [w for w, _ in tags(phrase)]) if s != label else label


def _after_words(norm: str, found: list[Found], i: int, tags: Tagger | None) -> str | None:
    """The words right after a figure that opens its clause (10441 万元资金全部拨付到位 → 资金拨付到位)."""
    cfg = _cfg()
    end = found[i + 1].start if i + 1 < len(found) else len(norm)
    m = re.match(r"[^，,。；;：:！？!?（(]*", norm[found[i].end : end])
    text = re.sub(r"\s+", "", m.group(0)) if m else ""
    if tags is None:
        text = clean(cfg["after_strip"].sub("", text))
    else:
        text = "".join(w for w, _ in tags(text) if not cfg["after_strip"].fullmatch(w))
        text = clean(text, lambda phrase: [w for w, _ in tags(phrase)])
    if 2 <= len(text) <= 12 and cfg["nouns"].search(text):
        return text
    return None


def _topic(title: str | None) -> str | None:
    """项目资金到位情况分析 → 项目资金到位: what the section is about."""
    if not title:
        return None
    t = _cfg()["topic_suffix"].sub("", clean(title))
    return t if 2 <= len(t) <= 14 else None


def _same_sentence(norm: str, found: list[Found], i: int) -> bool:
    """Is figure i in the same sentence (no ；/。 between) as the last figure a subject can come from?"""
    j = next((j for j in range(i - 1, -1, -1) if _states_subject(found[j])), None)
    return j is not None and not re.search(r"[；;。]", norm[found[j].end : found[i].start])


def _adjacent(norm: str, found: list[Found], i: int, segment_start: int) -> bool:
    """Is the clause of figure i the next clause after the previous figure's?"""
    if i == 0:
        return False
    between = norm[found[i - 1].end : segment_start]
    return not re.sub(r"[\s，,、；;：:。（）()]", "", between)


def _respective_subject(
    norm: str, found: list[Found], i: int, labels: list[str | None], share_at: int
) -> str | None:
    """A x、B y，分别占 Z 的 a% 和 b%: the k-th percentage after 分别占 is said of the k-th of the figures just
    before it (as many figures as percentages, in one sentence)."""
    end = min(
        (m.start() for m in re.finditer(r"[。；;!?！？]", norm[share_at:])), default=len(norm) - share_at
    )
    shares = [j for j, f in enumerate(found) if f.kind == "percent" and share_at < f.start < share_at + end]
    start = max((m.end() for m in re.finditer(r"[。；;!?！？]", norm[:share_at])), default=0)
    before = [
        j for j, f in enumerate(found) if f.kind != "percent" and start <= f.start and f.end <= share_at
    ]
    if i not in shares or len(shares) < 2 or len(before) < len(shares):
        return None
    return labels[before[-len(shares) :][shares.index(i)]]


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
