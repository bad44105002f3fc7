"""The health questions a campaign asks before a slot is booked, and the judgement of the answers.

The questions are part of the campaign file (``[[questions]]``, parsed and checked by
``campaigns.definition``): each has an id, a text in every campaign language and answers (yes / no by
default); an answer listed in the question's ``doctor`` sends the person to their doctor instead of a
slot. They are asked at every dose. The answers a booking was made with are stored on it as given
(``{question id: answer id}``), so the physician can read them.

For the pages and the API: :func:`campaign_questions` then :func:`questions_in` to show them in a
language, :func:`judge_answers` to check what was answered (it raises the refusal to show), and
:func:`checked_answers`, the one call the booking transaction makes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, select

from courrier.campaigns.definition import Question, parse_definition
from courrier.db.schema import campaigns
from courrier.errors import ConflictError, NotFoundError

FALLBACK_LANGUAGE = "fr"


@lru_cache(maxsize=64)
def _questions_of(definition_text: str) -> tuple[Question, ...]:
    # The stored campaign file was checked when the campaign was created: parse it once per text.
    return parse_definition(definition_text).questions


# A campaign's file is never changed once the campaign is created (``campaigns.definition`` is written
# only by ``campaign create``), so its questions are read once per database engine: this saves the
# booking transaction a query (about half a millisecond).
_KNOWN: WeakKeyDictionary[Engine, dict[int, tuple[Question, ...]]] = WeakKeyDictionary()


def campaign_questions(connection: Connection, campaign_id: int) -> tuple[Question, ...]:
    """The campaign's health questions in the order of its file (empty when it asks none)."""
    known = _KNOWN.setdefault(connection.engine, {})
    found = known.get(campaign_id)
    if found is not None:
        return found
    text = connection.execute(
        select(campaigns.c.definition).where(campaigns.c.id == campaign_id)
    ).scalar_one_or_none()
    if text is None:
        raise NotFoundError(f"no campaign {campaign_id}", code="unknown_campaign")
    found = known[campaign_id] = _questions_of(text)
    return found


def _in(texts: Mapping[str, str], language: str) -> str:
    return texts.get(language) or texts.get(FALLBACK_LANGUAGE) or next(iter(texts.values()))


def questions_in(questions: Sequence[Question], language: str) -> list[dict[str, Any]]:
    """The questions as a person reads them, in ``language`` (French, then any, when the campaign does
    not write in it): ``[{"id", "text", "answers": [{"id", "text"}]}]``. Which answers send to the
    doctor is not shown: the refusal says so once the person has answered."""
    return [
        {
            "id": question.id,
            "text": _in(question.text, language),
            "answers": [{"id": answer.id, "text": _in(answer.text, language)} for answer in question.answers],
        }
        for question in questions
    ]


def judge_answers(questions: Sequence[Question], answers: Mapping[str, object]) -> dict[str, str]:
    """The answers to keep (``{question id: answer id}``, in the questions' order) when they allow a
    booking. Refusals, each with the ``question`` it is about: ``unknown_answer`` (an answer to no
    question, or not one of the question's answers), ``answer_missing`` (a question left unanswered),
    ``see_your_doctor`` (an answer that sends the person to their doctor; the first such question)."""
    known = {question.id for question in questions}
    for question_id in answers:
        if question_id not in known:
            raise ConflictError(
                f"there is no question {str(question_id)[:40]!r}",
                code="unknown_answer",
                question=str(question_id)[:40],
            )
    kept: dict[str, str] = {}
    doctor: str | None = None
    for question in questions:
        given = answers.get(question.id)
        if given is None or given == "":
            raise ConflictError(
                f"question {question.id!r} is not answered", code="answer_missing", question=question.id
            )
        chosen = next((answer for answer in question.answers if answer.id == given), None)
        if chosen is None:
            raise ConflictError(
                f"{str(given)[:40]!r} is not an answer to question {question.id!r}",
                code="unknown_answer",
                question=question.id,
            )
        if chosen.doctor and doctor is None:
            doctor = question.id
        kept[question.id] = chosen.id
    if doctor is not None:
        raise ConflictError(
            f"the answer to {doctor!r} sends the person to their doctor: no slot is booked",
            code="see_your_doctor",
            question=doctor,
        )
    return kept


def checked_answers(
    connection: Connection, campaign_id: int, answers: Mapping[str, object] | None
) -> dict[str, str]:
    """The booking transaction's check: the answers to store, or the refusal of :func:`judge_answers`."""
    return judge_answers(campaign_questions(connection, campaign_id), answers or {})
