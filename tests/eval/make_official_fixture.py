#!/usr/bin/env python3
"""Writes tests/fixtures/eval/hotpot_official.json from the official HotpotQA evaluation script.

usage: make_official_fixture.py PATH/TO/hotpot_evaluate_v1.py [OUT.json]

The official functions (normalize_answer, exact_match_score, f1_score) are imported from the given
file and applied to prediction/gold pairs that stress punctuation, articles, Unicode, whitespace and
the yes/no/noanswer F1 rule. Accuracy (normalised gold is a substring of the normalised prediction)
and IRCoT's answer extraction (`.* answer is:? (.*)\\.?`, trailing period removed) are computed here
with Python's own `re` on top of the official normalize_answer. Python's str.lower() and the `\\b`/`\\w`
classes of `re` are Unicode-aware, so the file also records every code point whose lower() differs
from itself and the ranges of code points `re` treats as word characters.
"""
import importlib.util
import json
import os
import re
import sys
import types
import unicodedata

if len(sys.argv) < 2:
    sys.exit(__doc__)
script = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "eval", "hotpot_official.json")

# The script imports ujson only for its file reading; the functions used here do not need it.
if "ujson" not in sys.modules:
    try:
        import ujson  # noqa: F401
    except ImportError:
        sys.modules["ujson"] = types.ModuleType("ujson")
spec = importlib.util.spec_from_file_location("hotpot_evaluate_v1", script)
official = importlib.util.module_from_spec(spec)
spec.loader.exec_module(official)

# ---- pairs: (prediction, gold)
pairs = [
    # plain and case
    ("Hee Haw", "Hee Haw"), ("hee haw", "Hee Haw"), ("HEE HAW", "hee haw"), ("Hee", "Hee Haw"),
    ("Hee Haw show", "Hee Haw"), ("Roy Clark", "Hee Haw"), ("", "Hee Haw"), ("Hee Haw", ""), ("", ""),
    ("Hee Haw Hee Haw", "Hee Haw"), ("haw hee", "hee haw"), ("a b c d", "a b"), ("1 2 3", "3 2 1"),
    # articles
    ("the Beatles", "Beatles"), ("The Beatles", "beatles"), ("an apple", "apple"), ("A apple", "apple"),
    ("the", ""), ("a", "an"), ("the the the", ""), ("theatre", "atre"), ("Theatre", "theatre"),
    ("another", "other"), ("an an", ""), ("anA", "ana"), ("the-beatles", "beatles"), ("the_beatles", "beatles"),
    ("them", "m"), ("there", "re"), ("A.B.", "ab"), ("a.b.", "b"), ("the1", "1"), ("1the", "1"),
    ("the 1", "1"), ("The Who", "Who"), ("The The", "the"), ("A Tribe Called Quest", "Tribe Called Quest"),
    ("An American in Paris", "American in Paris"), ("tHe", ""), ("THE", ""), ("AN", ""),
    ("thé", "th"), ("théa", "thé"), ("the\u00e9", "the"), ("the\u0301", ""), ("a\u0301", "\u0301"),
    ("l'the", "lthe"), ("the's", "s"), ("the’s", "’s"), ("the—end", "end"), ("the\u2014end", "— end"),
    ("the…", "…"), ("«the»", "«»"), ("the²", "²"), ("the٣", "٣"), ("the\u00aa", "ª"),
    # punctuation (ASCII only is removed)
    ("Hee-Haw", "Hee Haw"), ("HeeHaw", "Hee Haw"), ("Hee, Haw!", "Hee Haw"), ("\"Hee Haw\"", "Hee Haw"),
    ("'Hee Haw'", "Hee Haw"), ("(Hee Haw)", "Hee Haw"), ("[Hee] {Haw}", "Hee Haw"), ("Hee_Haw", "HeeHaw"),
    ("U.S.", "US"), ("U.S.A.", "usa"), ("$1,000", "1000"), ("1,000", "1 000"), ("3.14", "314"),
    ("50%", "50"), ("#1", "1"), ("@home", "home"), ("C++", "C"), ("C#", "c"), ("AT&T", "ATT"),
    ("a/b", "ab"), ("a\\b", "ab"), ("x^2", "x2"), ("~tilde~", "tilde"), ("`tick`", "tick"), ("<tag>", "tag"),
    ("a|b", "ab"), ("k=v", "kv"), ("q?", "q"), ("semi;colon:", "semicolon"), ("!!!", ""), ("...", ""),
    ("-", ""), ("- -", ""), ("'", ""), ("“Hee Haw”", "Hee Haw"), ("‘Hee’", "Hee"), ("Hee’s", "Hees"),
    ("Hee's", "Hees"), ("Hee–Haw", "Hee Haw"), ("Hee—Haw", "HeeHaw"), ("¿Qué?", "qué"), ("¡Hola!", "hola"),
    ("«Hola»", "hola"), ("Hee·Haw", "Hee Haw"), ("50 €", "50"), ("£5", "5"), ("§3", "3"), ("©2001", "2001"),
    ("Jr.", "Jr"), ("St. Louis", "St Louis"), ("Saint-Louis", "saintlouis"),
    # whitespace
    ("  Hee   Haw  ", "Hee Haw"), ("Hee\tHaw", "Hee Haw"), ("Hee\nHaw", "Hee Haw"), ("Hee\r\nHaw", "hee haw"),
    ("Hee\u00a0Haw", "Hee Haw"), ("Hee\u2003Haw", "Hee Haw"), ("Hee\u3000Haw", "Hee Haw"), ("Hee\u200bHaw", "Hee Haw"),
    ("Hee\u200bHaw", "HeeHaw"), ("Hee\x1cHaw", "Hee Haw"), ("Hee\x1fHaw", "Hee Haw"), ("Hee\x0bHaw", "Hee Haw"),
    ("Hee\x0cHaw", "Hee Haw"), ("Hee\x85Haw", "Hee Haw"), ("Hee\u2028Haw", "Hee Haw"), ("Hee\u202fHaw", "Hee Haw"),
    ("Hee\u205fHaw", "Hee Haw"), ("Hee\u1680Haw", "Hee Haw"), ("Hee\u180eHaw", "Hee Haw"), ("Hee\ufeffHaw", "Hee Haw"),
    ("\t\n ", ""), (" the ", ""), ("\u00a0the\u00a0", ""), ("the\u00a0Beatles", "beatles"), ("a\u2009b", "b"),
    # yes / no / noanswer
    ("yes", "yes"), ("Yes", "yes"), ("yes.", "Yes"), ("no", "no"), ("No", "yes"), ("yes", "no"),
    ("yes", "yes it is"), ("yes it is", "yes"), ("no way", "no"), ("no", "no way"), ("noanswer", "noanswer"),
    ("noanswer", "no answer"), ("no answer", "noanswer"), ("No-answer", "noanswer"), ("the yes", "yes"),
    ("yes!", "YES"), ("yes yes", "yes"), ("Yes, it is", "yes"), ("Nope", "no"), ("no", ""), ("", "no"),
    ("yes", ""), ("a yes", "yes"), ("Yes.", "no."), ("NO", "no"), ("y e s", "yes"), ("nó", "no"),
    # token F1 details
    ("the cat sat on the mat", "the cat sat"), ("cat cat cat", "cat"), ("cat", "cat cat cat"),
    ("cat dog", "dog cat"), ("New York City", "New York"), ("New York", "New York City"),
    ("Paris, France", "Paris"), ("Paris", "Paris, France"), ("George W. Bush", "George Bush"),
    ("1999", "1999 film"), ("March 3, 1999", "3 March 1999"), ("2 March", "March 2nd"),
    ("Alexander the Great", "Alexander Great"), ("Hee Haw and Roy Clark", "Roy Clark"),
    ("x y z w v", "v"), ("x y z w v", "q"),
    # Unicode letters and case
    ("Zürich", "zürich"), ("ZÜRICH", "zürich"), ("Zurich", "Zürich"), ("Ærø", "ærø"), ("ÆRØ", "ærø"),
    ("Straße", "STRASSE"), ("STRASSE", "strasse"), ("ẞ", "ß"), ("İstanbul", "istanbul"), ("İstanbul", "i\u0307stanbul"),
    ("ISTANBUL", "istanbul"), ("ıstanbul", "istanbul"), ("ΣΊΣΥΦΟΣ", "σίσυφος"), ("ΣΊΣΥΦΟΣ", "σίσυφοσ"),
    ("ΟΔΟΣ", "οδος"), ("ΟΔΟΣ", "οδοσ"), ("Σ", "σ"), ("ΑΣ Β", "ας β"), ("ΑΣ'Β", "ασβ"), ("ΑΣ.", "ας"),
    ("ΑΣ\u0301", "ας\u0301"), ("Α\u0301Σ", "α\u0301ς"), ("ΑΣΑ", "ασα"), ("ΑΣ1", "ας1"), ("Σ Α", "σ α"),
    ("ǅemal", "ǆemal"), ("ǄEMAL", "ǆemal"), ("Ǉubljana", "ǉubljana"), ("ＡＢＣ", "ａｂｃ"), ("Ⅻ", "ⅻ"),
    ("Ⓐ", "ⓐ"), ("𐐀", "𐐨"), ("Ꭰ", "ꭰ"), ("ꭰ", "Ꭰ"), ("Ω", "ω"), ("K", "k"), ("Å", "å"),
    ("Москва", "МОСКВА"), ("Київ", "київ"), ("Tbilisi თბილისი", "tbilisi თბილისი"), ("Ⴀ", "ⴀ"),
    ("東京", "東京"), ("東京都", "東京"), ("北京 大学", "北京"), ("ソニー", "ソニー"), ("서울", "서울"),
    ("القاهرة", "القاهرة"), ("תל אביב", "תל-אביב"), ("मुंबई", "मुंबई"), ("Việt Nam", "viet nam"),
    ("Việt Nam", "việt nam"), ("e\u0301", "é"), ("é", "é"), ("Ã", "ã"), ("Ǻ", "ǻ"),
    ("café", "Café"), ("CAFÉ", "café"), ("naïve", "naive"), ("Ḡ", "ḡ"), ("Ő", "ő"),
    ("😀 smile", "smile"), ("smile 😀", "😀"), ("🇫🇷 France", "france"), ("x\u200dy", "xy"),
    ("℃", "℃"), ("Å", "å"), ("ﬁne", "fine"), ("ﬀ", "ff"), ("ŉ", "ŉ"), ("Ϊ", "ϊ"),
    ("ⅰ", "Ⅰ"), ("ⓗⓔⓔ", "ⒽⒺⒺ"), ("Ա", "ա"), ("Ꙁ", "ꙁ"), ("Ᲊ", "ᲊ"), ("ᲀ", "в"),
    ("𞤀", "𞤢"), ("𖹀", "𖹠"), ("Ɐ", "ɐ"), ("Ᵹ", "ᵹ"), ("Ꞵ", "ꞵ"), ("Ꟑ", "ꟑ"),
    ("the\u2163", "Ⅳ"), ("the\u00bd", "½"), ("the\u3007", "〇"), ("the\u0660", "٠"), ("the\u2460", "①"),
    ("the\u02b0", "ʰ"), ("the\u1100", "ᄀ"), ("the\u0903", "ः"), ("the\u20e3", "⃣"), ("the\u0345", "ͅ"),
    ("the\u00b2\u00b3", "²³"), ("the\U0001d7ce", "𝟎"), ("a\u0000b", "b"), ("the\u00ad", "\u00ad"),
    ("\u00adthe", "\u00ad"), ("the\u2019", "’"), ("the\u0009", ""),
    # long strings and repeated tokens
    ("the quick brown fox jumps over the lazy dog", "quick brown fox"),
    ("A man, a plan, a canal: Panama", "man plan canal panama"),
    ("The Lord of the Rings: The Return of the King", "Lord of Rings Return of King"),
    ("Harry Potter and the Philosopher's Stone", "Harry Potter and the Sorcerer's Stone"),
    ("President of the United States", "president united states"),
    ("10 million", "10,000,000"), ("ten", "10"), ("twenty-one", "twentyone"), ("21st", "21"),
]

extract_cases = [
    "So the answer is: Hee Haw.", "So the answer is Hee Haw.", "So the answer is: Hee Haw", "So the answer is: yes.",
    "Thus, the answer is: 1999.", "The answer is: Paris.", "answer is: Paris.", "The answer is:Paris.",
    "So the answer is: U.S.", "So the answer is: U.S..", "So the answer is: Hee Haw..", "So the answer is: .",
    "So the answer is: ", "So the answer is:", "So the answer is:  two spaces.", "Roy Clark hosted Hee Haw.",
    "So the answer is: A. Then the answer is: B.", "So the Answer is: X.", "So the answer is: X!",
    "So the answer is: X.\nmore text", "first line\nSo the answer is: X.", "So the answer is: Zürich.",
    "So the answer is: the answer is: X.", "Answer is: X.", " answer is: X.", "So theanswer is: X.",
    "So the answer isn't: X.", "So the answer is: \"Hee Haw\".", "So the answer is - X.", "so the answer is: x.",
]

# ---- Accuracy (normalised gold is a substring of the normalised prediction) and IRCoT extraction
def accuracy(prediction, gold):
    return float(official.normalize_answer(gold) in official.normalize_answer(prediction))

ANSWER = re.compile(".* answer is:? (.*)\\.?")

def extract(sentence):
    m = ANSWER.match(sentence)
    if not m:
        return None
    out = m.group(1)
    if out.endswith("."):
        out = out[:-1]
    return out

records = []
for pred, gold in pairs:
    f1 = official.f1_score(pred, gold)[0]
    records.append({
        "prediction": pred, "gold": gold,
        "normalized_prediction": official.normalize_answer(pred),
        "normalized_gold": official.normalize_answer(gold),
        "em": float(official.exact_match_score(pred, gold)), "f1": float(f1), "acc": accuracy(pred, gold),
    })

extracts = [{"sentence": s, "matches": extract(s) is not None, "answer": extract(s) or ""} for s in extract_cases]

# ---- Unicode tables of this Python
lower_map = []
word_ranges = []
unassigned_ranges = []
word_re = re.compile(r"\w")
start_word = start_cn = None
for cp in range(0x110000):
    ch = chr(cp)
    if 0xD800 <= cp <= 0xDFFF:
        is_word, is_cn = False, True
    else:
        low = ch.lower()
        if low != ch:
            lower_map.append([cp, low])
        is_word = word_re.match(ch) is not None
        is_cn = unicodedata.category(ch) == "Cn"
    if is_word and start_word is None:
        start_word = cp
    if not is_word and start_word is not None:
        word_ranges.append([start_word, cp - 1]); start_word = None
    if is_cn and start_cn is None:
        start_cn = cp
    if not is_cn and start_cn is not None:
        unassigned_ranges.append([start_cn, cp - 1]); start_cn = None
if start_word is not None:
    word_ranges.append([start_word, 0x10FFFF])
if start_cn is not None:
    unassigned_ranges.append([start_cn, 0x10FFFF])

doc = {
    "source": "hotpotqa/hotpot hotpot_evaluate_v1.py (normalize_answer, exact_match_score, f1_score)",
    "python": sys.version.split()[0],
    "unicode": unicodedata.unidata_version,
    "pairs": records,
    "extract": extracts,
    "lower_map": lower_map,
    "word_ranges": word_ranges,
    "unassigned_ranges": unassigned_ranges,
}
with open(out, "w", encoding="utf-8") as f:
    json.dump(doc, f, ensure_ascii=True, indent=0)
    f.write("\n")
print(f"{out}: {len(records)} pairs, {len(extracts)} extraction cases, {len(lower_map)} lowercase mappings, "
      f"{len(word_ranges)} word ranges (Python {doc['python']}, Unicode {doc['unicode']})")
