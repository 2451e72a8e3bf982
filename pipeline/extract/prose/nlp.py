"""The spaCy `zh` pipeline (jieba segmentation, rule components) that finds and labels prose figures.

No trained Chinese pipeline can be installed here, so every component is rule-based:
  figure_finder  – figures by pattern (pipeline.figures) as `doc.spans["figures"]`, each span's
                   `._.found` carrying value, unit and qualifier;
  figure_labeler – `span._.label`, what each figure measures (pipeline.labels), using the jieba
                   words of the Doc to strip function words only where they are whole words.
The paragraph's section-level context (declared units, the run-in heading) rides on `doc._.context`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import cache

import jieba
import jieba.posseg
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.vocabulary import vocab

from .figures import Found, find_bare_amounts, find_figures
from .labels import label_figures

jieba.setLogLevel(logging.WARNING)

if not Doc.has_extension("context"):
    Doc.set_extension("context", default=None)
if not Span.has_extension("found"):
    Span.set_extension("found", default=None)
if not Span.has_extension("label"):
    Span.set_extension("label", default=None)


@Language.component("figure_finder")
def figure_finder(doc: Doc) -> Doc:
    ctx = doc._.context or {}
    found = find_figures(doc.text, 0)
    unit = ctx.get("declared_unit")
    if unit:
        taken = [(f.start, f.end) for f in found]
        found = sorted(
            found + find_bare_amounts(doc.text, unit, ctx.get("declared_from", 0), taken),
            key=lambda f: f.start,
        )
    spans = []
    for f in found:
        span = doc.char_span(f.start, f.end, alignment_mode="expand")
        if span is None:
            continue
        span._.found = f
        spans.append(span)
    doc.spans["figures"] = spans
    return doc


@Language.component("figure_labeler")
def figure_labeler(doc: Doc) -> Doc:
    spans = list(doc.spans.get("figures", []))
    found: list[Found] = [s._.found for s in spans]
    ctx = doc._.context or {}
    labels = label_figures(doc.text, found, ctx.get("body_start", 0), words=_words, tags=_tags, context=ctx)
    for span, label in zip(spans, labels):
        span._.label = label
    return doc


@cache
def _tokenizer_nlp() -> Language:
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


def _words(phrase: str) -> list[str]:
    return [t.text for t in _tokenizer_nlp().tokenizer(phrase)]


@cache
def _tags(phrase: str) -> list[tuple[str, str]]:
    """(word, part of speech) by jieba's tagger, which knows the vocabulary's domain words too."""
    pipeline()  # the domain words are added to jieba there
    return [(w.word, w.flag) for w in jieba.posseg.cut(phrase)]


@cache
def pipeline() -> Language:
    """The shared pipeline: built once per process (loading jieba's dictionary takes about a second)."""
    cache_dir = os.environ.get("PIPELINE_CACHE", tempfile.gettempdir())
    jieba.dt.cache_file = os.path.join(cache_dir, "pipeline-jieba.cache")
    for word in vocab()["jieba"]["words"]:
        jieba.add_word(word)
    nlp = _tokenizer_nlp()
    if "figure_finder" not in nlp.pipe_names:
        nlp.add_pipe("figure_finder")
        nlp.add_pipe("figure_labeler")
    return nlp


def analyse(texts: list[tuple[str, dict]]) -> list[Doc]:
    """Run the pipeline over (normalised text, context) pairs."""
    nlp = pipeline()
    docs = []
    last_subject = None
    for text, ctx in texts:
        doc = nlp.make_doc(text)
        doc._.context = dict(ctx)
        # a paragraph that goes on from the one before may speak of the subject that one named last
        if doc._.context.pop("carry_subject", False) and last_subject:
            doc._.context["prev_label"] = last_subject
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        docs.append(doc)
        last_subject = next(
            (
                s._.label
                for s in reversed(doc.spans["figures"])
                if s._.label and s._.found.kind != "percent" and "百分点" not in s._.found.unit
            ),
            last_subject if not doc.spans["figures"] else None,
        )
    return docs
