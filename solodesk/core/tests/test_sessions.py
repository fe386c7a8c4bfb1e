"""`core.sessions.SessionStore` reads what Django's database backend reads: a live
session's data, nothing for an expired or unknown key."""

import datetime as dt

from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from solodesk.core.sessions import SessionStore


def test_a_live_session_loads_its_data(db):
    store = SessionStore()
    store["answer"] = 42
    store.create()

    loaded = SessionStore(session_key=store.session_key)

    assert loaded["answer"] == 42
    assert dict(loaded.items()) == dict(DjangoStore(session_key=store.session_key).items())


def test_an_expired_session_is_empty_and_forgets_its_key(db):
    store = SessionStore()
    store["answer"] = 42
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )

    loaded = SessionStore(session_key=store.session_key)

    assert loaded.load() == {}
    assert loaded.session_key is None


def test_an_unknown_or_malformed_key_is_empty(db):
    assert SessionStore(session_key="x" * 32).load() == {}
    assert SessionStore(session_key="short").load() == {}  # invalid: never queried


def test_logging_in_and_out_through_the_pages(owner, client):
    client.force_login(owner.user)
    assert client.get("/").status_code == 200
    client.logout()
    assert client.get("/").status_code == 302
