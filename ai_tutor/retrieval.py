"""Course passages and how they are ranked against a question.

The same ranking serves the offline provider and the choice of passages that go into a
prompt. Ranking is BM25 (the `rank-bm25` library); an index is built once per distinct set
of passages and reused for every question asked against it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from rank_bm25 import BM25Okapi

PASSAGE_WORDS = 120

_WORD = re.compile(r"\w+", re.UNICODE)

# Words too common to tell passages apart; kept short and English-only on purpose: BM25's
# inverse document frequency already discounts what is common in a given course.
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it of on or the this to what "
    "when where which who why with you your".split()
)


@dataclasses.dataclass(frozen=True)
class Passage:
    """A piece of course text and the component it came from."""

    source_id: str
    source_name: str
    text: str


def words(text: str) -> list[str]:
    """Lower-cased word tokens of `text`, stop words left out."""
    return [word for word in _WORD.findall(text.lower()) if word not in _STOPWORDS]


def split_passages(
    source_id: str, source_name: str, text: str, max_words: int = PASSAGE_WORDS
) -> list[Passage]:
    """Split a component's text into passages of about `max_words` words.

    Paragraphs are kept whole where they fit; a long paragraph is cut at sentence ends.
    """
    passages: list[Passage] = []
    current: list[str] = []
    count = 0

    def flush() -> None:
        nonlocal current, count
        if current:
            passages.append(Passage(source_id, source_name, " ".join(current).strip()))
        current, count = [], 0

    for paragraph in re.split(r"\n\s*\n|\n", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            size = len(sentence.split())
            if count and count + size > max_words:
                flush()
            current.append(sentence)
            count += size
        if count >= max_words // 2:
            flush()
    flush()
    return passages


class PassageIndex:
    """A BM25 index over a fixed list of passages."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = tuple(passages)
        tokenized = [words(passage.text + " " + passage.source_name) for passage in self.passages]
        self._vocabularies = [frozenset(tokens) for tokens in tokenized]
        self._bm25 = BM25Okapi(tokenized) if any(tokenized) else None

    def rank(self, query: str, limit: int | None = None) -> list[tuple[Passage, float]]:
        """Passages that share words with `query`, best first, with their scores."""
        terms = words(query)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        query_terms = set(terms)
        ranked = [
            (passage, float(score))
            for passage, score, vocabulary in zip(
                self.passages, scores, self._vocabularies, strict=True
            )
            if query_terms & vocabulary
        ]
        ranked.sort(key=lambda pair: pair[1], reverse=True)
        return ranked[:limit] if limit is not None else ranked


def fingerprint(passages: Iterable[Passage]) -> str:
    digest = hashlib.sha256()
    for passage in passages:
        for part in (passage.source_id, passage.source_name, passage.text):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
    return digest.hexdigest()


_INDEX_CACHE_SIZE = 256
_indexes: OrderedDict[str, PassageIndex] = OrderedDict()
_indexes_lock = threading.Lock()


def index_for(passages: Sequence[Passage]) -> PassageIndex:
    """The index for these passages, built once per process and content version."""
    key = fingerprint(passages)
    with _indexes_lock:
        index = _indexes.get(key)
        if index is not None:
            _indexes.move_to_end(key)
            return index
    index = PassageIndex(passages)
    with _indexes_lock:
        _indexes[key] = index
        while len(_indexes) > _INDEX_CACHE_SIZE:
            _indexes.popitem(last=False)
    return index
