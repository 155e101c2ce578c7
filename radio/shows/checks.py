"""What makes a line unfit to air, whatever it says, and the whole-show checks.

Small models drift into markup, fragments, the authors' "we" and the prompt's own wording;
each check here names one of those failures in words, so a failed line can be written
again (and the reason logged) or replaced (radio.shows.dialogue holds the checks that
need the paper: grounding, copies, repeats).
"""

from __future__ import annotations

import re
from itertools import pairwise

from radio.shows.script import Script

_MARKUP = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|org|net|io|ai)\b|arxiv\.org|[<>{}\[\]\\$#|`~^]|\*\*|__")
_OTHER_SCRIPT = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u3000-\u9fff\uac00-\ud7af]")
_AUTHOR_VOICE = re.compile(r"\b(?:we propose|we present|we introduce|we argue|our (?:approach|"
                           r"method|model|network|paper|work|experiments))\b", re.I)
# The paper's own voice, copied by a model, said about the authors instead.
_AUTHOR_WE = re.compile(r"\b(we|our)( (?:propose|present|introduce|argue|show|find|approach|"
                        r"method|model|network|paper|work|experiments|results))\b", re.I)
_SENTENCE_END = re.compile(r"[.!?][)'\"”’]*$")
_TRAILING = re.compile(r"[,;:(&/-]\s*[.!?]+$")  # "...for large language models,."
_EMPHASIS = re.compile(r"\*\*|__|`")
_SPEAKER_PREFIX = re.compile(r"^\s*([A-Z][\w .'-]{0,30}):\s+")
ECHO_NGRAM, ECHO_RUNS = 4, 2  # two runs of four content words: five in the same order
_FUNCTION_WORDS_TEXT = """a an the of to in on at by for with and or but is are was were be been
it its this that these those as from into than then so"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())


def clean_text(text: str, hosts: list[str]) -> str:
    """Tidy what a model writes and voices would stumble on (not a check: a repair)."""
    text = _EMPHASIS.sub("", " ".join(text.split())).strip().strip('"“”').strip()
    text = _AUTHOR_WE.sub(_about_authors, text)
    prefix = _SPEAKER_PREFIX.match(text)
    if prefix and prefix.group(1) in hosts:
        text = text[prefix.end():]
    return text


def _about_authors(match: re.Match) -> str:
    said = "the authors" if match.group(1).lower() == "we" else "their"
    return (said.capitalize() if match.group(1)[0].isupper() else said) + match.group(2)


def fingerprint(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _named(text: str, names: list[str]) -> list[str]:
    """The text's content words, with every name as one placeholder word."""
    text = fingerprint(text)
    for name in sorted({fingerprint(n) for n in names if fingerprint(n)}, key=len, reverse=True):
        text = re.sub(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", "name", text)
    return [w for w in text.split() if w not in _FUNCTION_WORDS]


def echoes(text: str, instructions: str, names: list[str], n: int = ECHO_NGRAM) -> bool:
    """The line says the prompt's instructions back: ECHO_RUNS of its runs of n content
    words, or a fifth of them, are the instructions'. Content words, so a dropped "the"
    hides nothing; names (the title, the hosts, the date) stand for one placeholder in both,
    so "Welcome to <title> on <station>" is no echo of "welcome the listeners to <title> on
    <station>", but repeating that instruction is."""
    mine = _ngrams(_named(text, names), n)
    if not mine:
        return False
    shared = mine & _ngrams(_named(instructions, names), n)
    return bool(shared) and (len(shared) >= ECHO_RUNS or len(shared) >= 0.2 * len(mine))


def line_problems(text: str) -> list[str]:
    """What makes a line unfit to say, whatever it says: markup, another script, a
    fragment, the authors' own voice, a sentence that does not end."""
    problems: list[str] = []
    markup = _MARKUP.search(text)
    if markup:
        problems.append(f"URL or markup {markup.group()!r}")
    if _OTHER_SCRIPT.search(text):
        problems.append("not in English")
    if "..." in text or text[:1].islower():
        problems.append("is a fragment")
    if _AUTHOR_VOICE.search(text):
        problems.append("speaks as the paper's authors")
    if not _SENTENCE_END.search(text) or _TRAILING.search(text):
        problems.append("ends mid-sentence")
    return problems


def check_show(script: Script, hosts: list[str], tolerance: float, length_s: float) -> list[str]:
    """Whole-show checks: enough voices, the length, and no line said twice."""
    problems: list[str] = []
    speakers = {line.speaker for line in script.lines}
    if len(speakers) < 2:
        problems.append(f"only {len(speakers)} speaker(s)")
    problems += [f"unknown speaker {s!r}" for s in sorted(speakers - set(hosts))]
    low, high = length_s * (1 - tolerance), length_s * (1 + tolerance)
    if not low <= script.estimated_s <= high:
        problems.append(f"{script.estimated_s:.0f} s long, budget {length_s:.0f} s "
                        f"(allowed {low:.0f}-{high:.0f})")
    run = 1
    for prev, line in pairwise(script.lines):
        run = run + 1 if line.speaker == prev.speaker else 1
        if run == 3:
            problems.append(f"{line.speaker} speaks three lines in a row: {line.text[:40]!r}")
    marks = [fingerprint(line.text) for line in script.lines]
    problems += [f"line repeated: {mark[:60]!r}" for mark in sorted(set(marks))
                 if marks.count(mark) > 1]
    return problems
