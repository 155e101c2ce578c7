"""Text normalization before synthesis: say what a paper writes the way a host would.

Script lines carry arXiv ids, version numbers, units, math, Greek letters, acronyms,
URLs and PDF debris, and every engine reads those differently (or not at all). So the
text is rewritten into plain spoken English first. The order of the passes matters:
URLs and ids go before numbers (they hold dots and digits), units before numbers (a
unit needs the digits beside it), numbers before acronyms, and the last pass drops
whatever an engine cannot say. Engine tweaks come at the very end.

What a host would not read aloud goes: citation marks ([3], (Smith et al., 2020)), links,
brackets (an aside in parentheses is said between commas) and slashes. Numbers are said
as words the way people say them ("627M" -> "six hundred twenty-seven million", "69 TiB"
-> "sixty-nine tebibytes", "1e-4" -> "ten to the minus four"). Acronyms are spelled out
in letters for engines that would read them as words, and passed as the paper writes
them ("LLM", "TabLib") to engines that spell them themselves (SPELLS_ACRONYMS).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from num2words import num2words

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# --- Unicode from PDFs -----------------------------------------------------------------------

_CHARS = {
    "ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st",
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'",
    "‐": "-", "‑": "-", "‒": "-", "−": "-", "…": "...", "\u00a0": " ",
    "²": "^2", "³": "^3", "¹": "^1", "⁰": "^0", "⁴": "^4", "⁵": "^5", "⁶": "^6", "⁷": "^7",
    "⁸": "^8", "⁹": "^9", "⁻": "^-", "ⁿ": "^n",
    **{chr(0x2080 + i): f"_{i}" for i in range(10)},
    "½": " one half", "¼": " one quarter", "¾": " three quarters",
}

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa",
    "λ": "lambda", "μ": "mu", "µ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho",
    "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta",
    "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}

SYMBOLS = {
    "≤": "less than or equal to", "≥": "greater than or equal to", "≠": "not equal to",
    "≈": "approximately", "≃": "approximately", "∼": "about", "±": "plus or minus",
    "×": "times", "÷": "divided by", "→": "to", "⟶": "to", "⇒": "implies", "←": "from",
    "↔": "and", "∞": "infinity", "√": "square root of", "∑": "the sum of",
    "∏": "the product of", "∫": "the integral of", "∂": "partial", "∇": "the gradient of",
    "∈": "in", "∉": "not in", "⊂": "a subset of", "⊆": "a subset of", "∪": "union",
    "∩": "intersection", "∀": "for all", "∃": "there exists", "°": "degrees", "·": "times",
    "&": "and", "@": "at", "§": "section", "•": ",", "–": ",", "—": ",",
}

LATEX = {
    "cdot": "times", "times": "times", "leq": "less than or equal to", "le": "less than or "
    "equal to", "geq": "greater than or equal to", "ge": "greater than or equal to",
    "neq": "not equal to", "approx": "approximately", "sim": "about", "infty": "infinity",
    "sum": "the sum of", "prod": "the product of", "int": "the integral of", "ln": "log",
    "log": "log", "exp": "exp", "in": "in", "to": "to", "rightarrow": "to", "pm": "plus or "
    "minus", "sqrt": "the square root of", "partial": "partial", "nabla": "the gradient of",
}

# Said as words, not letters; and spellings engines get wrong on their own.
KNOWN_WORDS = {
    "ViT": "V.I.T.", "ViTs": "V.I.T.'s", "MoE": "M.O.E.", "MoEs": "M.O.E.'s", "LoRA": "Lora",
    "QLoRA": "Q Lora", "ReLU": "ray lu", "GELU": "gee lu", "GeLU": "gee lu",
    "PyTorch": "Pie Torch", "PyPI": "pie pee eye", "NumPy": "num pie", "SciPy": "sigh pie",
    "GitHub": "Git Hub", "YouTube": "YouTube", "LLaMA": "Llama", "BERT": "Bert",
    "RoBERTa": "Roberta", "RAG": "rag", "GAN": "gan", "GANs": "gans", "CLIP": "clip",
    "NeRF": "nerf", "YOLO": "yolo", "SQL": "sequel", "JSON": "jason", "CUDA": "cuda",
    "SQuAD": "squad", "ImageNet": "Image Net", "LaTeX": "lay tech", "PCIe": "P.C.I.E.",
    "iOS": "I.O.S.", "macOS": "mac O.S.", "OpenAI": "Open A.I.", "ChatGPT": "Chat G.P.T.",
    "DeepMind": "Deep Mind", "SAM": "Sam", "NASA": "nasa", "AdamW": "Adam W",
}

UNITS = {
    "ms": "milliseconds", "ns": "nanoseconds",
    "s": "seconds", "sec": "seconds", "min": "minutes", "h": "hours", "hr": "hours",
    "hrs": "hours", "Hz": "hertz", "kHz": "kilohertz", "MHz": "megahertz",
    "GHz": "gigahertz", "THz": "terahertz", "KB": "kilobytes", "kB": "kilobytes",
    "MB": "megabytes", "GB": "gigabytes", "TB": "terabytes", "PB": "petabytes",
    "EB": "exabytes", "KiB": "kibibytes", "MiB": "mebibytes", "GiB": "gibibytes",
    "TiB": "tebibytes", "PiB": "pebibytes", "EiB": "exbibytes",
    "Gbps": "gigabits per second", "Mbps": "megabits per second", "kW": "kilowatts",
    "MW": "megawatts", "mW": "milliwatts", "kWh": "kilowatt hours", "mV": "millivolts",
    "km": "kilometers", "m": "meters", "cm": "centimeters", "mm": "millimeters",
    "nm": "nanometers", "kg": "kilograms",
    "g": "grams", "mg": "milligrams", "°C": "degrees Celsius", "°F": "degrees Fahrenheit",
    "dB": "decibels", "fps": "frames per second", "FPS": "frames per second",
    "FLOPs": "flops", "FLOPS": "flops", "GFLOPS": "gigaflops", "TFLOPS": "teraflops",
    "PFLOPS": "petaflops", "px": "pixels", "pp": "percentage points", "%": "percent",
    "‰": "per mille",
}
MULTIPLIERS = {"k": "thousand", "K": "thousand", "M": "million", "B": "billion",
               "T": "trillion"}
PER = {"s": "second", "sec": "second", "ms": "millisecond", "h": "hour", "hr": "hour",
       "min": "minute", "day": "day", "GPU": "GPU", "token": "token", "step": "step",
       "epoch": "epoch", "image": "image", "sample": "sample", "query": "query",
       "request": "request", "user": "user", "node": "node", "core": "core"}

_NUM = r"\d+(?:\.\d+)?"
_ONSETS = {"BL", "BR", "CH", "CL", "CR", "DR", "FL", "FR", "GL", "GR", "KR", "PH", "PL",
           "PR", "SC", "SH", "SK", "SL", "SM", "SN", "SP", "ST", "SW", "TH", "TR", "WH"}


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _compile(rules: list[tuple[str, str | Callable[[re.Match[str]], str]]],
             flags: int = 0) -> list[Rule]:
    return [(re.compile(pattern, flags), repl) for pattern, repl in rules]


def _apply(text: str, rules: list[Rule]) -> str:
    for pattern, repl in rules:
        text = pattern.sub(repl, text)
    return text


# --- numbers ---------------------------------------------------------------------------------


def _words(n: int) -> str:
    """Cardinal words the way a US host says them: no 'and', no commas."""
    return num2words(n).replace(",", "").replace(" and ", " ")


def digits(text: str) -> str:
    return " ".join(DIGITS[int(d)] for d in text if d.isdigit())


def say_integer(raw: str) -> str:
    if len(raw) > 15 or (len(raw) > 1 and raw.startswith("0")):
        return digits(raw)
    n = int(raw)
    if len(raw) == 4 and 1900 <= n <= 2099:
        return num2words(n, to="year").replace(" and ", " ")
    return _words(n)


def say_decimal(raw: str) -> str:
    whole, _, fraction = raw.partition(".")
    head = _words(int(whole)) if whole else ""
    return f"{head} point {digits(fraction)}".strip()


def say_number(raw: str) -> str:
    return say_decimal(raw) if "." in raw else say_integer(raw)


def _pair(two: str) -> str:
    """'23' -> 'twenty-three', '07' -> 'oh seven' (years and months in arXiv ids)."""
    return f"oh {DIGITS[int(two[1])]}" if two.startswith("0") else _words(int(two))


def _new_arxiv_id(m: re.Match[str]) -> str:
    prefix = "archive " if m.group(1) else ""
    spoken = f"{prefix}{_pair(m.group(2))} {_pair(m.group(3))} dot {digits(m.group(4))}"
    return spoken + (f" version {m.group(5)}" if m.group(5) else "")


def _old_arxiv_id(m: re.Match[str]) -> str:
    archive = " ".join(
        spell(part) if len(part) <= 2 else part for part in m.group(2).split("-"))
    prefix = "archive " if m.group(1) else ""
    spoken = f"{prefix}{archive} {digits(m.group(3))}"
    return spoken + (f" version {m.group(4)}" if m.group(4) else "")


def _power(exponent: str) -> str:
    """'6' -> 'ten to the sixth', '-4' -> 'ten to the minus four' (as people say them)."""
    n = int(exponent)
    if n == 2:
        return " ten squared "
    if n == 3:
        return " ten cubed "
    if n < 0:
        return f" ten to the minus {_words(-n)} "
    return f" ten to the {num2words(n, to='ordinal')} "


def _scientific(m: re.Match[str]) -> str:
    """'1e-4' -> 'ten to the minus four'; '3.5e6' -> 'three point five times ten to the sixth'."""
    mantissa, sign, exponent = m.groups()
    power = _power(("-" if sign == "-" else "") + exponent).strip()
    return f" {power} " if mantissa in ("1", "1.0") else f" {mantissa} times {power} "


def _decade(m: re.Match[str]) -> str:
    words = num2words(int(m.group(1) + "0"), to="year")
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _unit(m: re.Match[str]) -> str:
    number, unit = m.group(1), UNITS[m.group(2)]
    if number == "1" and " " not in unit and unit.endswith("s"):
        unit = unit[:-1]
    return f"{number} {unit}"


def _dotted_version(m: re.Match[str]) -> str:
    return " point ".join(say_integer(part) for part in m.group(0).split("."))


# --- acronyms --------------------------------------------------------------------------------


def spell(letters: str) -> str:
    """'LLM' -> 'L.L.M.'; a plural is said on the last letter: 'LLMs' -> "L.L.M.'s".

    Dotted letters were heard right most often by Whisper (Piper aside: ENGINE_TWEAKS):
    "A I" is read "a eye" and "API" "a pie"; a bare "Ms" is "em ess", "M.'s" is "ems".
    """
    plural = letters.endswith("s") and not letters.isupper()
    core = letters[:-1] if plural else letters
    return "".join(f"{c}." for c in core.upper()) + ("'s" if plural else "")


def _pronounceable(word: str) -> bool:
    """Capitals read as a word (SPIN, TIDE, NASA) rather than letter by letter (TTFT)."""
    if len(word) < 4 or not re.search("[AEIOUY]", word):
        return False
    if word[0] not in "AEIOU" and word[1] not in "AEIOUY" and word[:2] not in _ONSETS:
        return False
    return not re.search("[^AEIOUY]{3}", word)


# Capitalised words with no vowel that are words (or said as one) and not acronyms.
_NOT_ACRONYMS = {"Mr", "Mrs", "Ms", "Dr", "Drs", "St", "Jr", "Sr", "Mt", "Ft", "Pt", "Lt", "Hmm",
                 "Hm", "Shh", "Psst", "Pst", "Brr", "Grr", "Tsk", "Nth", "Vs", "Pp", "Ng"}


def _recased(m: re.Match[str], spelled: bool = True) -> str:
    """'Llm' (an acronym a title recasing lowercased) is still said letter by letter."""
    token = m.group(0)
    if token in _NOT_ACRONYMS or (token[:-1] in _NOT_ACRONYMS and token.endswith("s")):
        return token
    plural = token.endswith("s") and len(token) > 2
    capitals = token[:-1].upper() + "s" if plural else token.upper()
    return spell(capitals) if spelled else capitals


def _acronym(m: re.Match[str]) -> str:
    token = m.group(0)
    if token in KNOWN_WORDS:
        return KNOWN_WORDS[token]
    core = token[:-1] if token.endswith("s") else token
    if core.isupper() and _pronounceable(core):
        return token.capitalize()
    return spell(token)


# --- the passes ------------------------------------------------------------------------------

# Author-year citations: "Smith, 2020", "Smith and Lee 2021a", "Vaswani, Shazeer, and
# Parmar, 2017", "Smith et al., 2020" (a name before the year, so "(released in 2023)" stays).
_CITE = (r"[A-Z][\w'-]*(?:[^()\[\]\d;]{0,80}?(?:et\s+al\.?|\b[A-Z][\w'-]+))?,?\s+"
         r"(?:19|20)\d{2}[a-z]?")
_CITE_LEAD = r"(?:e\.g\.|see|cf\.|see also)[,:]?\s+"

# A dropped link leaves a mark, so the word that pointed at it ("at", "see") goes too.
_DROP = _compile([
    (r"(?:https?://|ftp://|www\.)\S+?(?=[.,;:!?)\]]*(?:\s|$))", "\x01"),
    (r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", "\x01"),
    (r"\barxiv\.org\b", "archive dot org"),
    (r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|ai|edu|dev|gov|co)(?:/\S*?)?"
     r"(?=[.,;:!?)\]]*(?:\s|$))", "\x01"),
    (r"(?:\s+(?:at|via|from|on|in|and|see|here|to|under|is|are))?\s*\x01", ""),
    (r"\s*\[\d+(?:\s*[,;-]\s*\d+)*\](?:\s*[,-]\s*\[\d+\])*", ""),  # [3], [3, 5-7], [3]-[5]
    (r"</?[A-Za-z][^<>]{0,40}>", ""),
], re.I) + _compile([  # case matters in citations: a name starts with a capital
    (rf"\s*\((?:{_CITE_LEAD})?{_CITE}(?:\s*[;,]\s*{_CITE})*\)", ""),  # (Smith et al., 2020)
    (rf"\s*\[(?:{_CITE_LEAD})?{_CITE}(?:\s*[;,]\s*{_CITE})*\]", ""),  # [Smith and Lee 2021]
    (r"\s*\[[A-Z][A-Za-z+]{1,8}\d{2}[a-z]?(?:\s*[,;]\s*[A-Z][A-Za-z+]{1,8}\d{2}[a-z]?)*\]", ""),
    (r"(et al\.|\b[A-Z][\w'-]+)\s*\((?:19|20)\d{2}[a-z]?(?:\s*[,;]\s*(?:19|20)\d{2}[a-z]?)*\)",
     r"\1"),  # Smith et al. (2020) showed
])

_IDS = _compile([
    (r"\b(arxiv\s*:?\s*)?(\d{2})(0[1-9]|1[0-2])\.(\d{4,5})(?:v(\d+))?\b", _new_arxiv_id),
    (r"\b(arxiv\s*:?\s*)?([a-z]+(?:-[a-z]+)?)(?:\.[A-Z]{2})?/(\d{7})(?:v(\d+))?\b",
     _old_arxiv_id),
], re.I)

_WORDS = _compile([
    (r"\barxiv\b", "archive"),
    (r"\be\.g\.,?", "for example,"), (r"\bi\.e\.,?", "that is,"),
    (r"\bet al\.", "and colleagues"), (r"\bw\.r\.t\.", "with respect to"),
    (r"\betc\.", "et cetera"), (r"\bcf\.", "compare"), (r"\bresp\.", "respectively"),
    (r"\bapprox\.", "approximately"), (r"\bvs\.?(?=\s)", "versus"),
    (r"\bfigs?\.\s*(?=\d)", "Figure "), (r"\beqs?\.\s*(?=[\d(])", "Equation "),
    (r"\bsecs?\.\s*(?=\d)", "Section "), (r"\btab\.\s*(?=\d)", "Table "),
    (r"\bno\.\s*(?=\d)", "number "), (r"\band/or\b", "and or"),
    (r"\bw/o\b", "without"), (r"\bw/(?=\s)", "with"), (r"(?<![\w&])#(?=\d)", "number "),
], re.I) + _compile([
    (r"(?<=[a-z]{2})\.(?=[A-Z][a-z])", ". "),  # "sandboxes.To support": a lost space
])

_MATH = _compile([
    (r"\$\s?(\d[\d,]*(?:\.\d+)?)\s?(million|billion|trillion|[kKMBT])?\b",
     lambda m: f"{m.group(1)} {m.group(2) or ''} dollars"),
    (r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1 over \2"),
    (r"\\([A-Za-z]+)", lambda m: f" {LATEX.get(m.group(1), m.group(1))} "),
    (r"[${}]", " "),
    (r"\bO\(([^()]{1,40})\)", r"big O of \1"),
    (r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([+-]?)(\d{1,3})\b", _scientific),
    (r"(?<![\w.])10\s?\^\s?\(?(-?\d{1,3})\)?(?!\d)", lambda m: _power(m.group(1))),
    (r"\b([A-Za-z])\(([^()]{1,30})\)", r"\1 of \2"),  # p(x), f(x)
    (r"\^\s*\(?-\s*1\)?", " to the minus one"),
    (r"\^\s*2\b", " squared"), (r"\^\s*3\b", " cubed"),
    (r"\^\s*\(?(-?\w+)\)?", r" to the \1"),
    (r"(?<=\w)_(?=\w)", " "),
    (r"<=|≤", " less than or equal to "), (r">=|≥", " greater than or equal to "),
    (r"!=", " not equal to "), (r"==?", " equals "),
    (r"(?<=[\w)\s])<(?=[\s\w(-])", " less than "), (r"(?<=[\w)\s])>(?=[\s\w(-])", " greater than "),
    (r"(?<=\w)\s?\+\s?(?=[\w(])", " plus "), (r"\+", " plus "),
    (r"~\s?(?=\d)", "about "),
    (r"(?<=\d)\s?/\s?(?=\d)", " over "),
])

_UNITS = _compile([
    (r"\b([A-Z]{2,}s?)\s?/\s?(?=[A-Z]{2,}s?\b)", r"\1 "),  # CPU/GPU: no "per" between acronyms
    (rf"(?<=\w)\s?/\s?({_alternation(list(PER))})\b", lambda m: f" per {PER[m.group(1)]}"),
    (r"\b(1[89]\d|20\d)0s\b", _decade),
    (r"\b(\d+)(st|nd|rd|th)\b", lambda m: num2words(int(m.group(1)), to="ordinal")),
    (r"\b(\d{1,3}(?:,\d{3})+)\b", lambda m: m.group(1).replace(",", "")),
    (rf"({_NUM})\s?({_alternation(list(UNITS))})(?![\w°])", _unit),
    (rf"\b({_NUM})\s?([kKMBT])\b", lambda m: f"{m.group(1)} {MULTIPLIERS[m.group(2)]}"),
    (rf"\b({_NUM})\s?[x×](?!\w)", r"\1 times"),
    (r"\bv(\d+(?:\.\d+)*)\b", r"version \1"),
    (r"(?<![\w.])-\s?(?=\.?\d)", "minus "),
    (rf"({_NUM})\s?-\s?(?={_NUM})", r"\1 to "),
    (r"(?<=[A-Za-z])-(?=\d)|(?<=\d)-(?=[A-Za-z])", " "),
    (r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " "),
])

_NUMBERS = _compile([
    (r"\b\d+(?:\.\d+){2,}\b", _dotted_version),
    (r"(?<![\d.])\d*\.\d+|\d+", lambda m: say_number(m.group(0))),
])

_ACRONYMS = _compile([
    (rf"\b(?:{_alternation(list(KNOWN_WORDS))})(?![\w])", lambda m: KNOWN_WORDS[m.group(0)]),
    (r"\b[B-DF-HJ-NP-TV-XZ][b-df-hj-np-tv-xz]{1,4}s?\b", _recased),
    (r"\b[a-z][A-Z]{2,}s?\b", lambda m: spell(m.group(0))),
    (r"(?<=[a-z])(?=[A-Z])", " "),
    (r"\b[A-Z]{2,}s?\b", _acronym),
])

# Engines whose own front end spells acronyms and reads brand names as written (misaki's
# lexicon and rules: Kokoro with misaki, and hibari, a port of them): "LLM", "GPT-4",
# "TabLib", "SPIN" go to them unchanged (Whisper WER on Kokoro jf_alpha: 0.080 vs 0.102
# with dotted letters on bench_tts --dialogue, 0.064 vs 0.070 on abstract sentences; one
# run each). Only the words they get wrong are rewritten, and an acronym that lost its
# capitals ("Llm" from a recased title) gets them back.
SPELLS_ACRONYMS = {"hibari", "kokoro"}
_ACRONYMS_AS_WRITTEN = _compile([
    (rf"\b(?:{_alternation(list(KNOWN_WORDS))})(?![\w])", lambda m: KNOWN_WORDS[m.group(0)]),
    (r"\b[B-DF-HJ-NP-TV-XZ][b-df-hj-np-tv-xz]{1,4}s?\b", lambda m: _recased(m, spelled=False)),
])

_FINISH = _compile([
    (r"/", " "), (r"[|*#^\\_~]", " "),
    # An aside in brackets is said as one, between commas: engines read "(" oddly or not at all.
    (r"[(\[]\s*[)\]]", " "), (r"[(\[]", ", "), (r"[)\]]", ", "),
    (r"[^A-Za-z0-9 .,;:!?'\"\-]", " "),
    (r"\s+", " "),
    (r"\s+([.,;:!?])", r"\1"),
    (r"([,;:])(?:\s*[,;:])+", r"\1"), (r"([.!?])\s*[,;:]", r"\1"), (r",\s*([.!?])", r"\1"),
    (r"^[\s.,;:!?]+", ""), (r"[\s,;:]+$", ""),
])

def _hyphenated(m: re.Match[str]) -> str:
    letters = m.group(1).replace(".", "")
    return "AI" if letters == "AI" else "-".join(letters)


# Per-engine rewrites, applied last (measured with Whisper, see scripts/bench_tts.py).
# Dotted letters suit flite, espeak and Kokoro, but Piper's espeak front end takes
# "L.L.M. Serving" for a sentence end and reads "A.I." as "a dot eye"; it says
# "L-L-M" and a bare "AI" right.
ENGINE_TWEAKS: dict[str, list[Rule]] = {
    "piper": _compile([(r"\b((?:[A-Z]\.){2,})(?!\w)", _hyphenated)]),
}


def _unicode(text: str) -> str:
    for char, spoken in _CHARS.items():
        text = text.replace(char, spoken)
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)  # words hyphenated across PDF lines
    text = re.sub(r"(?<=\d)\s?[–—]\s?(?=\d)", "-", text)  # 3–5 is a range
    text = re.sub(r"(?<=\d)\s?[µμ]([sm])\b",
                  lambda m: " microseconds" if m.group(1) == "s" else " micrometers", text)
    for char, name in GREEK.items():
        text = text.replace(char, f" {name} ")
    return text


def _symbols(text: str) -> str:
    for char, spoken in SYMBOLS.items():
        text = text.replace(char, f" {spoken} ")
    return text


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str, engine: str = "") -> str:
    """Spoken English for `text`; `engine` ("flite", "espeak", ...) adds its own tweaks."""
    text = _unicode(text)
    for rules in (_DROP, _IDS, _WORDS, _MATH, _UNITS):
        text = _apply(text, rules)
    text = _symbols(_ascii(text))
    acronyms = _ACRONYMS_AS_WRITTEN if engine in SPELLS_ACRONYMS else _ACRONYMS
    for rules in (_NUMBERS, acronyms, _FINISH):
        text = _apply(text, rules)
    text = _apply(text, ENGINE_TWEAKS.get(engine, []))
    return re.sub(r"(?<=\b[A-Z]\.)\.", "", text).strip()  # "the A.P.I.." ends a sentence
