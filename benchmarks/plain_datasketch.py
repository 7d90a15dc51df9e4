"""The baseline: the same job done the way a newcomer would, with datasketch and the SQLAlchemy ORM.

NFKC and character 5-grams, a `MinHash.update` loop per shingle with 128 permutations, an
in-memory `MinHashLSH` at threshold 0.5, every article written with the ORM and committed every
1,000. Prints one JSON line: articles, duplicates found, seconds, articles/s.

    python benchmarks/plain_datasketch.py CORPUS.jsonl[.zst] sqlite:///plain.db
"""

from __future__ import annotations

import io
import json
import sys
import time
import unicodedata

from datasketch import MinHash, MinHashLSH
from sqlalchemy import Column, Integer, LargeBinary, String, Text, create_engine
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Doc(Base):
    __tablename__ = "docs"
    id = Column(Integer, primary_key=True)
    url = Column(String, unique=True)
    title = Column(Text)
    text = Column(Text)
    minhash = Column(LargeBinary)
    duplicate_of = Column(String)


def shingles(text: str, n: int = 5) -> set[str]:
    text = unicodedata.normalize("NFKC", text)
    return {text[i:i + n] for i in range(max(1, len(text) - n + 1))}


def records(path: str):
    if path.endswith(".zst"):
        import zstandard

        stream = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")), encoding="utf-8")
    else:
        stream = open(path, encoding="utf-8")
    with stream:
        for line in stream:
            yield json.loads(line)


def main(corpus: str, url: str) -> dict:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    start = time.perf_counter()
    n = duplicates = 0
    with Session(engine) as session:
        for record in records(corpus):
            m = MinHash(num_perm=128)
            for s in shingles(record.get("text") or ""):
                m.update(s.encode("utf-8"))
            found = lsh.query(m)
            if found:
                duplicates += 1
            lsh.insert(record["url"], m)
            session.add(Doc(url=record["url"], title=record.get("title"), text=record.get("text"),
                            minhash=m.hashvalues.tobytes(), duplicate_of=found[0] if found else None))
            n += 1
            if n % 1000 == 0:
                session.commit()
        session.commit()
    seconds = time.perf_counter() - start
    return {"articles": n, "duplicates": duplicates, "seconds": round(seconds, 2), "rate": round(n / seconds, 1)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
