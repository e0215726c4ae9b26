"""Course passages and how they are ranked against a question.

The same ranking serves the offline provider and the choice of passages that go into a
prompt. Ranking is BM25 (the `rank-bm25` library); an index is built once per distinct set
of passages and reused for every question asked against it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np
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
    # Every question re-reads the unit; splitting a megabyte of material costs ~50 ms.
    return list(_split_cached(source_id, source_name, text, max_words))


@functools.lru_cache(maxsize=32)
def _split_cached(
    source_id: str, source_name: str, text: str, max_words: int
) -> tuple[Passage, ...]:
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
    return tuple(passages)


class PassageIndex:
    """A BM25 index over a fixed list of passages."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = tuple(passages)
        tokenized = [words(passage.text + " " + passage.source_name) for passage in self.passages]
        self._vocabularies = [frozenset(tokens) for tokens in tokenized]
        self._bm25 = BM25Okapi(tokenized) if any(tokenized) else None
        if self._bm25 is not None:
            self._postings = _postings(self._bm25)
            bm25 = self._bm25
            self._length_norm = bm25.k1 * (
                1 - bm25.b + bm25.b * np.array(bm25.doc_len) / bm25.avgdl
            )

    def _scores(self, terms: Sequence[str]) -> np.ndarray:
        """`BM25Okapi.get_scores(terms)`, the same numbers, touching only the passages that
        hold each term (the library walks every passage for every term)."""
        assert self._bm25 is not None
        k1, idf = self._bm25.k1, self._bm25.idf
        scores = np.zeros(len(self.passages))
        for term in terms:
            posting = self._postings.get(term)
            if posting is None:
                continue
            where, frequency = posting
            scores[where] += (idf.get(term) or 0) * (
                frequency * (k1 + 1) / (frequency + self._length_norm[where])
            )
        return scores

    def rank(self, query: str, limit: int | None = None) -> list[tuple[Passage, float]]:
        """Passages that share words with `query`, best first, with their scores."""
        terms = words(query)
        if self._bm25 is None or not terms:
            return []
        scores = self._scores(terms)
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


def _postings(bm25: BM25Okapi) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each word, the passages that hold it and how often."""
    where: dict[str, list[int]] = {}
    frequency: dict[str, list[int]] = {}
    for number, counts in enumerate(bm25.doc_freqs):
        for word, count in counts.items():
            where.setdefault(word, []).append(number)
            frequency.setdefault(word, []).append(count)
    return {word: (np.array(where[word]), np.array(frequency[word])) for word in where}


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
