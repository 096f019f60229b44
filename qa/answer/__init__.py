"""The answer stage: a question and its retrieved passages -> a cited answer, or "not in the sources".

`answer_question` (qa/answer/pipeline.py) is the stage's one entry: it chooses evidence sentences without a
model, runs the checks that decide whether the documents answer, composes the answer (extractive, translated
or generated) and verifies it.
"""

from .pipeline import answer_question

__all__ = ["answer_question"]
