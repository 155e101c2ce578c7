"""Text a host can say: sentences cleaned for speech, in the third person.

No captions, citations, "Figure N", URLs or LaTeX; abbreviations spelled out; the paper's
"we" becomes "the authors". The fallback lines of the writer (radio.shows.writing) and the
passages shown to the model go through here.
"""

from __future__ import annotations

import re

from radio.understanding.grounding import normalise

# --- speakable sentences ---------------------------------------------------------------------

_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[\"“(]?[A-Z])")
_CITATION = re.compile(
    r"\s*\[[\d,\s–-]+\]|\s*\[[A-Z][^\[\]]{0,80}?\d{4}[a-z]?\]"
    r"|\s*\((?:see )?(?:[A-Z][A-Za-z'-]+(?: et al\.?| and [A-Z][A-Za-z'-]+)?,? \d{4}[a-z]?"
    r"(?:;\s*)?)+\)")
# Captions, cross-references, front matter and markup: a sentence with any of these goes.
_DEBRIS = re.compile(
    r"\b(?:fig(?:ure)?s?|tables?|sec(?:tion)?s?|eqs?|equations?|appendix|algorithm|"
    r"listing)\.?\s*\(?[0-9IVX]|https?://|www\.|@|\\[a-zA-Z]+|[$^_{}<>\[\]#|`~=]|"
    r"[\u0370-\u03ff\u2200-\u22ff]|"
    r"\b(?:corresponding author|equal contribution|preprint|work (?:was )?done|"
    r"code (?:is )?(?:publicly )?available|github|copyright|licen[cs]e)\b|"
    r"(?:^|\s)(?:left|right|middle|top|bottom|above|below)\s*:", re.I)
# A figure's speech bubbles and labelled parts: 'Player: "I bluff with a weak hand."'
_LABEL = re.compile(r"^[A-Z][\w-]*(?: [A-Z][\w-]*)?:\s")
# What a removed citation leaves behind: "proposed by, in which", "see ()".
_DANGLING = re.compile(r"\b(?:by|in|of|see|from|and|with|to|as|than|like)\s*[,.;:)]|\(\s*\)"
                       r"|\s[,;]\s*[,;.]|[a-z]\.\s+[a-z]")  # "... clarity. of regression"
_ABBREVIATIONS = [(re.compile(r"\be\.g\.,?", re.I), "for example"),
                  (re.compile(r"\bi\.e\.,?", re.I), "that is"),
                  (re.compile(r"\bet al\.", re.I), "and colleagues"),
                  (re.compile(r"\betc\."), "and so on"), (re.compile(r"\bvs\."), "versus"),
                  (re.compile(r"\bw\.r\.t\."), "with respect to")]
# The hosts talk about the authors: the paper's "we" is "the authors" on air.
_PERSON = [(re.compile(r"\bWe\b"), "The authors"), (re.compile(r"\bwe\b"), "the authors"),
           (re.compile(r"\bOur\b"), "Their"), (re.compile(r"\bour\b"), "their"),
           (re.compile(r"\bours\b"), "theirs"), (re.compile(r"\bus\b"), "them"),
           (re.compile(r"\bourselves\b"), "themselves")]
MIN_WORDS, MAX_WORDS = 5, 55


def third_person(text: str) -> str:
    for pattern, replacement in _PERSON:
        text = pattern.sub(replacement, text)
    return text


def _is_prose(sentence: str) -> bool:
    """A whole sentence of running text: not a caption's word list or a title run."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or not sentence[:1].isupper():
        return False
    if sentence[-1] not in ".!?" or _DEBRIS.search(sentence) or _DANGLING.search(sentence) \
            or _LABEL.search(sentence) or sentence.count('"') % 2:
        return False
    capitalised = sum(w[:1].isupper() for w in words[1:])
    return capitalised <= 0.4 * (len(words) - 1)


def speakable(text: str) -> list[str]:
    """The sentences of `text` a host can say: cleaned, whole, in the third person."""
    text = normalise(_CITATION.sub("", text)).replace("“", '"').replace("”", '"')
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    out = []
    for sentence in _SPLIT.split(text.strip()):
        sentence = sentence.strip()
        sentence = re.sub(r"\s+([,.;:!?])", r"\1", sentence)
        if _is_prose(sentence):
            out.append(third_person(sentence))
    return out
