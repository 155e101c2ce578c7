"""Text normalization: what each kind of paper text becomes before a voice reads it."""

from __future__ import annotations

import pytest

from radio.voices.normalize import normalize
from tests.voices.conftest import Paper


@pytest.mark.parametrize(("text", "spoken"), [
    # arXiv ids, new and old style, and arXiv itself
    ("arXiv:2312.10997v5", "archive twenty-three twelve dot one zero nine nine seven version five"),
    ("see 2401.00001", "see twenty-four oh one dot zero zero zero zero one"),
    ("astro-ph/0601001", "astro P.H. zero six zero one zero zero one"),
    ("on arXiv today", "on archive today"),
    # versions, numbers, percentages, units
    ("version 3.5.1", "version three point five point one"),
    ("Llama v2", "Llama version two"),
    ("up to 58% faster", "up to fifty-eight percent faster"),
    ("1.66-5.66x higher", "one point six six to five point six six times higher"),
    ("a 7B model", "a seven billion model"),
    ("13.5K tasks", "thirteen point five thousand tasks"),
    ("5 ms at 2.4 GHz", "five milliseconds at two point four gigahertz"),
    ("1 GB", "one gigabyte"),
    ("3 μs", "three microseconds"),
    ("100 tokens/s", "one hundred tokens per second"),
    ("in 2023", "in twenty twenty-three"),
    ("the 1990s", "the nineteen nineties"),
    ("1,200 papers", "one thousand two hundred papers"),
    ("the 1st and 22nd", "the first and twenty-second"),
    ("-0.5", "minus zero point five"),
    # math and Greek
    ("α = 0.5", "alpha equals zero point five"),
    ("x² ≤ 3", "x squared less than or equal to three"),
    ("O(n^2) time", "big O of n squared time"),
    ("$\\beta \\cdot \\gamma$", "beta times gamma"),
    ("p < 0.05", "p less than zero point zero five"),
    # acronyms
    ("LLMs like GPT-4", "L.L.M.'s like G.P.T. four"),
    ("ViT and MoE", "V.I.T. and M.O.E."),
    ("TTFT on vLLM", "T.T.F.T. on V.L.L.M."),
    ("SPIN and TIDE", "Spin and Tide"),
    ("HumanEval on HealthNLP_Retrievers", "Human Eval on Health N.L.P. Retrievers"),
    # URLs, citations, PDF debris
    ("Code at https://github.com/x/y.", "Code."),
    ("see www.example.org for more", "see for more"),
    ("as shown [12, 14].", "as shown."),
    ("the ﬁrst eﬀect", "the first effect"),
    ("trans-\nformers", "transformers"),
    ("naïve café", "naive cafe"),
    ("e.g. this", "for example, this"),
    ("sandboxes.To support", "sandboxes. To support"),
    ("Smith et al. found", "Smith and colleagues found"),
    ("emoji 🚀 and 中文 go", "emoji and go"),
])
def test_normalize(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize("engine", ["", "kokoro", "flite", "espeak"])
def test_acronyms_are_dotted_letters(engine: str) -> None:
    assert normalize("AI assistants call the API.", engine) == "A.I. assistants call the A.P.I."
    assert normalize("EHRs and the A.I. itself", engine) == "E.H.R.'s and the A.I. itself"


def test_piper_gets_hyphenated_letters_and_a_bare_ai() -> None:
    assert normalize("AI assistants call the API.", "piper") == "AI assistants call the A-P-I."
    assert normalize("Long-Context LLM Serving on vLLM", "piper") == \
        "Long-Context L-L-M Serving on V-L-L-M"
    assert normalize("EHRs and the A.I. itself", "piper") == "E-H-R's and the AI itself"


def test_output_is_plain_speakable_ascii(numbers_paper: Paper) -> None:
    for sentence in numbers_paper.sentences:
        spoken = normalize(sentence)
        assert spoken.isascii()
        assert not any(c.isdigit() for c in spoken), spoken
        assert not set(spoken) & set("%$/\\[]{}<>=^_|~*#@&"), spoken


def test_real_abstract_reads_sensibly(numbers_paper: Paper) -> None:
    last = normalize(numbers_paper.sentences[-1])
    assert "one point six six to five point six six times higher end-to-end throughput" in last
    assert "seven to nine times lower T.T.F.T. than V.L.L.M." in last
    assert "up to fifty-eight percent" in last


def test_nothing_left_of_a_bare_link() -> None:
    assert normalize("https://arxiv.org/abs/2312.10997") == ""
