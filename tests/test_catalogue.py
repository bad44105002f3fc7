"""The error catalogue lists every code the library raises, once, with a message in every language."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import string
from pathlib import Path

import pytest

import courrier
import courrier.production.profiles
from courrier import catalogue, errors
from courrier.catalogue import CATALOGUE, http_status, message
from courrier.errors import ConflictError, CourrierError
from courrier.languages import LANGUAGES
from courrier.ledger.codes import REFUSALS
from courrier.ledger.pieces import REISSUE_REFUSALS
from courrier.web.pages.reception import OFFLINE_ONLY_REASONS

SOURCE = Path(courrier.__file__).parent
# ``code=`` arguments that are not a literal: passing on another error's code, and the ledger's tables
# of refusals (whose values are checked below).
PASSED_ON = {"code", "error.code", "REFUSALS[status]", "REFUSALS.get(status, CodeError.code)"}
PASSED_ON |= {"REISSUE_REFUSALS[old.state]"}
# ``require_valid_template`` passes on the code of the first problem ``template check`` finds.
PASSED_ON |= {"first.code"}


def _raised() -> dict[str, set[str]]:
    """{code: names of the error classes raising it} from the source, class defaults included."""
    found: dict[str, set[str]] = {}
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name == "Problem" and node.args and isinstance(node.args[0], ast.Constant):
                    # A problem `template check` reports is raised as a TemplateError by campaign create.
                    found.setdefault(node.args[0].value, set()).add("TemplateError")
                for keyword in node.keywords:
                    if keyword.arg != "code" or not (name.endswith("Error") or name == "__init__"):
                        continue
                    if isinstance(keyword.value, ast.Constant):
                        # A subclass's super().__init__(code=...): its class is checked below.
                        classes = found.setdefault(keyword.value.value, set())
                        if name != "__init__":
                            classes.add(name)
                    else:
                        expression = ast.unparse(keyword.value)
                        passed_on = expression in PASSED_ON or expression.endswith(".code")
                        assert passed_on, f"{path}: code={expression} is built, not listed"
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, CourrierError):
            found.setdefault(cls.code, set()).add(cls.__name__)
    for code in [*REFUSALS.values(), *REISSUE_REFUSALS.values()]:
        found.setdefault(code, set())
    # The offline desk's own refusals are given by its JavaScript, which must name them.
    offline_js = (SOURCE / "web" / "static" / "reception" / "offline.js").read_text(encoding="utf-8")
    for code in OFFLINE_ONLY_REASONS:
        assert f'"{code}"' in offline_js, code
        found.setdefault(code, set())
    return found


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_subclasses(sub) for sub in found))


def _class_names(entry: catalogue.Entry) -> set[str]:
    # Error classes defined in the stages (a printer profile's ProfileError, say) subclass the tree's.
    for module in pkgutil.walk_packages(courrier.__path__, "courrier."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return {cls.__name__ for base in (entry.error, *entry.also) for cls in {base, *_subclasses(base)}}


def test_every_raised_code_is_in_the_catalogue_with_its_class():
    raised = _raised()
    missing = sorted(set(raised) - set(CATALOGUE))
    assert missing == []
    wrong = {code: sorted(names - _class_names(CATALOGUE[code])) for code, names in raised.items()}
    assert {code: names for code, names in wrong.items() if names} == {}


def test_each_code_is_listed_once():
    assert len(catalogue._ENTRIES) == len(CATALOGUE)


def test_the_catalogue_lists_no_code_that_is_never_raised():
    assert sorted(set(CATALOGUE) - set(_raised())) == []


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_code_has_a_message_in_every_language_using_only_its_facts(code):
    entry = CATALOGUE[code]
    assert set(entry.messages) == set(LANGUAGES)
    for language, template in entry.messages.items():
        assert template.strip(), (code, language)
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        assert used <= set(entry.facts), (code, language, used)
    assert 400 <= entry.http_status < 600


def test_a_message_is_filled_from_the_facts_on_the_error():
    error = ConflictError("piece 17 was re-issued meanwhile", code="piece_reissued", piece_id=17)
    assert message(error, "fr") == "La lettre 17 a déjà été réémise."
    assert message(error, "lb") == "De Bréif 17 gouf scho nei ausgestallt."
    assert message(error, "xx") == "Letter 17 has already been re-issued."
    assert http_status(error) == 409
    assert error.to_json() == {"code": "piece_reissued", "message": str(error), "piece_id": "17"}


def test_a_french_message_has_no_break_spaces_and_its_facts_are_shown_as_they_are():
    error = ConflictError("taken", code="job_name_taken", job="A : B")
    assert message(error, "fr") == (
        "Le travail d'impression A : B a été créé au même moment par une autre exécution\xa0: réessayez."
    )
    assert message(error, "de").endswith("angelegt: erneut versuchen.")
