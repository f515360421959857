"""English and Spanish: the catalogue covers every string, and a user's choice sticks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".venv", "node_modules", ".local", "staticfiles", "tests", "__pycache__"}


def test_spanish_catalogue_translates_every_string_in_the_code(tmp_path):
    """makemessages on a copy of the tree finds nothing new, fuzzy or untranslated."""
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=lambda d, names: [n for n in names if n in SKIP_DIRS])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "es",
            "--no-location",
            "--no-obsolete",
            "--ignore=staticfiles",
        ],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    po = copy / "locale/es/LC_MESSAGES/django.po"
    stats = subprocess.run(  # noqa: S603, S607 - gettext's msgfmt
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(po)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stderr.strip()
    assert "fuzzy" not in stats and "untranslated" not in stats, (
        f"{stats} - run makemessages -l es and translate the new strings"
    )


@pytest.mark.django_db
def test_choosing_spanish_changes_the_pages_and_is_remembered():
    client = Client()
    response = client.post(
        reverse("set_language"), {"language": "es", "next": reverse("accounts:login")}
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="es">' in page
    assert "Iniciar sesión en Safe Access" in page
    assert "Nombre de usuario" in page
    # A message built in Python (not a template) is translated too.
    page = client.post(
        reverse("accounts:login"), {"username": "x", "password": "y"}
    ).content.decode()
    assert "El nombre de usuario o la contraseña no son correctos" in page

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get(reverse("accounts:login")).content.decode()


@pytest.mark.django_db
def test_browser_language_is_the_default_choice():
    page = Client(headers={"accept-language": "es-US,es;q=0.9"}).get(reverse("accounts:login"))
    assert '<html lang="es">' in page.content.decode()


@pytest.mark.django_db
def test_an_offsite_next_after_changing_language_stays_on_site():
    response = Client().post(
        reverse("set_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
