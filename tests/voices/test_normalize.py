"""Text normalization: what each kind of paper text becomes before a voice reads it."""

from __future__ import annotations

import pytest

from radio.speech.normalize import normalize
from tests.support.voices import Paper


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


@pytest.mark.parametrize("engine", ["", "kokoro-espeak", "flite", "espeak"])
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


# --- spoken form: numbers as people say them, no brackets, slashes or citations ------------


@pytest.mark.parametrize(("text", "spoken"), [
    ("627M tables", "six hundred twenty-seven million tables"),
    ("627 million tables", "six hundred twenty-seven million tables"),
    ("627,000,000 tables", "six hundred twenty-seven million tables"),
    ("69 TiB of data", "sixty-nine tebibytes of data"),
    ("1 GiB", "one gibibyte"),
    ("a 1.5B model", "a one point five billion model"),
    ("12.5% better", "twelve point five percent better"),
    ("lr 1e-4", "lr ten to the minus four"),
    ("3.5e6 steps", "three point five times ten to the sixth steps"),
    ("10^6 samples", "ten to the sixth samples"),
    ("p(x) is small", "p of x is small"),
    ("#1 on the board", "number one on the board"),
    ("w/o retrieval", "without retrieval"),
    ("1234567890123 rows", "one trillion two hundred thirty-four billion five hundred "
     "sixty-seven million eight hundred ninety thousand one hundred twenty-three rows"),
])
def test_numbers_are_said_as_words(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(("text", "spoken"), [
    ("Transformers (Vaswani et al., 2017) changed it.", "Transformers changed it."),
    ("as before (Smith, 2020; Lee and Park 2021a).", "as before."),
    ("as before (e.g., Brown et al. 2020).", "as before."),
    ("(Vaswani, Shazeer, and Parmar, 2017) showed", "showed"),
    ("Smith et al. (2020) showed it", "Smith and colleagues showed it"),
    ("as shown [3; 5-7] and [12]-[14].", "as shown and."),
    ("as in [Vaswani et al., 2017] and [BMR+20].", "as in and."),
    ("large language models (LLMs) are", "large language models, L.L.M.'s, are"),
    ("a new model (released in 2023).", "a new model, released in twenty twenty-three."),
    ("the encoder/decoder split", "the encoder decoder split"),
])
def test_citations_go_and_asides_become_commas(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize("engine", ["", "piper", "hibari", "kokoro", "kokoro-espeak", "flite",
                                    "espeak"])
def test_no_brackets_slashes_or_citation_marks_reach_a_voice(engine: str) -> None:
    line = ("TabLib (Eggert et al., 2023) has 627M tables [3], i.e. 69 TiB (raw); "
            "CPU/GPU runs [12, 14] cost $1.5B (in 2023).")
    spoken = normalize(line, engine)
    assert not set(spoken) & set("()[]{}/\\"), spoken
    said = spoken.replace(",", " ").replace(".", " ").split()
    assert not {"Eggert", "colleagues", "three", "twelve", "fourteen"} & set(said), spoken
    assert "six hundred twenty-seven million tables" in spoken
    assert "sixty-nine tebibytes" in spoken


def test_an_acronym_that_lost_its_capitals_is_still_spelled() -> None:
    # An all-capitals title recased word by word arrives as "Llm As A Mastermind".
    assert normalize("Llm As A Mastermind") == "L.L.M. As A Mastermind"
    assert normalize("Llms and Gpt-4, Mr Smith") == "L.L.M.'s and G.P.T. four, Mr Smith"
    assert normalize("Llm As A Mastermind", "hibari") == "LLM As A Mastermind"


@pytest.mark.parametrize("engine", ["hibari", "kokoro"])
def test_misaki_engines_read_acronyms_and_brands_as_written(engine: str) -> None:
    # misaki's front end (hibari's port, Kokoro's misaki) spells acronyms and reads brand
    # names: they go unchanged.
    assert normalize("LLM", engine) == "LLM"
    assert normalize("LLMs like GPT-4 on TabLib", engine) == "LLMs like GPT four on TabLib"
    assert normalize("SPIN cuts TTFT on vLLM", engine) == "SPIN cuts TTFT on vLLM"
    # ...but the words it gets wrong are still rewritten, and numbers are still words.
    assert normalize("LLaMA and CUDA at 58%", engine) == "Llama and cuda at fifty-eight percent"


def test_other_engines_get_spelled_letters() -> None:
    assert normalize("LLM") == "L.L.M." and normalize("LLM", "piper") == "L-L-M"
    assert normalize("LLMs on TabLib", "kokoro-espeak") == "L.L.M.'s on Tab Lib"
