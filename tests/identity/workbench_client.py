"""Asking the tutor in a running workbench the way its page does: CSRF cookie and header."""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

OWN_SCENARIO = "/scenario/ai_tutor.0/"


@dataclass
class TutorPage:
    session: requests.Session
    url: str
    handler: str
    csrf: dict[str, str]

    def ask(self, question: str, bearer: str | None = None) -> requests.Response:
        headers = dict(self.csrf)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return self.session.post(
            self.handler.format("ask"), json={"question": question}, headers=headers, timeout=60
        )

    def reload(self) -> str:
        return self.session.get(self.url, timeout=30).text


def open_tutor(base: str, student: str) -> TutorPage:
    session = requests.Session()
    url = f"{base}{OWN_SCENARIO}?student={student}"
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    usage_id = re.search(r"data-usage='([^']*\.ai_tutor\.[^']*)'", page.text).group(1)
    return TutorPage(
        session=session,
        url=url,
        handler=f"{base}/handler/{usage_id}/{{}}/?student={student}",
        csrf={"X-CSRFToken": session.cookies["csrftoken"], "Referer": url},
    )
