"""The answers feedback refers to: what feedback keeps of each answer given, by `answer_id`, until it expires.

Only the fields feedback stores are kept (text, language, mode, generator, abstention, the citations' numbers,
documents and chunk ids): no question, no passage text. Expired answers are not returned, and are deleted by
the next write at most once a minute (`purge_expired`, which an operator's job may also call).
"""

from __future__ import annotations

import time

from sqlalchemy import select

from .expiring import Expiring
from .feedback import cited
from .tables import answers

KEPT_FIELDS = ("answer", "language", "mode", "generator", "abstained")


class Answers(Expiring):
    table = answers

    def add(self, answer_id: str, answer: dict, ttl_s: float) -> None:
        """Keep what feedback needs of `answer` (the answer JSON) under `answer_id` for `ttl_s` seconds."""
        kept = {key: answer.get(key) for key in KEPT_FIELDS}
        kept["citations"] = cited(answer)
        kept["answer_id"] = answer_id
        now = time.time()
        self._ready()
        with self.db.writing() as conn:
            conn.execute(answers.insert().values(id=answer_id, created=now, expires=now + ttl_s, answer=kept))
        self._purge_now_and_then(now)

    def get(self, answer_id: str) -> dict | None:
        """The kept answer, or None when it is unknown or expired."""
        self._ready()
        with self.db.reading() as conn:
            return conn.execute(select(answers.c.answer).where(answers.c.id == answer_id,
                                                               answers.c.expires > time.time())).scalar()
