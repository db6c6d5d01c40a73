"""A masked ID number shows at most 4 characters and at most a third of the number, for the
kit's providers and for masks stored before the rule (migration 0009)."""
import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import select, update

import cowin_kit
from cowin_kit.plugins.builtin.ids.pe import PeruDni
from cowin_kit.registration.models import Beneficiary
from cowin_kit.toolkit import mask_tail, visible_chars

from helpers import add_member, web_login


def revealed(number: str, shown: str) -> int:
    """How many of the number's characters the mask shows in place (from the end)."""
    return sum(1 for a, b in zip(reversed(number), reversed(shown), strict=False)
               if a == b and b != "X")


@pytest.mark.parametrize("length", range(4, 21))
def test_a_mask_shows_at_most_a_third_and_at_most_four(length):
    number = "123456789ABCDEFGHJKL"[:length]
    shown = mask_tail(number)
    assert len(shown) == length
    assert revealed(number, shown) == min(4, length // 3) == visible_chars(length)
    assert revealed(number, shown) * 2 < length  # never half
    assert shown.startswith("X" * (length - min(4, length // 3)))


def test_a_peruvian_dni_shows_two_of_its_eight_digits():
    assert PeruDni().mask("40123456") == "XXXXXX56"


def test_very_short_numbers_show_nothing():
    assert mask_tail("7") == "X" and mask_tail("12") == "XX" and mask_tail("") == ""


def test_every_shipped_provider_masks_by_the_rule():
    from cowin_kit.plugins import discover

    providers = discover().group("cowin_kit.id_providers")
    assert len(providers) > 20
    for code, plugin in providers.items():
        cls = plugin.obj
        provider = cls()
        number = provider.validate(cls.example)
        normal = provider.normalize(number)
        shown = provider.mask(number)
        assert revealed(normal, shown) <= visible_chars(len(normal)), (code, number, shown)


def test_a_provider_that_shows_half_fails_the_contract():
    from cowin_kit.testing.contract import _mask_problems

    class Loose(PeruDni):
        def mask(self, number):
            return "XXXX" + number[-4:]

    assert _mask_problems(Loose(), "40123456", "XXXX3456")
    assert not _mask_problems(PeruDni(), "40123456", "XXXXXX56")


def _run_remask_migration(database):
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    versions = Path(cowin_kit.__file__).parent / "migrations/versions"
    path, = versions.glob("*_remask_id_numbers.py")
    spec = importlib.util.spec_from_file_location("remask_id_numbers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with database.engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            module.upgrade()


def test_masks_stored_before_are_masked_again(client, database, cowin_kit_instance):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    web_login(client, cowin_kit_instance)
    for number, name in (("40123456", "Ana Quispe"), ("10117410", "Luis Mamani")):
        assert add_member(client, number, name=name).status_code == 302
    with database.session() as s:  # as the kit stored them before: half of a DNI
        s.execute(update(Beneficiary).where(Beneficiary.name == "Ana Quispe")
                  .values(id_number_masked="XXXX3456"))
        s.execute(update(Beneficiary).where(Beneficiary.name == "Luis Mamani")
                  .values(id_number_masked="XXXX7410"))
        s.commit()
    assert "XXXX3456" in client.get("/portal/").get_data(as_text=True)

    _run_remask_migration(database)
    _run_remask_migration(database)  # twice: nothing more changes

    with database.session() as s:
        masks = dict(s.execute(select(Beneficiary.name, Beneficiary.id_number_masked)).all())
    assert masks == {"Ana Quispe": "XXXXXX56", "Luis Mamani": "XXXXXX10"}
    page = client.get("/portal/").get_data(as_text=True)
    assert "XXXXXX56" in page and "3456" not in page
