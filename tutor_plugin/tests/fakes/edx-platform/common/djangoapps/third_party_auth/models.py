"""A fake of edx-platform's `OAuth2ProviderConfig`, stored in the JSON file $FAKE_PROVIDER_DB.

It keeps what the init task relies on: the real model's fields and their defaults (an
unknown field name is an error, as with Django), `current(backend_name)` returning the newest
record or an unsaved one, and `save()` inserting a new row when `pk` is None.
"""

from __future__ import annotations

import json
import os
from typing import Any

FIELDS: dict[str, Any] = {
    "id": None,
    "change_date": None,
    "changed_by": None,
    "enabled": False,
    "icon_class": "fa-sign-in",
    "icon_image": "",
    "name": "",
    "slug": "default",
    "secondary": False,
    "organization": None,
    "site_id": 1,
    "skip_hinted_login_dialog": False,
    "skip_registration_form": False,
    "skip_email_verification": False,
    "send_welcome_email": False,
    "visible": False,
    "max_session_length": None,
    "send_to_registration_first": False,
    "sync_learner_profile_data": False,
    "enable_sso_id_verification": False,
    "disable_for_enterprise_sso": False,
    "was_valid_at": None,
    "backend_name": "",
    "key": "",
    "secret": "",
    "other_settings": "",
}


def load_rows() -> list[dict[str, Any]]:
    path = os.environ["FAKE_PROVIDER_DB"]
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as db:
        return json.load(db)


def _store_rows(rows: list[dict[str, Any]]) -> None:
    with open(os.environ["FAKE_PROVIDER_DB"], "w", encoding="utf-8") as db:
        json.dump(rows, db, indent=2)


class OAuth2ProviderConfig:
    KEY_FIELDS = ("backend_name",)

    def __init__(self, **values: Any) -> None:
        for name, default in FIELDS.items():
            object.__setattr__(self, name, values.pop(name, default))
        if values:
            raise TypeError(f"OAuth2ProviderConfig() got unexpected fields {sorted(values)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "pk":
            name = "id"
        if name not in FIELDS:
            raise AttributeError(f"OAuth2ProviderConfig has no field {name!r}")
        object.__setattr__(self, name, value)

    @property
    def pk(self) -> int | None:
        return self.id  # type: ignore[attr-defined,no-any-return]

    @classmethod
    def current(cls, backend_name: str) -> OAuth2ProviderConfig:
        rows = [row for row in load_rows() if row["backend_name"] == backend_name]
        if not rows:
            return cls(backend_name=backend_name)
        return cls(**max(rows, key=lambda row: row["change_date"]))

    def save(self) -> None:
        rows = load_rows()
        values = {name: getattr(self, name) for name in FIELDS}
        if self.pk is None:
            values["id"] = len(rows) + 1
            values["change_date"] = len(rows) + 1
            rows.append(values)
        else:
            rows = [values if row["id"] == self.pk else row for row in rows]
        _store_rows(rows)
        object.__setattr__(self, "id", values["id"])
